package aws

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"diffuser/cloud"
)

// Tag keys diffuser puts on what it creates.
const (
	tagCluster = "diffuser:cluster"
	tagGroup   = "diffuser:group"
	tagIndex   = "diffuser:index"   // single-instance launches
	tagIndexes = "diffuser:indexes" // the host indexes of a launch, by AmiLaunchIndex
)

// sshPort is the port diffuser dials; the security group opens it.
const sshPort = 22

// Provider is the aws provider. It is safe for concurrent use: Launch calls
// for one host group share one RunInstances call and one waiter (see
// launch.go); Status, Start and Destroy calls share batched API rounds.
//
// Lock order: mu is never held while calling EC2 or while waiting.
type Provider struct {
	ec2    *ec2.Client
	region string
	set    settings
	keys   cloud.Keys
	log    func(string, ...any)
	opts   options

	mu     sync.Mutex
	groups map[string]*groupState // by cluster + "\x00" + group
	// importedTags: per instance Import tagged, the values its tags had
	// before (nil: none), for UndoImport.
	importedTags map[string]map[string]*string

	vpcs     memo[string]
	sgs      memo[string] // cluster + "\x00" + vpc → group id
	keyPairs memo[string] // cluster → key name
	images   memo[image]
	types    memo[typeInfo]

	describe  *batcher[string, types.Instance]
	start     *batcher[string, types.Instance]
	terminate *batcher[destroyItem, error]

	fw firewall // what the cluster's security groups admit from other providers (firewall.go)
}

func newProvider(client *ec2.Client, region string, s settings, keys cloud.Keys, logf func(string, ...any), o options) *Provider {
	p := &Provider{ec2: client, region: region, set: s, keys: keys, log: logf, opts: o, groups: map[string]*groupState{}}
	p.describe = &batcher[string, types.Instance]{window: o.batchWindow, max: 1000, run: p.describeByID}
	p.start = &batcher[string, types.Instance]{window: o.batchWindow, max: 1000, run: p.startBatch}
	p.terminate = &batcher[destroyItem, error]{window: o.batchWindow, max: 1000, run: p.destroyBatch}
	return p
}

// Name returns "aws".
func (p *Provider) Name() string { return Name }

// hostConfig is the provider settings overlaid with the host's own
// (HostSpec.Settings, where the engine merged group overrides) and then
// with this provider's `groups` entry for the host's group.
func (p *Provider) hostConfig(spec cloud.HostSpec) (hostConfig, error) {
	hc, groups := p.set.Host, p.set.Groups
	if !spec.Settings.IsNull() {
		s, err := decodeSettings(spec.Settings)
		if err != nil {
			return hostConfig{}, fmt.Errorf("host %s settings: %w", spec.Name, err)
		}
		hc = hc.merge(s.Host)
		if s.Groups != nil {
			groups = s.Groups
		}
	}
	if o, ok := groups[spec.Group]; ok {
		var err error
		if hc, err = hc.override(o); err != nil {
			return hostConfig{}, fmt.Errorf("groups.%s: %w", spec.Group, err)
		}
	}
	if err := hc.validate("host "+spec.Name, p.set.Endpoint != ""); err != nil {
		return hostConfig{}, err
	}
	return hc.withDefaults(), nil
}

// buildHost turns a running instance into the engine's Host. Volumes are
// matched by requested device name, in the order of spec.Volumes.
func (p *Provider) buildHost(inst types.Instance, spec cloud.HostSpec, hc hostConfig, user string, nitro bool) (cloud.Host, error) {
	id := aws.ToString(inst.InstanceId)
	h := cloud.Host{
		ProviderID: id,
		PrivateIP:  aws.ToString(inst.PrivateIpAddress),
		PublicIP:   aws.ToString(inst.PublicIpAddress),
		SSHPort:    sshPort,
		SSHUser:    user,
		Volumes:    map[string]cloud.Volume{},
		Attrs: map[string]string{
			"instance_type": string(inst.InstanceType),
			"image_id":      aws.ToString(inst.ImageId),
			"subnet_id":     aws.ToString(inst.SubnetId),
			"vpc_id":        aws.ToString(inst.VpcId),
			"private_dns":   aws.ToString(inst.PrivateDnsName),
			"region":        p.region,
		},
	}
	if inst.Placement != nil {
		h.Attrs["availability_zone"] = aws.ToString(inst.Placement.AvailabilityZone)
	}
	h.SSHAddress = p.sshAddress(h, hc)
	for i, v := range spec.Volumes {
		dev := requestedDevice(i)
		var volID string
		for _, m := range inst.BlockDeviceMappings {
			if sameDevice(aws.ToString(m.DeviceName), dev) && m.Ebs != nil {
				volID = aws.ToString(m.Ebs.VolumeId)
			}
		}
		if volID == "" {
			return cloud.Host{}, fmt.Errorf("instance %s (%s) has no volume %q at %s: it was launched without it; replace the host", id, spec.Name, v.Name, dev)
		}
		h.Volumes[v.Name] = cloud.Volume{Device: devicePath(nitro, dev, volID), ProviderID: volID, SizeGB: v.SizeGB}
	}
	return h, nil
}

// sshAddress picks the address diffuser dials: the private one with
// use_private_ip, else the public one, else (no public address: a private
// subnet) the private one; launchGroup warns about the latter once per group.
func (p *Provider) sshAddress(h cloud.Host, hc hostConfig) string {
	if hc.UsePrivateIP || h.PublicIP == "" {
		return h.PrivateIP
	}
	return h.PublicIP
}

// Status reports a recorded host's state: pending and running are Running,
// stopping and stopped are Stopped, shutting-down, terminated and unknown
// are Missing. Concurrent calls share one DescribeInstances.
func (p *Provider) Status(ctx context.Context, spec cloud.HostSpec, h cloud.Host) (cloud.Status, error) {
	if h.ProviderID == "" {
		return cloud.Missing, nil
	}
	inst, found, err := p.describe.do(ctx, h.ProviderID, h.ProviderID)
	if err != nil {
		return "", fmt.Errorf("status of %s (%s): %w", spec.Name, h.ProviderID, err)
	}
	st := cloud.Missing
	if found && inst.State != nil {
		st = statusOf(inst.State.Name)
	}
	if st != cloud.Running {
		p.forgetReady(spec)
	}
	return st, nil
}

func statusOf(s types.InstanceStateName) cloud.Status {
	switch s {
	case types.InstanceStateNamePending, types.InstanceStateNameRunning:
		return cloud.Running
	case types.InstanceStateNameStopping, types.InstanceStateNameStopped:
		return cloud.Stopped
	}
	return cloud.Missing
}

// describeByID describes instances by id through an instance-id filter,
// which leaves unknown ids out instead of failing the whole call.
func (p *Provider) describeByID(ctx context.Context, ids []string) (map[string]types.Instance, error) {
	out := map[string]types.Instance{}
	for _, chunk := range chunks(ids, 1000) {
		pages := ec2.NewDescribeInstancesPaginator(p.ec2, &ec2.DescribeInstancesInput{
			Filters: []types.Filter{{Name: aws.String("instance-id"), Values: chunk}},
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe instances: %w", err)
			}
			for _, r := range page.Reservations {
				for _, inst := range r.Instances {
					out[aws.ToString(inst.InstanceId)] = inst
				}
			}
		}
	}
	return out, nil
}

// Start starts a stopped host and waits until it runs. A stopped instance
// gets a new public address, so the returned Host carries fresh addresses.
func (p *Provider) Start(ctx context.Context, spec cloud.HostSpec, h cloud.Host) (cloud.Host, error) {
	hc, err := p.hostConfig(spec)
	if err != nil {
		return cloud.Host{}, err
	}
	inst, found, err := p.start.do(ctx, h.ProviderID, h.ProviderID)
	if err != nil {
		return cloud.Host{}, fmt.Errorf("start %s (%s): %w", spec.Name, h.ProviderID, err)
	}
	if !found || inst.State == nil || inst.State.Name != types.InstanceStateNameRunning {
		return cloud.Host{}, fmt.Errorf("start %s (%s): instance is gone or did not reach running", spec.Name, h.ProviderID)
	}
	h.PrivateIP = aws.ToString(inst.PrivateIpAddress)
	h.PublicIP = aws.ToString(inst.PublicIpAddress)
	h.SSHAddress = p.sshAddress(h, hc)
	return h, nil
}

// startBatch starts the stopped instances among ids (waiting for stopping
// ones to stop first) and waits until all of them run.
func (p *Provider) startBatch(ctx context.Context, ids []string) (map[string]types.Instance, error) {
	cur, err := p.describeByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	if err := p.startInstances(ctx, cur); err != nil {
		return nil, err
	}
	live := make([]string, 0, len(cur))
	for id := range cur {
		live = append(live, id)
	}
	return p.waitRunning(ctx, live)
}

// startInstances starts the stopped and stopping instances of insts.
func (p *Provider) startInstances(ctx context.Context, insts map[string]types.Instance) error {
	var stopping, toStart []string
	for id, inst := range insts {
		switch inst.State.Name {
		case types.InstanceStateNameStopping:
			stopping = append(stopping, id)
			toStart = append(toStart, id)
		case types.InstanceStateNameStopped:
			toStart = append(toStart, id)
		}
	}
	if len(stopping) > 0 {
		w := ec2.NewInstanceStoppedWaiter(p.ec2, func(o *ec2.InstanceStoppedWaiterOptions) {
			o.MinDelay, o.MaxDelay = p.opts.pollMin, p.opts.pollMax
		})
		if err := w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: stopping}, p.opts.maxWait); err != nil {
			return fmt.Errorf("wait for %d instances to stop before starting them: %w", len(stopping), err)
		}
	}
	for _, chunk := range chunks(toStart, 1000) {
		if _, err := p.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: chunk}, retryNotFound); err != nil {
			return fmt.Errorf("start %d instances: %w", len(chunk), err)
		}
	}
	return nil
}

// waitRunning waits until none of ids is pending and returns them as last
// described. Instances that died (shutting-down, terminated) or stopped
// are in the answer with that state; ids EC2 never showed are absent.
// It is ec2.NewInstanceRunningWaiter with a success rule that does not
// fail the whole group when one instance dies.
func (p *Provider) waitRunning(ctx context.Context, ids []string) (map[string]types.Instance, error) {
	out := map[string]types.Instance{}
	w := ec2.NewInstanceRunningWaiter(p.ec2, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = p.opts.pollMin, p.opts.pollMax
		o.ClientOptions = append(o.ClientOptions, retryNotFound)
		o.Retryable = settled
	})
	for _, chunk := range chunks(ids, 1000) {
		res, err := w.WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: chunk}, p.opts.maxWait)
		if err != nil {
			return nil, fmt.Errorf("wait for %d instances to run: %w", len(chunk), err)
		}
		for _, r := range res.Reservations {
			for _, inst := range r.Instances {
				out[aws.ToString(inst.InstanceId)] = inst
			}
		}
	}
	return out, nil
}

// settled is the running waiter's rule: retry while EC2 does not know an
// instance yet (InvalidInstanceID.NotFound, or fewer instances than asked)
// or any is pending or stopping; done otherwise.
func settled(_ context.Context, in *ec2.DescribeInstancesInput, out *ec2.DescribeInstancesOutput, err error) (bool, error) {
	if err != nil {
		if errorCode(err) == codeInstanceNotFound {
			return true, nil
		}
		return false, err
	}
	n := 0
	for _, r := range out.Reservations {
		for _, inst := range r.Instances {
			n++
			if inst.State == nil {
				return true, nil
			}
			switch inst.State.Name {
			case types.InstanceStateNamePending, types.InstanceStateNameStopping:
				return true, nil
			}
		}
	}
	return n < len(in.InstanceIds), nil
}

func chunks[T any](list []T, size int) [][]T {
	var out [][]T
	for len(list) > size {
		out = append(out, list[:size])
		list = list[size:]
	}
	if len(list) > 0 {
		out = append(out, list)
	}
	return out
}

// tagList turns a map into EC2 tags, sorted by key.
func tagList(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func tagValue(tags []types.Tag, key string) (string, bool) {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value), true
		}
	}
	return "", false
}

// readyTTL bounds how long a launched host waits for its Launch call.
const readyTTL = 10 * time.Minute

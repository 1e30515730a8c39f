package aws

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"diffuser/cloud"
)

// launchPlan is what a group launch resolved before touching instances.
type launchPlan struct {
	spec    cloud.HostSpec
	hc      hostConfig
	cluster clusterInfo
	image   image
	user    string
	nitro   bool
}

// launchGroup adopts or launches hosts [0, spec.Count) of spec's group and
// returns the running ones by index. Hosts it could not bring up are
// missing from the map and named in the error.
func (p *Provider) launchGroup(ctx context.Context, spec cloud.HostSpec, hc hostConfig) (map[int]cloud.Host, error) {
	plan, err := p.plan(ctx, spec, hc)
	if err != nil {
		return nil, err
	}
	existing, err := p.findGroup(ctx, spec.Cluster, spec.Group, spec.Count)
	if err != nil {
		return nil, err
	}
	if err := p.startInstances(ctx, existing); err != nil {
		return nil, fmt.Errorf("start adopted instances: %w", err)
	}
	byIndex := map[int]string{} // the instance chosen for each index
	idx := map[string]int{}     // the index of every instance seen
	for id, inst := range existing {
		i, _ := instanceIndex(inst)
		byIndex[i], idx[id] = id, i
	}
	if len(existing) > 0 {
		p.log("aws: %s/%s: adopting %d existing instance(s)", spec.Cluster, spec.Group, len(existing))
	}

	hosts := map[int]cloud.Host{}
	var failed []string
	gen := 0
	known := map[string]types.Instance{} // last described states, by id
	settled := map[string]bool{}         // ids already judged
	var wait []string
	for id, inst := range existing {
		if inst.State != nil && inst.State.Name == types.InstanceStateNameRunning {
			known[id] = inst
		} else {
			wait = append(wait, id)
		}
	}
	for round := 0; ; round++ {
		var missing []int
		for i := range spec.Count {
			if _, ok := byIndex[i]; !ok {
				missing = append(missing, i)
			}
		}
		if len(missing) > 0 {
			launched, err := p.runInstances(ctx, plan, missing, &gen)
			if err != nil {
				return hosts, err
			}
			for i, id := range launched {
				byIndex[i], idx[id] = id, i
				wait = append(wait, id)
			}
		}
		if len(wait) > 0 {
			states, err := p.waitRunning(ctx, wait)
			if err != nil {
				return hosts, err
			}
			for id, inst := range states {
				known[id] = inst
			}
			wait = nil
		}
		dead := 0
		for _, id := range sortedKeys(idx) {
			i := idx[id]
			if settled[id] || byIndex[i] != id {
				continue
			}
			inst, ok := known[id]
			settled[id] = true
			state := types.InstanceStateName("unknown")
			if ok && inst.State != nil {
				state = inst.State.Name
			}
			switch state {
			case types.InstanceStateNameRunning:
				h, err := p.buildHost(inst, spec, plan.hc, plan.user, plan.nitro)
				if err != nil {
					failed = append(failed, err.Error())
					continue
				}
				hosts[i] = h
			case types.InstanceStateNameShuttingDown, types.InstanceStateNameTerminated:
				reason := ""
				if ok && inst.StateReason != nil {
					reason = ": " + aws.ToString(inst.StateReason.Message)
				}
				p.log("aws: %s/%s[%d]: instance %s died while launching (%s%s)", spec.Cluster, spec.Group, i, id, state, reason)
				delete(byIndex, i)
				dead++
			default:
				failed = append(failed, fmt.Sprintf("%s[%d] (%s) is %s, not running", spec.Group, i, id, state))
			}
		}
		if dead == 0 {
			break
		}
		if round+1 >= maxRounds {
			failed = append(failed, fmt.Sprintf("%d instance(s) of %s died while launching, %d times in a row", dead, spec.Group, maxRounds))
			break
		}
		gen++ // replacements must not replay the dead instances' token
	}
	if !hc.UsePrivateIP {
		private := 0
		for _, h := range hosts {
			if h.PublicIP == "" {
				private++
			}
		}
		if private > 0 {
			p.log("aws: %s/%s: %d host(s) have no public address; dialing their private address (set use_private_ip = true to say so, or associate_public_ip = true)", spec.Cluster, spec.Group, private)
		}
	}
	if len(failed) > 0 {
		return hosts, fmt.Errorf("%s", strings.Join(failed, "; "))
	}
	return hosts, nil
}

// plan resolves everything a group launch needs before RunInstances.
func (p *Provider) plan(ctx context.Context, spec cloud.HostSpec, hc hostConfig) (launchPlan, error) {
	pl := launchPlan{spec: spec, hc: hc, user: hc.SSHUser}
	var err error
	if pl.cluster, err = p.clusterSetup(ctx, spec.Cluster, hc); err != nil {
		return pl, err
	}
	needType := !strings.HasPrefix(hc.Image, "ami-") || (p.set.DeviceNaming == "auto" && len(spec.Volumes) > 0)
	ti := typeInfo{nitro: p.set.DeviceNaming == "nitro", arch: "amd64"}
	if needType {
		if ti, err = p.instanceType(ctx, hc.InstanceType); err != nil {
			return pl, err
		}
		if p.set.DeviceNaming != "auto" {
			ti.nitro = p.set.DeviceNaming == "nitro"
		}
	}
	pl.nitro = ti.nitro
	if pl.image, err = p.resolveImage(ctx, hc.Image, ti.arch, hc.SSHUser == ""); err != nil {
		return pl, err
	}
	if pl.user == "" {
		pl.user = pl.image.user
	}
	return pl, nil
}

// findGroup returns the live instances of a group with an index below
// count, one per index (when two claim one, the running or older wins and
// the other is reported; Cleanup terminates it with the cluster).
func (p *Provider) findGroup(ctx context.Context, cluster, group string, count int) (map[string]types.Instance, error) {
	pages := ec2.NewDescribeInstancesPaginator(p.ec2, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("tag:" + tagCluster), Values: []string{cluster}},
		{Name: aws.String("tag:" + tagGroup), Values: []string{group}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}},
	}})
	best := map[int]types.Instance{}
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("find instances of %s/%s: %w", cluster, group, err)
		}
		for _, r := range page.Reservations {
			for _, inst := range r.Instances {
				i, ok := instanceIndex(inst)
				if !ok {
					p.log("aws: instance %s is tagged %s=%s but has no readable host index; ignoring it", aws.ToString(inst.InstanceId), tagCluster, cluster)
					continue
				}
				if i >= count {
					continue
				}
				if old, dup := best[i]; dup {
					keep, drop := old, inst
					if preferInstance(inst, old) {
						keep, drop = inst, old
					}
					p.log("aws: %s/%s[%d]: two instances (%s, %s); using %s", cluster, group, i, aws.ToString(keep.InstanceId), aws.ToString(drop.InstanceId), aws.ToString(keep.InstanceId))
					inst = keep
				}
				best[i] = inst
			}
		}
	}
	out := make(map[string]types.Instance, len(best))
	for _, inst := range best {
		out[aws.ToString(inst.InstanceId)] = inst
	}
	return out, nil
}

func preferInstance(a, b types.Instance) bool {
	rank := func(i types.Instance) int {
		if i.State != nil && i.State.Name == types.InstanceStateNameRunning {
			return 0
		}
		return 1
	}
	if rank(a) != rank(b) {
		return rank(a) < rank(b)
	}
	return aws.ToTime(a.LaunchTime).Before(aws.ToTime(b.LaunchTime))
}

// runInstances launches the missing indexes, one RunInstances per chunk of
// indexes whose list fits a tag value (one chunk unless indexes are very
// scattered), and returns instance ids by index. A client token whose
// instances already died (an earlier generation's) or whose parameters
// changed moves *gen forward.
func (p *Provider) runInstances(ctx context.Context, pl launchPlan, missing []int, gen *int) (map[int]string, error) {
	out := map[int]string{}
	for _, chunk := range indexChunks(missing) {
		for {
			if *gen >= maxGenerations {
				return out, fmt.Errorf("launch %s/%s: %d client-token generations used up", pl.spec.Cluster, pl.spec.Group, maxGenerations)
			}
			token := clientToken(pl.spec.Cluster, pl.spec.Group, *gen, chunk)
			res, err := p.ec2.RunInstances(ctx, p.runInput(pl, chunk, token))
			if errorCode(err) == codeParameterMismatch {
				*gen++
				continue
			}
			if err != nil {
				return out, fmt.Errorf("launch %d instance(s) of %s/%s: %w", len(chunk), pl.spec.Cluster, pl.spec.Group, err)
			}
			if replayOfDead(res.Instances) {
				*gen++
				continue
			}
			for _, inst := range res.Instances {
				n := int(aws.ToInt32(inst.AmiLaunchIndex))
				if n < 0 || n >= len(chunk) {
					return out, fmt.Errorf("launch %s/%s: instance %s has launch index %d of %d", pl.spec.Cluster, pl.spec.Group, aws.ToString(inst.InstanceId), n, len(chunk))
				}
				out[chunk[n]] = aws.ToString(inst.InstanceId)
			}
			p.log("aws: %s/%s: launched %d instance(s) as %s", pl.spec.Cluster, pl.spec.Group, len(res.Instances), aws.ToString(res.ReservationId))
			break
		}
	}
	return out, nil
}

// replayOfDead reports whether RunInstances answered with an old
// reservation whose instances are already gone.
func replayOfDead(insts []types.Instance) bool {
	for _, inst := range insts {
		if inst.State != nil && (inst.State.Name == types.InstanceStateNameTerminated || inst.State.Name == types.InstanceStateNameShuttingDown) {
			return true
		}
	}
	return false
}

func (p *Provider) runInput(pl launchPlan, indexes []int, token string) *ec2.RunInstancesInput {
	spec, hc := pl.spec, pl.hc
	n := int32(len(indexes))
	name := "diffuser-" + spec.Cluster + "-" + spec.Group
	tags := map[string]string{}
	for k, v := range hc.Tags {
		tags[k] = v
	}
	tags[tagCluster], tags[tagGroup], tags["Name"] = spec.Cluster, spec.Group, name
	volTags := map[string]string{}
	for k, v := range tags {
		volTags[k] = v
	}
	tags[tagIndexes] = encodeIndexes(indexes)
	if len(indexes) == 1 {
		tags[tagIndex] = strconv.Itoa(indexes[0])
		tags["Name"] = fmt.Sprintf("%s-%d", name, indexes[0])
	}
	in := &ec2.RunInstancesInput{
		ImageId:      aws.String(pl.image.id),
		InstanceType: types.InstanceType(hc.InstanceType),
		MinCount:     aws.Int32(n),
		MaxCount:     aws.Int32(n),
		ClientToken:  aws.String(token),
		KeyName:      aws.String(pl.cluster.keyName),
		// IMDSv2 only: a process on the host that can be made to fetch a
		// URL (SSRF) cannot read the instance's credentials with a plain GET.
		MetadataOptions: &types.InstanceMetadataOptionsRequest{
			HttpTokens:   types.HttpTokensStateRequired,
			HttpEndpoint: types.InstanceMetadataEndpointStateEnabled,
		},
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeInstance, Tags: tagList(tags)},
		},
	}
	if !spec.Expires.IsZero() {
		expireAt(in, tags, spec.Expires)
		in.TagSpecifications[0].Tags = tagList(tags)
	}
	for i, v := range spec.Volumes {
		ebs := &types.EbsBlockDevice{
			VolumeSize:          aws.Int32(int32(v.SizeGB)),
			VolumeType:          types.VolumeType(hc.VolumeType),
			DeleteOnTermination: aws.Bool(true),
			// Explicit, not left to the account's encryption-by-default:
			// the volumes hold the filesystem's data (the account's
			// default KMS key, aws/ebs, unless the account sets another).
			Encrypted: aws.Bool(true),
		}
		if v.Type != "" {
			ebs.VolumeType = types.VolumeType(v.Type)
		}
		if v.IOPS > 0 {
			ebs.Iops = aws.Int32(int32(v.IOPS))
		}
		in.BlockDeviceMappings = append(in.BlockDeviceMappings, types.BlockDeviceMapping{DeviceName: aws.String(requestedDevice(i)), Ebs: ebs})
	}
	if len(spec.Volumes) > 0 {
		in.TagSpecifications = append(in.TagSpecifications, types.TagSpecification{ResourceType: types.ResourceTypeVolume, Tags: tagList(volTags)})
	}
	if hc.AssociatePublicIP != nil {
		// An explicit choice needs a network interface specification, which
		// then carries the subnet and security group.
		nic := types.InstanceNetworkInterfaceSpecification{
			DeviceIndex:              aws.Int32(0),
			AssociatePublicIpAddress: hc.AssociatePublicIP,
			Groups:                   []string{pl.cluster.groupID},
		}
		if hc.SubnetID != "" {
			nic.SubnetId = aws.String(hc.SubnetID)
		}
		in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{nic}
	} else {
		in.SecurityGroupIds = []string{pl.cluster.groupID}
		if hc.SubnetID != "" {
			in.SubnetId = aws.String(hc.SubnetID)
		}
	}
	return in
}

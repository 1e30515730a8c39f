package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"diffuser/cloud"
)

// How Launch works
//
// The engine calls Launch once per host, concurrently. The first call for a
// host group starts a group launch in its own goroutine; calls arriving
// while it runs join it. A group launch
//
//  1. makes sure the cluster's security group and key pair exist,
//  2. resolves the image (and the instance type, for arch and Nitro),
//  3. adopts what exists: DescribeInstances filtered by diffuser:cluster,
//     diffuser:group and a live state; each instance's host index is read
//     from its tags (see instanceIndex); stopped ones are started,
//  4. launches every missing index of [0, Count) with ONE RunInstances per
//     group (MinCount = MaxCount = missing), whose ClientToken is derived
//     from cluster, group, generation and the missing indexes, so a retry
//     or a re-run after a crash gets the same reservation back instead of
//     new instances,
//  5. waits with ec2.NewInstanceRunningWaiter (one poll per group, not per
//     host); an instance that died while pending is relaunched under the
//     next generation, up to maxRounds times.
//
// Its results are parked per index; each Launch call takes its own. API
// calls thus grow with host groups and waiter polls, not with hosts.
//
// A launch cannot tag instances one by one without one CreateTags call per
// instance, so every instance of a reservation carries the same tags:
// diffuser:indexes lists the host indexes launched ("0-499" or "3,7-9") and
// an instance's index is the entry at its AmiLaunchIndex. A single-instance
// launch also gets diffuser:index and a per-host Name.

// maxRounds bounds relaunches of instances that die while pending.
const maxRounds = 3

// maxGenerations bounds how far a launch walks past client tokens whose
// instances already terminated.
const maxGenerations = 32

// groupState is the coalescing state of one host group. Guarded by Provider.mu.
type groupState struct {
	inflight *groupOp
	ready    map[int]readyHost
}

type readyHost struct {
	host cloud.Host
	at   time.Time
}

// groupOp is one group launch. err is written before done is closed.
type groupOp struct {
	done    chan struct{}
	err     error
	waiters int
	cancel  context.CancelFunc
}

// Launch returns the running host for spec, launching or adopting its whole
// group on the first call (see "How Launch works" above).
func (p *Provider) Launch(ctx context.Context, spec cloud.HostSpec) (cloud.Host, error) {
	if spec.Cluster == "" || spec.Group == "" || spec.Index < 0 || spec.Index >= spec.Count {
		return cloud.Host{}, fmt.Errorf("launch %q: bad host identity (cluster %q, group %q, index %d of %d)", spec.Name, spec.Cluster, spec.Group, spec.Index, spec.Count)
	}
	if len(spec.Volumes) > maxVolumes {
		return cloud.Host{}, fmt.Errorf("launch %s: %d volumes, at most %d fit in /dev/sdf../dev/sdp", spec.Name, len(spec.Volumes), maxVolumes)
	}
	hc, err := p.hostConfig(spec)
	if err != nil {
		return cloud.Host{}, fmt.Errorf("launch %s: %w", spec.Name, err)
	}
	key := spec.Cluster + "\x00" + spec.Group
	for range 2 {
		p.mu.Lock()
		g := p.groups[key]
		if g == nil {
			g = &groupState{ready: map[int]readyHost{}}
			p.groups[key] = g
		}
		if h, ok := g.take(spec.Index); ok {
			p.mu.Unlock()
			return h, nil
		}
		op := g.inflight
		if op == nil {
			op = p.startGroupOp(ctx, g, spec, hc)
		}
		op.waiters++
		p.mu.Unlock()

		select {
		case <-op.done:
		case <-ctx.Done():
			p.mu.Lock()
			op.waiters--
			if op.waiters == 0 {
				op.cancel()
			}
			p.mu.Unlock()
			return cloud.Host{}, fmt.Errorf("launch %s: %w", spec.Name, ctx.Err())
		}
		p.mu.Lock()
		op.waiters--
		h, ok := g.take(spec.Index)
		p.mu.Unlock()
		if ok {
			return h, nil
		}
		if op.err != nil {
			return cloud.Host{}, fmt.Errorf("launch %s in cluster %s: %w", spec.Name, spec.Cluster, op.err)
		}
		// The group launch did not cover this index (another Count): go again.
	}
	return cloud.Host{}, fmt.Errorf("launch %s in cluster %s: the group launch produced no host %d", spec.Name, spec.Cluster, spec.Index)
}

// take removes and returns the parked host for index. Caller holds p.mu.
func (g *groupState) take(index int) (cloud.Host, bool) {
	r, ok := g.ready[index]
	if !ok {
		return cloud.Host{}, false
	}
	delete(g.ready, index)
	if time.Since(r.at) > readyTTL {
		return cloud.Host{}, false
	}
	return r.host, true
}

// startGroupOp starts a group launch detached from ctx; it is cancelled
// only when every caller waiting on it has gone. Caller holds p.mu.
func (p *Provider) startGroupOp(ctx context.Context, g *groupState, spec cloud.HostSpec, hc hostConfig) *groupOp {
	opCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	op := &groupOp{done: make(chan struct{}), cancel: cancel}
	g.inflight = op
	go func() {
		defer cancel()
		hosts, err := p.launchGroup(opCtx, spec, hc)
		p.mu.Lock()
		now := time.Now()
		for i, r := range g.ready {
			if now.Sub(r.at) > readyTTL {
				delete(g.ready, i)
			}
		}
		for i, h := range hosts {
			g.ready[i] = readyHost{h, now}
		}
		op.err = err
		g.inflight = nil
		p.mu.Unlock()
		close(op.done)
	}()
	return op
}

// forgetReady drops a parked host, so a later Launch looks again.
func (p *Provider) forgetReady(spec cloud.HostSpec) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if g := p.groups[spec.Cluster+"\x00"+spec.Group]; g != nil {
		delete(g.ready, spec.Index)
	}
}

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
	known := map[string]types.Instance{} // settled states, by id
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
			if _, done := hosts[i]; done || byIndex[i] != id {
				continue
			}
			inst, ok := known[id]
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

// instanceIndex reads a host index from an instance's tags: diffuser:index
// if present, else entry AmiLaunchIndex of diffuser:indexes.
func instanceIndex(inst types.Instance) (int, bool) {
	if v, ok := tagValue(inst.Tags, tagIndex); ok {
		i, err := strconv.Atoi(v)
		return i, err == nil && i >= 0
	}
	v, ok := tagValue(inst.Tags, tagIndexes)
	if !ok {
		return 0, false
	}
	list, err := decodeIndexes(v)
	n := int(aws.ToInt32(inst.AmiLaunchIndex))
	if err != nil || n < 0 || n >= len(list) {
		return 0, false
	}
	return list[n], true
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
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeInstance, Tags: tagList(tags)},
		},
	}
	for i, v := range spec.Volumes {
		ebs := &types.EbsBlockDevice{
			VolumeSize:          aws.Int32(int32(v.SizeGB)),
			VolumeType:          types.VolumeType(hc.VolumeType),
			DeleteOnTermination: aws.Bool(true),
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

// clientToken is the RunInstances idempotency token (at most 64 ASCII
// characters): the same cluster, group, generation and indexes always give
// the same token, so EC2 returns the first call's reservation instead of
// launching again.
func clientToken(cluster, group string, gen int, indexes []int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d\x00%s", cluster, group, gen, encodeIndexes(indexes))))
	return fmt.Sprintf("diffuser-g%d-%s", gen, hex.EncodeToString(sum[:])[:40])
}

// encodeIndexes writes sorted indexes as ranges: [0 1 2 5 7 8] → "0-2,5,7-8".
func encodeIndexes(list []int) string {
	sorted := append([]int(nil), list...)
	sort.Ints(sorted)
	var b strings.Builder
	for i := 0; i < len(sorted); {
		j := i
		for j+1 < len(sorted) && sorted[j+1] == sorted[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(sorted[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(sorted[j]))
		}
		i = j + 1
	}
	return b.String()
}

func decodeIndexes(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("index list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("index list %q: bad range %q", s, part)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

// maxTagValue is EC2's limit on a tag value's length.
const maxTagValue = 256

// indexChunks splits sorted indexes so each chunk's encoding fits a tag value.
func indexChunks(list []int) [][]int {
	sorted := append([]int(nil), list...)
	sort.Ints(sorted)
	var out [][]int
	start := 0
	for start < len(sorted) {
		end := start + 1
		for end < len(sorted) && len(encodeIndexes(sorted[start:end+1])) <= maxTagValue {
			end++
		}
		out = append(out, sorted[start:end])
		start = end
	}
	return out
}

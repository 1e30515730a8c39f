package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"diffuser/cloud"
)

// destroyItem is one Destroy call in a batch.
type destroyItem struct {
	cluster    string
	instanceID string
	volumeIDs  []string // as recorded in the Host
}

// Destroy terminates the host, waits until it is terminated, and deletes
// its volumes that EC2 does not delete with it (diffuser launches them
// delete-on-termination; this catches ones changed since). A host that is
// already gone is not an error. An instance not tagged with the host's
// cluster is refused, whatever state says. Concurrent calls share one
// TerminateInstances and one waiter.
func (p *Provider) Destroy(ctx context.Context, spec cloud.HostSpec, h cloud.Host) error {
	p.forgetReady(spec)
	if h.ProviderID == "" {
		return nil
	}
	item := destroyItem{cluster: spec.Cluster, instanceID: h.ProviderID}
	for _, v := range h.Volumes {
		if v.ProviderID != "" {
			item.volumeIDs = append(item.volumeIDs, v.ProviderID)
		}
	}
	itemErr, _, err := p.terminate.do(ctx, h.ProviderID, item)
	if err == nil {
		err = itemErr
	}
	if err != nil {
		return fmt.Errorf("destroy %s (%s): %w", spec.Name, h.ProviderID, err)
	}
	return nil
}

// destroyBatch serves a batch of Destroy calls: one describe, one
// TerminateInstances, one terminated waiter, at most one DescribeVolumes.
// The map holds per-host refusals; the error fails the whole batch.
func (p *Provider) destroyBatch(ctx context.Context, items []destroyItem) (map[string]error, error) {
	perHost := map[string]error{}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.instanceID)
	}
	cur, err := p.describeByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	var kill, wait []string
	volumes := map[string]bool{} // candidates for deletion
	clusters := map[string]bool{}
	for _, it := range items {
		inst, ok := cur[it.instanceID]
		if ok {
			if v, _ := tagValue(inst.Tags, tagCluster); v != it.cluster {
				perHost[it.instanceID] = fmt.Errorf("instance is tagged %s=%q, not %q: refusing to terminate it", tagCluster, v, it.cluster)
				continue
			}
		}
		clusters[it.cluster] = true
		if !ok {
			// Gone already: its recorded volumes may have outlived it.
			for _, v := range it.volumeIDs {
				volumes[v] = true
			}
			continue
		}
		for _, m := range inst.BlockDeviceMappings {
			if m.Ebs != nil && !aws.ToBool(m.Ebs.DeleteOnTermination) {
				volumes[aws.ToString(m.Ebs.VolumeId)] = true
			}
		}
		switch inst.State.Name {
		case types.InstanceStateNameTerminated:
		case types.InstanceStateNameShuttingDown:
			wait = append(wait, it.instanceID)
		default:
			kill = append(kill, it.instanceID)
			wait = append(wait, it.instanceID)
		}
	}
	sort.Strings(kill)
	for _, chunk := range chunks(kill, 1000) {
		if _, err := p.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: chunk}); err != nil {
			return nil, fmt.Errorf("terminate %d instances: %w", len(chunk), err)
		}
	}
	if len(kill) > 0 {
		p.log("aws: terminating %d instance(s)", len(kill))
	}
	if err := p.waitTerminated(ctx, wait); err != nil {
		return nil, err
	}
	if err := p.deleteVolumes(ctx, sortedKeys(volumes), sortedKeys(clusters)); err != nil {
		return nil, err
	}
	return perHost, nil
}

// waitTerminated waits until none of ids is alive, with
// ec2.NewInstanceTerminatedWaiter over an instance-id filter (ids EC2 has
// forgotten count as terminated).
func (p *Provider) waitTerminated(ctx context.Context, ids []string) error {
	w := ec2.NewInstanceTerminatedWaiter(p.ec2, func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = p.opts.pollMin, p.opts.pollMax
		o.Retryable = func(_ context.Context, _ *ec2.DescribeInstancesInput, out *ec2.DescribeInstancesOutput, err error) (bool, error) {
			if err != nil {
				return false, err
			}
			for _, r := range out.Reservations {
				for _, inst := range r.Instances {
					if inst.State == nil || inst.State.Name != types.InstanceStateNameTerminated {
						return true, nil
					}
				}
			}
			return false, nil
		}
	})
	for _, chunk := range chunks(ids, 1000) {
		in := &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-id"), Values: chunk}}}
		if err := w.Wait(ctx, in, p.opts.maxWait); err != nil {
			return fmt.Errorf("wait for %d instances to terminate: %w", len(chunk), err)
		}
	}
	return nil
}

// deleteVolumes deletes those of ids that are available (detached) and
// tagged with one of clusters: never a volume diffuser did not make.
func (p *Provider) deleteVolumes(ctx context.Context, ids, clusters []string) error {
	if len(ids) == 0 || len(clusters) == 0 {
		return nil
	}
	var errs []error
	for _, chunk := range chunks(ids, 200) {
		out, err := p.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{
			{Name: aws.String("volume-id"), Values: chunk},
			{Name: aws.String("tag:" + tagCluster), Values: clusters},
			{Name: aws.String("status"), Values: []string{"available"}},
		}})
		if err != nil {
			return fmt.Errorf("describe volumes: %w", err)
		}
		errs = append(errs, p.deleteEach(ctx, out.Volumes))
	}
	return errors.Join(errs...)
}

func (p *Provider) deleteEach(ctx context.Context, vols []types.Volume) error {
	var errs []error
	for _, v := range vols {
		id := aws.ToString(v.VolumeId)
		_, err := p.ec2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: v.VolumeId})
		if err != nil && errorCode(err) != codeVolumeNotFound {
			errs = append(errs, fmt.Errorf("delete volume %s: %w", id, err))
			continue
		}
		p.log("aws: deleted volume %s", id)
	}
	return errors.Join(errs...)
}

// Cleanup removes what the cluster made beyond its hosts, found by the
// diffuser:cluster tag and the diffuser-<cluster> name, nothing else:
//
//  1. instances still tagged with the cluster (orphans of a crash between
//     launch and record) are terminated, so the group can go;
//  2. detached volumes tagged with the cluster are deleted;
//  3. the security group diffuser-<cluster> is deleted, retrying
//     DependencyViolation while instances finish terminating;
//  4. the key pair diffuser-<cluster> diffuser imported is deleted (a
//     key_name of the operator's is never touched: it is not tagged).
func (p *Provider) Cleanup(ctx context.Context, cluster string) error {
	name := resourceName(cluster)
	clusterFilter := types.Filter{Name: aws.String("tag:" + tagCluster), Values: []string{cluster}}

	orphans, err := p.describeFiltered(ctx, clusterFilter,
		types.Filter{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped", "shutting-down"}})
	if err != nil {
		return fmt.Errorf("cleanup %s: %w", cluster, err)
	}
	var kill, wait []string
	for _, inst := range orphans {
		id := aws.ToString(inst.InstanceId)
		wait = append(wait, id)
		if inst.State.Name != types.InstanceStateNameShuttingDown {
			kill = append(kill, id)
		}
	}
	if len(kill) > 0 {
		p.log("aws: cleanup %s: terminating %d instance(s) still tagged with the cluster: %s", cluster, len(kill), strings.Join(kill, " "))
		for _, chunk := range chunks(kill, 1000) {
			if _, err := p.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: chunk}); err != nil {
				return fmt.Errorf("cleanup %s: terminate leftover instances: %w", cluster, err)
			}
		}
	}
	if err := p.waitTerminated(ctx, wait); err != nil {
		return fmt.Errorf("cleanup %s: %w", cluster, err)
	}

	vols, err := p.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{clusterFilter,
		{Name: aws.String("status"), Values: []string{"available"}}}})
	if err != nil {
		return fmt.Errorf("cleanup %s: describe volumes: %w", cluster, err)
	}
	if err := p.deleteEach(ctx, vols.Volumes); err != nil {
		return fmt.Errorf("cleanup %s: %w", cluster, err)
	}

	sgs, err := p.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{clusterFilter,
		{Name: aws.String("group-name"), Values: []string{name}}}})
	if err != nil {
		return fmt.Errorf("cleanup %s: describe security groups: %w", cluster, err)
	}
	for _, sg := range sgs.SecurityGroups {
		id := aws.ToString(sg.GroupId)
		err := retryWhile(ctx, time.Second, p.opts.cleanupTimeout, func(ctx context.Context) error {
			_, err := p.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
			return err
		}, codeDependency)
		if err != nil && errorCode(err) != codeGroupNotFound {
			return fmt.Errorf("cleanup %s: delete security group %s (%s): %w", cluster, name, id, err)
		}
		p.log("aws: deleted security group %s (%s)", name, id)
	}

	keys, err := p.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: []types.Filter{clusterFilter,
		{Name: aws.String("key-name"), Values: []string{name}}}})
	if err != nil {
		return fmt.Errorf("cleanup %s: describe key pairs: %w", cluster, err)
	}
	for _, k := range keys.KeyPairs {
		if _, err := p.ec2.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyPairId: k.KeyPairId}); err != nil {
			return fmt.Errorf("cleanup %s: delete key pair %s: %w", cluster, name, err)
		}
		p.log("aws: deleted key pair %s", name)
	}

	p.sgs.forget(cluster + "\x00")
	p.keyPairs.forget(cluster + "\x00")
	p.mu.Lock()
	for k := range p.groups {
		if strings.HasPrefix(k, cluster+"\x00") {
			delete(p.groups, k)
		}
	}
	p.mu.Unlock()
	return nil
}

// describeFiltered returns every instance matching filters, all pages.
func (p *Provider) describeFiltered(ctx context.Context, filters ...types.Filter) ([]types.Instance, error) {
	var out []types.Instance
	pages := ec2.NewDescribeInstancesPaginator(p.ec2, &ec2.DescribeInstancesInput{Filters: filters})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe instances: %w", err)
		}
		for _, r := range page.Reservations {
			out = append(out, r.Instances...)
		}
	}
	return out, nil
}

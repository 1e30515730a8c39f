package aws

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"diffuser/cloud"
)

var _ cloud.Importer = (*Provider)(nil)

// Import takes a running EC2 instance (id i-...) into the cluster as
// spec's host. It gets the cluster's tags (diffuser:cluster, group, index
// and Name), so destroy terminates it (destroy refuses instances tagged
// for another cluster), Cleanup finds it and a launch after a lost state
// adopts it. Each volume spec declares must already be attached where
// diffuser asks for it (/dev/sdf, /dev/sdg, ... in declaration order).
// The SSH user is the site's ssh_user, else the image's default. Its
// security groups are left as they are: they must let diffuser and the
// cluster's other members reach it.
func (p *Provider) Import(ctx context.Context, spec cloud.HostSpec, id string) (cloud.Host, error) {
	if !strings.HasPrefix(id, "i-") {
		return cloud.Host{}, fmt.Errorf("import %s: %q is not an EC2 instance id (i-0123456789abcdef0)", spec.Name, id)
	}
	hc, err := p.hostConfig(spec)
	if err != nil {
		return cloud.Host{}, fmt.Errorf("import %s: %w", spec.Name, err)
	}
	found, err := p.describeByID(ctx, []string{id})
	if err != nil {
		return cloud.Host{}, fmt.Errorf("import %s: %w", spec.Name, err)
	}
	inst, ok := found[id]
	if !ok {
		return cloud.Host{}, fmt.Errorf("import %s: no instance %s in region %s", spec.Name, id, p.region)
	}
	if inst.State == nil || statusOf(inst.State.Name) != cloud.Running {
		state := "in an unknown state"
		if inst.State != nil {
			state = string(inst.State.Name)
		}
		return cloud.Host{}, fmt.Errorf("import %s: instance %s is %s: start it and import it again", spec.Name, id, state)
	}
	nitro := p.set.DeviceNaming == "nitro"
	if p.set.DeviceNaming == "auto" && len(spec.Volumes) > 0 {
		ti, err := p.instanceType(ctx, string(inst.InstanceType))
		if err != nil {
			return cloud.Host{}, fmt.Errorf("import %s: %w", spec.Name, err)
		}
		nitro = ti.nitro
	}
	user := hc.SSHUser
	if user == "" {
		img, err := p.resolveImage(ctx, aws.ToString(inst.ImageId), "", true)
		if err != nil {
			return cloud.Host{}, fmt.Errorf("import %s: the image's SSH user (set ssh_user to skip this): %w", spec.Name, err)
		}
		user = img.user
	}
	h, err := p.buildHost(inst, spec, hc, user, nitro)
	if err != nil {
		return cloud.Host{}, fmt.Errorf("import %s: %w", spec.Name, err)
	}
	if prev, ok := tagValue(inst.Tags, tagCluster); ok && prev != spec.Cluster {
		p.log("aws: %s: instance %s was tagged for cluster %s; it is now %s's", spec.Name, id, prev, spec.Cluster)
	}
	tags := map[string]string{tagCluster: spec.Cluster, tagGroup: spec.Group, tagIndex: strconv.Itoa(spec.Index),
		tagIndexes: encodeIndexes([]int{spec.Index}), "Name": fmt.Sprintf("diffuser-%s-%s-%d", spec.Cluster, spec.Group, spec.Index)}
	if _, err := p.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: tagList(tags)}); err != nil {
		return cloud.Host{}, fmt.Errorf("import %s: tag instance %s: %w", spec.Name, id, err)
	}
	p.log("aws: %s: imported instance %s (its security groups are unchanged)", spec.Name, id)
	return h, nil
}

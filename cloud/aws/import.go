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
	prev := map[string]*string{} // what UndoImport puts back: nil, no such tag
	for k := range tags {
		if v, ok := tagValue(inst.Tags, k); ok {
			prev[k] = aws.String(v)
		} else {
			prev[k] = nil
		}
	}
	if _, err := p.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: tagList(tags)}); err != nil {
		return cloud.Host{}, fmt.Errorf("import %s: tag instance %s: %w", spec.Name, id, err)
	}
	p.mu.Lock()
	if p.importedTags == nil {
		p.importedTags = map[string]map[string]*string{}
	}
	if _, again := p.importedTags[id]; !again {
		p.importedTags[id] = prev
	}
	p.mu.Unlock()
	p.log("aws: %s: imported instance %s (its security groups are unchanged)", spec.Name, id)
	return h, nil
}

var _ cloud.ImportUndoer = (*Provider)(nil)

// UndoImport puts back the tags Import replaced on instance h (and
// removes those it added), for an import that is not recorded: tagged
// for this cluster, the instance would be terminated by its destroy
// (Cleanup terminates every instance tagged with the cluster), and the
// cluster that had it could no longer destroy it.
func (p *Provider) UndoImport(ctx context.Context, spec cloud.HostSpec, h cloud.Host) error {
	p.mu.Lock()
	prev, ok := p.importedTags[h.ProviderID]
	delete(p.importedTags, h.ProviderID)
	p.mu.Unlock()
	if !ok {
		return nil
	}
	var put, drop []types.Tag
	for _, k := range sortedKeys(prev) {
		if v := prev[k]; v != nil {
			put = append(put, types.Tag{Key: aws.String(k), Value: v})
		} else {
			drop = append(drop, types.Tag{Key: aws.String(k)})
		}
	}
	if len(put) > 0 {
		if _, err := p.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{h.ProviderID}, Tags: put}); err != nil {
			return fmt.Errorf("untag %s: put back its tags: %w", h.ProviderID, err)
		}
	}
	if len(drop) > 0 {
		if _, err := p.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{h.ProviderID}, Tags: drop}); err != nil {
			return fmt.Errorf("untag %s: remove the tags of %s: %w", h.ProviderID, spec.Name, err)
		}
	}
	p.log("aws: %s: instance %s was not imported: its tags are as they were", spec.Name, h.ProviderID)
	return nil
}

package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"diffuser/cloud"
)

// attrImported marks, in a host's Attrs, a container this cluster did not
// make (diffuser import): it is found by its recorded ID, not its labels.
const attrImported = "imported"

var _ cloud.Importer = (*Provider)(nil)

// recordedImported tells whether a recorded host is an imported container.
func recordedImported(h cloud.Host) bool { return h.Attrs[attrImported] == "true" }

// Imported says whether a recorded host's attributes mark it imported
// (diffuser import): its container is labelled with the cluster it came
// from, not this one.
func Imported(attrs map[string]string) bool { return attrs[attrImported] == "true" }

// containerRef is a container's id, a prefix of it, or its name, as
// Docker allows names ([a-zA-Z0-9][a-zA-Z0-9_.-]*).
var containerRef = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$`)

// Import takes a running container (its ID, a unique prefix of it, or its
// name) into the cluster as spec's host: it joins the cluster network
// (its address there becomes the host's private address), the workspace
// key is added to root's authorized_keys (keys already there stay), and
// each volume spec declares must be one the container was made with by
// diffuser (a loop device named in its labels). Its labels cannot change:
// the container is known by its ID from then on, and destroy removes it.
// Volume files of another cluster are left to that cluster.
func (p *Provider) Import(ctx context.Context, spec cloud.HostSpec, id string) (cloud.Host, error) {
	if err := checkSpec(spec); err != nil {
		return cloud.Host{}, err
	}
	if strings.TrimSpace(p.env.Keys.PublicKey) == "" {
		return cloud.Host{}, errors.New("docker provider: no workspace public key to authorize on the host")
	}
	if !containerRef.MatchString(id) {
		// It becomes part of an Engine API path: no "/", "..", spaces.
		return cloud.Host{}, fmt.Errorf("docker provider: %q is not a container id or name: give one as docker ps shows it (letters, digits, '_', '.', '-')", id)
	}
	res, err := p.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return cloud.Host{}, fmt.Errorf("no container %q: give its id or name as docker ps shows it", id)
	}
	if err != nil {
		return cloud.Host{}, fmt.Errorf("inspect container %s: %w", id, err)
	}
	c := res.Container
	name := strings.TrimPrefix(c.Name, "/")
	if c.Config == nil || c.State == nil || !c.State.Running || c.State.Paused {
		status := "not running"
		if c.State != nil {
			status = string(c.State.Status)
		}
		return cloud.Host{}, fmt.Errorf("container %s is %s: start it (docker start %s) and import it again", name, status, name)
	}
	vols, err := p.importedVolumes(ctx, spec, c.ID)
	if err != nil {
		return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	netID, err := p.ensureNetwork(ctx, spec.Cluster)
	if err != nil {
		return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	if clusterIP(c, spec.Cluster) == "" {
		if _, err := p.cli.NetworkConnect(ctx, netID, client.NetworkConnectOptions{Container: c.ID}); err != nil {
			return cloud.Host{}, fmt.Errorf("%s: connect container %s to network %s: %w", spec.Name, name, NetworkName(spec.Cluster), err)
		}
		p.env.Log("docker: %s: connected container %s to network %s", spec.Name, name, NetworkName(spec.Cluster))
	}
	if err := p.addAuthorizedKey(ctx, c.ID); err != nil {
		return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	return p.describeRunning(ctx, spec, c.ID, vols)
}

// importedVolumes returns the volumes spec declares as a container made by
// diffuser has them: the loop devices its labels name, passed to it as
// devices. A volume file is reported (and so released by destroy) only
// when it is this cluster's.
func (p *Provider) importedVolumes(ctx context.Context, spec cloud.HostSpec, id string) ([]attachedVolume, error) {
	if len(spec.Volumes) == 0 {
		return nil, nil
	}
	res, err := p.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("inspect container: %w", err)
	}
	c := res.Container
	var mapped []string
	if hc := c.HostConfig; hc != nil {
		for _, d := range hc.Devices {
			mapped = append(mapped, d.PathOnHost)
		}
	}
	bound, _ := boundLoops()
	var vols []attachedVolume
	for _, v := range spec.Volumes {
		dev := c.Config.Labels[labelVolumePrefix+v.Name]
		n, ok := loopNumber(dev)
		if !ok || !slices.Contains(mapped, dev) {
			return nil, fmt.Errorf("container %s has no volume %s, which group %s declares: import a container diffuser made with it, or drop the volume from the group",
				strings.TrimPrefix(c.Name, "/"), v.Name, spec.Group)
		}
		av := attachedVolume{Name: v.Name, Device: dev, SizeGB: v.SizeGB}
		if f := strings.TrimSuffix(bound[n], " (deleted)"); f != "" && c.Config.Labels[LabelCluster] == spec.Cluster {
			av.File = f
		}
		vols = append(vols, av)
	}
	return vols, nil
}

// addAuthorizedKey adds the workspace key to root's authorized_keys in the
// container, keeping the keys already there.
func (p *Provider) addAuthorizedKey(ctx context.Context, id string) error {
	key := strings.TrimSpace(p.env.Keys.PublicKey)
	var have []byte
	res, err := p.cli.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: "/root/.ssh/authorized_keys"})
	switch {
	case err == nil:
		tr := tar.NewReader(res.Content)
		if _, terr := tr.Next(); terr == nil {
			have, err = io.ReadAll(io.LimitReader(tr, 1<<20))
		}
		res.Content.Close()
		if err != nil {
			return fmt.Errorf("authorize key: read authorized_keys: %w", err)
		}
	case cerrdefs.IsNotFound(err):
	default:
		return fmt.Errorf("authorize key: read authorized_keys: %w", err)
	}
	for _, line := range strings.Split(string(have), "\n") {
		if strings.TrimSpace(line) == key {
			return nil
		}
	}
	if len(have) > 0 && !bytes.HasSuffix(have, []byte("\n")) {
		have = append(have, '\n')
	}
	content := append(have, key+"\n"...)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Now()
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeDir, Name: ".ssh/", Mode: 0o700, ModTime: mtime},
		{Typeflag: tar.TypeReg, Name: ".ssh/authorized_keys", Mode: 0o600, Size: int64(len(content)), ModTime: mtime},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("authorize key: %w", err)
		}
	}
	if _, err := tw.Write(content); err != nil {
		return fmt.Errorf("authorize key: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("authorize key: %w", err)
	}
	if _, err := p.cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/root", Content: &buf}); err != nil {
		return fmt.Errorf("authorize key: copy to container: %w", err)
	}
	return nil
}

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
	var undo importUndo
	if clusterIP(c, spec.Cluster) == "" {
		if _, err := p.cli.NetworkConnect(ctx, netID, client.NetworkConnectOptions{Container: c.ID}); err != nil {
			return cloud.Host{}, fmt.Errorf("%s: connect container %s to network %s: %w", spec.Name, name, NetworkName(spec.Cluster), err)
		}
		p.env.Log("docker: %s: connected container %s to network %s", spec.Name, name, NetworkName(spec.Cluster))
		undo.network = netID
	}
	p.rememberImport(c.ID, undo) // before the key: a failure there undoes the network
	keys, added, err := p.addAuthorizedKey(ctx, c.ID)
	if added {
		undo.keys, undo.keyAdded = keys, true
		p.rememberImport(c.ID, undo)
	}
	if err != nil {
		_ = p.undoImport(context.WithoutCancel(ctx), c.ID)
		return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	h, err := p.describeRunning(ctx, spec, c.ID, vols)
	if err != nil {
		_ = p.undoImport(context.WithoutCancel(ctx), c.ID)
	}
	return h, err
}

// importUndo is what Import changed on a container, for UndoImport.
type importUndo struct {
	network  string // the cluster network it joined ("": it was on it)
	keyAdded bool   // the workspace key was added to root's authorized_keys
	keys     []byte // which held this before (nil: no file)
}

// rememberImport keeps what Import changed on container id, for
// UndoImport; an id imported again keeps what the first Import changed.
func (p *Provider) rememberImport(id string, u importUndo) {
	p.importMu.Lock()
	defer p.importMu.Unlock()
	if p.imported == nil {
		p.imported = map[string]importUndo{}
	}
	old, again := p.imported[id]
	if again && old.network != "" {
		u.network = old.network
	}
	if again && old.keyAdded {
		u.keyAdded, u.keys = true, old.keys
	}
	p.imported[id] = u
}

var _ cloud.ImportUndoer = (*Provider)(nil)

// UndoImport takes back what Import changed on container h for an import
// that is not recorded: root's authorized_keys gets its former content (an
// empty file when it had none: the API cannot delete one) and the
// container leaves the cluster's network. A container that was not this
// provider's to change (another one picked by mistake) keeps no key of
// the workspace's and no way into the cluster.
func (p *Provider) UndoImport(ctx context.Context, spec cloud.HostSpec, h cloud.Host) error {
	if err := p.undoImport(ctx, h.ProviderID); err != nil {
		return fmt.Errorf("%s: %w", spec.Name, err)
	}
	return nil
}

func (p *Provider) undoImport(ctx context.Context, id string) error {
	p.importMu.Lock()
	u, ok := p.imported[id]
	delete(p.imported, id)
	p.importMu.Unlock()
	if !ok {
		return nil
	}
	var errs []error
	if u.keyAdded {
		if err := p.writeAuthorizedKeys(ctx, id, u.keys); err != nil {
			errs = append(errs, fmt.Errorf("put back root's authorized_keys: %w", err))
		} else {
			p.env.Log("docker: container %s: the workspace key is no longer in root's authorized_keys", shortID(id))
		}
	}
	if u.network != "" {
		if _, err := p.cli.NetworkDisconnect(ctx, u.network, client.NetworkDisconnectOptions{Container: id, Force: true}); err != nil {
			errs = append(errs, fmt.Errorf("leave the cluster network: %w", err))
		} else {
			p.env.Log("docker: container %s: disconnected from the cluster network it joined for the import", shortID(id))
		}
	}
	return errors.Join(errs...)
}

// shortID is a container id as docker ps shows it.
func shortID(id string) string { return id[:min(12, len(id))] }

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
// container, keeping the keys already there. It returns the file's former
// content (nil: there was none) and whether it added the key.
func (p *Provider) addAuthorizedKey(ctx context.Context, id string) ([]byte, bool, error) {
	key := strings.TrimSpace(p.env.Keys.PublicKey)
	var have []byte
	res, err := p.cli.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: "/root/.ssh/authorized_keys"})
	switch {
	case err == nil:
		tr := tar.NewReader(res.Content)
		if _, terr := tr.Next(); terr == nil {
			have, err = io.ReadAll(io.LimitReader(tr, 1<<20))
			if have == nil {
				have = []byte{}
			}
		}
		res.Content.Close()
		if err != nil {
			return nil, false, fmt.Errorf("authorize key: read authorized_keys: %w", err)
		}
	case cerrdefs.IsNotFound(err):
	default:
		return nil, false, fmt.Errorf("authorize key: read authorized_keys: %w", err)
	}
	for _, line := range strings.Split(string(have), "\n") {
		if strings.TrimSpace(line) == key {
			return have, false, nil
		}
	}
	content := append([]byte(nil), have...)
	if len(content) > 0 && !bytes.HasSuffix(content, []byte("\n")) {
		content = append(content, '\n')
	}
	content = append(content, key+"\n"...)
	if err := p.writeAuthorizedKeys(ctx, id, content); err != nil {
		return have, false, fmt.Errorf("authorize key: %w", err)
	}
	return have, true, nil
}

// writeAuthorizedKeys makes content root's authorized_keys in the
// container (in /root/.ssh, 0700, the file 0600).
func (p *Provider) writeAuthorizedKeys(ctx context.Context, id string, content []byte) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Now()
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeDir, Name: ".ssh/", Mode: 0o700, ModTime: mtime},
		{Typeflag: tar.TypeReg, Name: ".ssh/authorized_keys", Mode: 0o600, Size: int64(len(content)), ModTime: mtime},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
	}
	if _, err := tw.Write(content); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if _, err := p.cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/root", Content: &buf}); err != nil {
		return fmt.Errorf("copy to container: %w", err)
	}
	return nil
}

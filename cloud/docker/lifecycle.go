package docker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"diffuser/cloud"
)

// Status reports Running, Stopped (exists, can be started) or Missing for a
// recorded host. Only a container labelled as spec's host counts.
func (p *Provider) Status(ctx context.Context, spec cloud.HostSpec, h cloud.Host) (cloud.Status, error) {
	id, err := p.findContainer(ctx, spec, h)
	if err != nil {
		return "", err
	}
	if id == "" {
		return cloud.Missing, nil
	}
	res, err := p.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return cloud.Missing, nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: inspect container: %w", spec.Name, err)
	}
	if st := res.Container.State; st != nil && (st.Running || st.Restarting) && !st.Paused {
		// A changed package_cache is recorded by launching again; the
		// container and its addresses stay.
		if s, err := p.hostSettings(spec); err == nil && aptProxy(s, res.Container, spec.Cluster) != h.Attrs[cloud.AttrAptProxy] {
			return cloud.Rerouted, nil
		}
		return cloud.Running, nil
	}
	return cloud.Stopped, nil
}

// Start starts a stopped host again, first putting its volumes back on the
// loop devices the container was created with (they are gone after a
// reboot of this machine). A missing host is an error: it must be replaced.
func (p *Provider) Start(ctx context.Context, spec cloud.HostSpec, h cloud.Host) (cloud.Host, error) {
	if err := checkSpec(spec); err != nil {
		return cloud.Host{}, err
	}
	id, err := p.findContainer(ctx, spec, h)
	if err != nil {
		return cloud.Host{}, err
	}
	if id == "" {
		return cloud.Host{}, fmt.Errorf("%s: container %s is missing; the host must be replaced", spec.Name, ContainerName(spec))
	}
	adopt := p.adoptVolumes
	if recordedImported(h) {
		adopt = p.importedVolumes // its volume files are not this cluster's to bind
	}
	vols, err := adopt(ctx, spec, id)
	if err != nil {
		return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	if err := p.ensureRunning(ctx, spec, id); err != nil {
		return cloud.Host{}, err
	}
	return p.describeRunning(ctx, spec, id, vols)
}

// Destroy removes the host's container, detaches its loop devices and
// deletes their files. The files are found from the recorded host, from the
// container's labels and from the deterministic path of every volume in
// spec, so a host recorded half-way (or not at all) is still cleaned up.
// Destroying a missing host is not an error.
func (p *Provider) Destroy(ctx context.Context, spec cloud.HostSpec, h cloud.Host) error {
	if err := checkSpec(spec); err != nil {
		return err
	}
	files := map[string]bool{}
	for _, v := range spec.Volumes {
		files[p.volumeFile(spec, v.Name)] = true
	}
	for _, v := range h.Volumes {
		if v.ProviderID != "" {
			files[v.ProviderID] = true
		}
	}
	for k, v := range h.Attrs {
		if strings.HasPrefix(k, "volume.") && strings.HasSuffix(k, ".file") && v != "" {
			files[v] = true
		}
	}
	id, err := p.findContainer(ctx, spec, h)
	if err != nil {
		return err
	}
	if id != "" {
		if err := p.removeContainer(ctx, id); err != nil {
			return fmt.Errorf("%s: %w", spec.Name, err)
		}
		p.env.Log("docker: %s: removed container %s", spec.Name, ContainerName(spec))
	}
	var errs []error
	for _, f := range slices.Sorted(maps.Keys(files)) {
		if err := releaseVolumeFile(spec.Cluster, f); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", spec.Name, err))
		}
	}
	return errors.Join(errs...)
}

// removeContainer force-removes a container; already gone is fine.
func (p *Provider) removeContainer(ctx context.Context, id string) error {
	_, err := p.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove container: %w", err)
	}
	return nil
}

// Cleanup removes what is left of cluster: containers labelled with it
// (hosts that were never recorded), the cluster network, and every volume
// file under <volume_dir>/<cluster>/ with its loop devices. Objects of other
// clusters, and unlabelled ones, are never touched. Nor is a container
// labelled with cluster that another cluster imported (it is on that
// cluster's network): it and its volume files are that cluster's now; it
// is only disconnected from this cluster's network.
func (p *Provider) Cleanup(ctx context.Context, cluster string) error {
	keep, err := p.cleanupEngine(ctx, cluster)
	if keep == nil {
		return err // the containers could not be listed: their volumes stay
	}
	errs := []error{err}
	if p.settings.VolumeDir != "" {
		if err := releaseClusterVolumes(cluster, p.clusterVolumeDir(cluster), keep); err != nil {
			errs = append(errs, fmt.Errorf("cleanup %s: %w", cluster, err))
		}
	}
	return errors.Join(errs...)
}

// cleanupEngine is Cleanup's part in the engine: it removes the cluster's
// containers (not those imported into another cluster) and networks, and
// returns the loop devices of the containers it left to another cluster.
func (p *Provider) cleanupEngine(ctx context.Context, cluster string) (keep map[int]bool, err error) {
	if cluster == "" || !validName(cluster) {
		return nil, fmt.Errorf("docker provider: cleanup: bad cluster name %q", cluster)
	}
	var errs []error
	res, err := p.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: clusterFilter(cluster)})
	if err != nil {
		return nil, fmt.Errorf("cleanup %s: list containers: %w", cluster, err)
	}
	keep = map[int]bool{} // loop devices of containers another cluster imported
	for _, c := range res.Items {
		if c.Labels[LabelCluster] != cluster {
			continue
		}
		if other := importedBy(c, cluster, p.settings.Networks); other != "" {
			for k, dev := range c.Labels {
				if n, ok := loopNumber(dev); ok && strings.HasPrefix(k, labelVolumePrefix) {
					keep[n] = true
				}
			}
			p.env.Log("docker: cleanup %s: container %s is on network %s (imported there): left to that cluster", cluster,
				strings.TrimPrefix(firstOr(c.Names, c.ID), "/"), other)
			continue
		}
		if err := p.removeContainer(ctx, c.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		p.env.Log("docker: cleanup %s: removed leftover container %s", cluster, strings.TrimPrefix(firstOr(c.Names, c.ID), "/"))
	}
	nets, err := p.clusterNetworks(ctx, cluster)
	if err != nil {
		errs = append(errs, err)
	}
	for _, n := range nets {
		p.disconnectOthers(ctx, cluster, n.ID, n.Name)
		if _, err := p.cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("cleanup %s: remove network %s: %w", cluster, n.Name, err))
			continue
		}
		p.env.Log("docker: cleanup %s: removed network %s", cluster, n.Name)
	}
	// A throwaway network of createFixedNetwork left by a killed apply.
	if res, err := p.cli.NetworkInspect(ctx, NetworkName(cluster)+"-subnet", client.NetworkInspectOptions{}); err == nil && res.Network.Labels[LabelCluster] == cluster {
		if _, err := p.cli.NetworkRemove(ctx, res.Network.ID, client.NetworkRemoveOptions{}); err == nil {
			p.env.Log("docker: cleanup %s: removed network %s", cluster, res.Network.Name)
		}
	}
	p.forgetNetwork(cluster)
	if err := os.Remove(lockPath(networkLock(cluster))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("cleanup %s: %w", cluster, err))
	}
	return keep, errors.Join(errs...)
}

// disconnectOthers disconnects from the cluster's network the containers
// still on it once the cluster's own are gone: containers of another
// cluster that were imported here (and kept by a state rm), or this
// cluster's containers imported into another cluster. They keep running,
// on their other networks; the network can then be removed.
func (p *Provider) disconnectOthers(ctx context.Context, cluster, id, name string) {
	res, err := p.cli.NetworkInspect(ctx, id, client.NetworkInspectOptions{})
	if err != nil {
		return // NetworkRemove says what is wrong
	}
	for cid, ep := range res.Network.Containers {
		if _, err := p.cli.NetworkDisconnect(ctx, id, client.NetworkDisconnectOptions{Container: cid, Force: true}); err == nil {
			p.env.Log("docker: cleanup %s: disconnected container %s, which is not this cluster's, from network %s", cluster, cmp.Or(ep.Name, cid), name)
		}
	}
}

// importedBy returns the diffuser network of another cluster that
// container c is on (it was imported there), or "". The shared networks
// of the settings (shared.go) do not count: the cluster joined them.
func importedBy(c container.Summary, cluster string, shared []string) string {
	if c.NetworkSettings == nil {
		return ""
	}
	for name := range c.NetworkSettings.Networks {
		if strings.HasPrefix(name, "diffuser-") && name != NetworkName(cluster) && !slices.Contains(shared, name) {
			return name
		}
	}
	return ""
}

// releaseClusterVolumes detaches and deletes every volume file in dir and
// removes dir, except the files bound to the loop devices in keep (with
// them, dir stays). Loop devices bound to a file in dir that was already
// deleted are detached too.
func releaseClusterVolumes(cluster, dir string, keep map[int]bool) error {
	if err := checkClusterDir(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("refusing to delete the volume files of cluster %s: %w", cluster, err)
	}
	real, err := filepath.EvalSymlinks(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	kept := map[string]bool{}
	if bound, err := boundLoops(); err == nil {
		for n, backing := range bound {
			if keep[n] {
				kept[backing] = true
				continue
			}
			if f, ok := strings.CutSuffix(backing, " (deleted)"); ok && filepath.Dir(f) == real {
				if err := detachDeleted(n); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(real, "*.img"))
	for _, f := range files {
		if kept[f] {
			continue
		}
		if err := releaseVolumeFile(cluster, f); err != nil {
			errs = append(errs, err)
		}
	}
	if len(kept) > 0 {
		return errors.Join(errs...)
	}
	tmps, _ := filepath.Glob(filepath.Join(real, "*.img.tmp"))
	for _, f := range tmps {
		os.Remove(f)
	}
	if err := os.Remove(real); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove volume directory: %w", err))
	}
	return errors.Join(errs...)
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

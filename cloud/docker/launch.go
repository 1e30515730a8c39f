package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"diffuser/cloud"
)

// Launch creates the host's container, or adopts the one that already
// exists under its name (starting it if stopped), and returns once it runs
// and has an address on the cluster network. Adoption is what makes a crash
// between "created" and "recorded in state" harmless: the container name is
// the idempotency key, the engine refuses a second container with it, and
// volume files are found bound to their loop devices instead of bound again.
func (p *Provider) Launch(ctx context.Context, spec cloud.HostSpec) (cloud.Host, error) {
	if err := checkSpec(spec); err != nil {
		return cloud.Host{}, err
	}
	if strings.TrimSpace(p.env.Keys.PublicKey) == "" {
		return cloud.Host{}, errors.New("docker provider: no workspace public key to authorize on the host")
	}
	s, err := p.hostSettings(spec)
	if err != nil {
		return cloud.Host{}, err
	}
	// A build here logs its outline; its output goes to the build log.
	image, err := p.ensureImage(ctx, s, NewBuildSummary(func(format string, args ...any) {
		p.env.Log("docker: image: "+format, args...)
	}), false)
	if err != nil {
		return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	netID, err := p.ensureNetwork(ctx, spec.Cluster)
	if err != nil {
		return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
	}

	id, err := p.findContainer(ctx, spec, cloud.Host{})
	if err != nil {
		return cloud.Host{}, err
	}
	var vols []attachedVolume
	if id != "" {
		p.env.Log("docker: %s: adopting existing container %s", spec.Name, ContainerName(spec))
		if vols, err = p.adoptVolumes(ctx, spec, id); err != nil {
			return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
		}
	} else {
		for _, v := range spec.Volumes {
			av, err := p.ensureVolume(spec, v, -1)
			if err != nil {
				return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
			}
			vols = append(vols, av)
		}
		id, err = p.createPinned(ctx, spec, s, image, netID, vols)
		if errors.Is(err, errNetworkGone) {
			// Someone removed the cached network: make it again, once.
			p.forgetNetwork(spec.Cluster)
			if netID, err = p.ensureNetwork(ctx, spec.Cluster); err == nil {
				id, err = p.createPinned(ctx, spec, s, image, netID, vols)
			}
		}
		if err != nil {
			return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
		}
	}
	// The key goes in after the start: copying into a created container
	// makes the engine mount its root filesystem once more just for that.
	// The node image's sshd waits for the key (diffuser-wait-authorized-keys).
	if err := p.ensureRunning(ctx, spec, id); err != nil {
		return cloud.Host{}, err
	}
	if err := p.authorizeKey(ctx, id); err != nil {
		return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	return p.describeRunning(ctx, spec, id, vols)
}

// createPinned creates the host's container pinned to a fixed address when
// the cluster network has fixed addressing (see address.go), else with
// the engine's dynamic address.
func (p *Provider) createPinned(ctx context.Context, spec cloud.HostSpec, s Settings, image, netID string, vols []attachedVolume) (string, error) {
	plan, err := p.networkPlan(ctx, spec.Cluster, netID)
	if err != nil {
		return "", err
	}
	if !plan.fixed() {
		return p.createContainer(ctx, spec, s, image, netID, vols, netip.Addr{})
	}
	addr, release, err := p.reserveAddress(ctx, spec, plan, netID)
	if err != nil {
		return "", err
	}
	defer release()
	return p.createContainer(ctx, spec, s, image, netID, vols, addr)
}

// errNetworkGone is returned by createContainer when the network ID it was
// given no longer exists.
var errNetworkGone = errors.New("cluster network is gone")

// createContainer creates (not starts) the host's container. If the engine
// says the name is taken, another Launch won the race: its container is
// adopted instead.
func (p *Provider) createContainer(ctx context.Context, spec cloud.HostSpec, s Settings, image, netID string, vols []attachedVolume, addr netip.Addr) (string, error) {
	labels := hostLabels(spec)
	if !spec.Expires.IsZero() {
		// Informational: a container's labels cannot change, so the deadline
		// an apply renews lives in state; this one is the launch's.
		labels[LabelExpires] = spec.Expires.UTC().Format(time.RFC3339)
	}
	if p.workDir != "" {
		labels[LabelWorkDir] = p.workDir
	}
	devices := []container.DeviceMapping{{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"}}
	for _, v := range vols {
		labels[labelVolumePrefix+v.Name] = v.Device
		devices = append(devices, container.DeviceMapping{PathOnHost: v.Device, PathInContainer: v.Device, CgroupPermissions: "rwm"})
	}
	hc := &container.HostConfig{
		CapAdd:       []string{"SYS_ADMIN", "DAC_READ_SEARCH"}, // DAC_READ_SEARCH: open_by_handle_at, which NFS-Ganesha needs
		CgroupnsMode: container.CgroupnsModeHost,
		Binds:        []string{"/sys/fs/cgroup:/sys/fs/cgroup:rw"},
		Tmpfs:        map[string]string{"/run": "rw,nosuid,nodev,mode=755", "/run/lock": "rw,nosuid,nodev,noexec"},
		ExtraHosts:   s.ExtraHosts,
		Resources: container.Resources{
			Devices:  devices,
			Memory:   s.Memory,
			NanoCPUs: int64(s.CPUs * 1e9),
		},
	}
	cfg := &container.Config{
		Image:      image,
		Hostname:   hostname(spec),
		Labels:     labels,
		Env:        []string{"container=docker"},
		StopSignal: "SIGRTMIN+3",
	}
	ep := &network.EndpointSettings{}
	if addr.IsValid() {
		ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: addr}
	}
	opts := client.ContainerCreateOptions{
		Name:       ContainerName(spec),
		Config:     cfg,
		HostConfig: hc,
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			netID: ep,
		}},
	}
	res, err := p.cli.ContainerCreate(ctx, opts)
	// Name taken: another Launch is creating (or made) this host. The engine
	// reserves the name before the container can be inspected, so wait for
	// it to appear; if the other create failed the name is free again.
	for attempt := 0; cerrdefs.IsConflict(err) && attempt < 100; attempt++ {
		id, ferr := p.findContainer(ctx, spec, cloud.Host{})
		if ferr != nil {
			return "", ferr
		}
		if id != "" {
			p.env.Log("docker: %s: container %s was created concurrently; adopting it", spec.Name, ContainerName(spec))
			return id, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if attempt%10 == 9 {
			res, err = p.cli.ContainerCreate(ctx, opts)
		}
	}
	if cerrdefs.IsNotFound(err) && strings.Contains(err.Error(), "network") {
		return "", fmt.Errorf("create container %s: %w: %w", ContainerName(spec), errNetworkGone, err)
	}
	if err != nil {
		return "", fmt.Errorf("create container %s: %w", ContainerName(spec), err)
	}
	for _, w := range res.Warnings {
		p.env.Log("docker: %s: %s", spec.Name, w)
	}
	p.env.Log("docker: %s: created container %s", spec.Name, ContainerName(spec))
	return res.ID, nil
}

// findContainer returns the ID of the host's container: the recorded one
// (rec.ProviderID) if it is still there, else the one named
// ContainerName(spec). "" if there is none. A recorded container counts
// when its labels make it spec's host, or this cluster's host under
// another name (renamed in state with state mv), or when it was imported
// (recordedImported). A container carrying the name but another cluster's
// labels is an error: it is never touched.
func (p *Provider) findContainer(ctx context.Context, spec cloud.HostSpec, rec cloud.Host) (string, error) {
	id := rec.ProviderID
	for _, ref := range []string{id, ContainerName(spec)} {
		if ref == "" {
			continue
		}
		res, err := p.cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
		if cerrdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("inspect container %s: %w", ref, err)
		}
		c := res.Container
		if ref == id && c.ID == id && c.Config != nil && (c.Config.Labels[LabelCluster] == spec.Cluster || recordedImported(rec)) {
			return c.ID, nil
		}
		if c.Config == nil || !ownedBy(c.Config.Labels, spec) {
			if ref == id {
				continue // the recorded ID now names something else
			}
			return "", fmt.Errorf("container %s exists but was not made by diffuser for %s in cluster %s; not touching it",
				ContainerName(spec), spec.Name, spec.Cluster)
		}
		return c.ID, nil
	}
	return "", nil
}

// ownedBy reports whether labels mark a container as spec's host.
func ownedBy(labels map[string]string, spec cloud.HostSpec) bool {
	want := hostLabels(spec)
	return labels[LabelCluster] == want[LabelCluster] && labels[LabelGroup] == want[LabelGroup] &&
		labels[LabelIndex] == want[LabelIndex]
}

// adoptVolumes makes sure an existing container's volumes are bound to the
// loop devices it was created with (after a reboot they are not), and
// returns them. A volume the recipe has but the container lacks cannot be
// added to a container: that host must be replaced.
func (p *Provider) adoptVolumes(ctx context.Context, spec cloud.HostSpec, id string) ([]attachedVolume, error) {
	res, err := p.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("inspect container: %w", err)
	}
	var mapped []string
	if hc := res.Container.HostConfig; hc != nil {
		for _, d := range hc.Devices {
			mapped = append(mapped, d.PathOnHost)
		}
	}
	var vols []attachedVolume
	for _, v := range spec.Volumes {
		dev := res.Container.Config.Labels[labelVolumePrefix+v.Name]
		n, ok := loopNumber(dev)
		if !ok || !slices.Contains(mapped, dev) {
			return nil, fmt.Errorf("container %s was created without volume %s; replace the host to add it", ContainerName(spec), v.Name)
		}
		av, err := p.ensureVolume(spec, v, n)
		if err != nil {
			return nil, err
		}
		vols = append(vols, av)
	}
	return vols, nil
}

// authorizeKey writes the workspace key to /root/.ssh/authorized_keys of
// the container (running or not). Rewritten on every Launch: idempotent.
func (p *Provider) authorizeKey(ctx context.Context, id string) error {
	key := strings.TrimSpace(p.env.Keys.PublicKey) + "\n"
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Now()
	hdrs := []*tar.Header{
		{Typeflag: tar.TypeDir, Name: ".ssh/", Mode: 0o700, ModTime: mtime},
		{Typeflag: tar.TypeReg, Name: ".ssh/authorized_keys", Mode: 0o600, Size: int64(len(key)), ModTime: mtime},
	}
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("authorize key: %w", err)
		}
	}
	if _, err := io.WriteString(tw, key); err != nil {
		return fmt.Errorf("authorize key: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("authorize key: %w", err)
	}
	_, err := p.cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/root", Content: &buf})
	if err != nil {
		return fmt.Errorf("authorize key: copy to container: %w", err)
	}
	return nil
}

// ensureRunning starts the container unless it runs already.
func (p *Provider) ensureRunning(ctx context.Context, spec cloud.HostSpec, id string) error {
	res, err := p.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("%s: inspect container: %w", spec.Name, err)
	}
	if st := res.Container.State; st != nil && st.Paused {
		if _, err := p.cli.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{}); err != nil {
			return fmt.Errorf("%s: unpause container: %w", spec.Name, err)
		}
		return nil
	}
	if st := res.Container.State; st != nil && st.Running {
		return nil
	}
	if _, err := p.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("%s: start container: %w", spec.Name, err)
	}
	return nil
}

// describeRunning waits until the started container runs and has its
// address on the cluster network (and on the first shared network, which
// it joins if it is not on it yet: a running container gets its address
// there at once, so it can be pinned), and reports it as a cloud.Host.
func (p *Provider) describeRunning(ctx context.Context, spec cloud.HostSpec, id string, vols []attachedVolume) (cloud.Host, error) {
	s, err := p.hostSettings(spec)
	if err != nil {
		return cloud.Host{}, err
	}
	if err := p.joinShared(ctx, spec, s, id); err != nil {
		return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for delay := 20 * time.Millisecond; ; delay = min(delay*2, 500*time.Millisecond) {
		res, err := p.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil {
			return cloud.Host{}, fmt.Errorf("%s: inspect container: %w", spec.Name, err)
		}
		c := res.Container
		if c.State != nil && !c.State.Running && !c.State.Restarting {
			return cloud.Host{}, fmt.Errorf("%s: container %s is %s after start (exit code %d): %s",
				spec.Name, ContainerName(spec), c.State.Status, c.State.ExitCode, p.logTail(ctx, id))
		}
		ip := clusterIP(c, spec.Cluster)
		if ip != "" && (len(s.Networks) == 0 || sharedIP(c, s.Networks) != "") && c.State != nil && c.State.Running {
			h := describe(spec, c, ip, vols)
			announce(&h, c, s.Networks)
			if proxy := aptProxy(s, c, spec.Cluster); proxy != "" {
				h.Attrs[cloud.AttrAptProxy] = proxy
			}
			return h, nil
		}
		if time.Now().After(deadline) {
			net := NetworkName(spec.Cluster)
			if ip != "" {
				net = s.Networks[0]
			}
			return cloud.Host{}, fmt.Errorf("%s: container %s has no address on network %s after 60s", spec.Name, ContainerName(spec), net)
		}
		select {
		case <-ctx.Done():
			return cloud.Host{}, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// clusterIP is the container's IPv4 address on the cluster network.
func clusterIP(c container.InspectResponse, cluster string) string {
	if c.NetworkSettings == nil {
		return ""
	}
	if ep := c.NetworkSettings.Networks[NetworkName(cluster)]; ep != nil && ep.IPAddress.IsValid() {
		return ep.IPAddress.String()
	}
	return ""
}

// attrFixedIP is the host attribute naming the address its container is
// pinned to; absent on hosts of networks made before fixed addresses.
const attrFixedIP = "fixed_ip"

// aptProxy is the package cache URL hosts of cluster use with settings s
// (recorded as their apt_proxy attribute), "" for none. "controller" is
// apt-cacher-ng's port at the gateway of the cluster network, the address
// at which containers reach this machine.
func aptProxy(s Settings, c container.InspectResponse, cluster string) string {
	switch s.PackageCache {
	case cloud.PackageCacheOff, "":
		return ""
	case cloud.PackageCacheController:
		if c.NetworkSettings == nil {
			return ""
		}
		ep := c.NetworkSettings.Networks[NetworkName(cluster)]
		if ep == nil || !ep.Gateway.IsValid() {
			return ""
		}
		return cloud.AptProxy{Host: ep.Gateway.String(), Port: cloud.AptCacherPort}.URL()
	default:
		return s.PackageCache
	}
}

// describe builds the cloud.Host of a running container.
func describe(spec cloud.HostSpec, c container.InspectResponse, ip string, vols []attachedVolume) cloud.Host {
	h := cloud.Host{
		ProviderID: c.ID,
		PrivateIP:  ip,
		PublicIP:   ip, // the operator's machine reaches the container at the same address
		SSHAddress: ip,
		SSHPort:    22,
		SSHUser:    "root",
		Volumes:    map[string]cloud.Volume{},
		Attrs: map[string]string{
			"container": strings.TrimPrefix(c.Name, "/"),
			"network":   NetworkName(spec.Cluster),
			"image":     c.Config.Image,
		},
	}
	if c.Config.Labels[LabelCluster] != spec.Cluster {
		h.Attrs[attrImported] = "true"
	}
	if c.NetworkSettings != nil {
		if ep := c.NetworkSettings.Networks[NetworkName(spec.Cluster)]; ep != nil {
			h.Attrs["network_id"] = ep.NetworkID
			if ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address.IsValid() {
				h.Attrs[attrFixedIP] = ep.IPAMConfig.IPv4Address.String()
			}
		}
	}
	for _, v := range vols {
		h.Volumes[v.Name] = cloud.Volume{Device: v.Device, ProviderID: v.File, SizeGB: v.SizeGB}
		h.Attrs["volume."+v.Name+".file"] = v.File
		h.Attrs["volume."+v.Name+".loop"] = v.Device
	}
	return h
}

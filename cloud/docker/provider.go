package docker

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/moby/client"
	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
)

// Name is the provider's name in site files (`provider "docker"`).
const Name = "docker"

// Labels on everything the provider creates.
const (
	LabelCluster  = "diffuser.cluster"
	LabelGroup    = "diffuser.group"
	LabelIndex    = "diffuser.index"
	LabelName     = "diffuser.name"
	LabelProvider = "diffuser.provider" // always "docker"
	// LabelExpires is the cluster's deadline when the container was
	// launched (RFC 3339, UTC), for an apply given a ttl.
	LabelExpires = "diffuser.expires"
	// LabelWorkDir is the absolute directory of the workspace that launched
	// the container (cloud.Env.WorkDir): the sweep of expired clusters
	// finds the workspace that owns a cluster through it.
	LabelWorkDir = "diffuser.workdir"
	// labelVolumePrefix + <volume> = "<loop device>" on containers: the
	// device the container was created with, needed to put a volume back on
	// the same device after a reboot.
	labelVolumePrefix = "diffuser.volume."
)

// Factory makes docker providers. The zero value is ready to use.
type Factory struct{}

var (
	_ cloud.Factory  = Factory{}
	_ cloud.Provider = (*Provider)(nil)
)

// New implements cloud.Factory.
func (Factory) New(ctx context.Context, settings cty.Value, env cloud.Env) (cloud.Provider, error) {
	return New(ctx, settings, env)
}

// Provider is the docker provider. It is safe for concurrent use. Locks:
// imageMu is held across a node image build (others wait for it); netMu
// across network create-or-get (and the address plan lookup); addrMu across
// picking a host's fixed address; volMu across find-or-attach of loop
// devices. None is held while another is taken.
type Provider struct {
	cli      *client.Client
	settings Settings
	apt      HostApt
	env      cloud.Env
	workDir  string // absolute env.WorkDir ("" when none): where the node image build log goes

	imageMu     sync.Mutex
	imagesReady map[string]string // image-selecting settings -> tag known to exist

	netMu    sync.Mutex
	networks map[string]string      // cluster -> network ID
	plans    map[string]addressPlan // network ID -> how it hands out addresses

	addrMu  sync.Mutex
	pending map[netip.Addr]bool // picked for a container not created yet

	volMu sync.Mutex

	importMu sync.Mutex
	imported map[string]importUndo // container id -> what Import changed on it
}

// New connects to the Docker Engine (DOCKER_HOST etc. honoured, API version
// negotiated down to the daemon's) and decodes settings. It builds nothing;
// the node image is made by the first Launch or by EnsureImage.
func New(ctx context.Context, settings cty.Value, env cloud.Env) (*Provider, error) {
	apt, err := ReadHostApt("/")
	if err != nil && env.Log != nil {
		env.Log("docker: %v; using deb.debian.org/bookworm defaults", err)
	}
	workDir := env.WorkDir
	if workDir != "" {
		if workDir, err = filepath.Abs(workDir); err != nil {
			return nil, fmt.Errorf("docker provider: work directory: %w", err)
		}
	}
	s, err := DecodeSettings(settings, apt, workDir)
	if err != nil {
		return nil, err
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker provider: %w", err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		return nil, fmt.Errorf("docker provider: cannot reach the Docker Engine at %s: %w", cli.DaemonHost(), err)
	}
	if env.Log == nil {
		env.Log = func(string, ...any) {}
	}
	if err := raiseInotifyLimit(env.Log); err != nil {
		env.Log("docker: warning: %v", err)
	}
	return &Provider{
		cli:         cli,
		settings:    s,
		apt:         apt,
		env:         env,
		workDir:     workDir,
		imagesReady: map[string]string{},
		networks:    map[string]string{},
		plans:       map[string]addressPlan{},
		pending:     map[netip.Addr]bool{},
	}, nil
}

// Name implements cloud.Provider.
func (p *Provider) Name() string { return Name }

// Settings returns the decoded provider settings, defaults filled in.
func (p *Provider) Settings() Settings { return p.settings }

// Client returns the engine client, for callers that show what the
// provider made (the CLI's image listing, tests).
func (p *Provider) Client() *client.Client { return p.cli }

// Close releases the engine connection.
func (p *Provider) Close() error { return p.cli.Close() }

// hostSettings returns the settings for one host: spec.Settings (the group's
// overrides merged in by the engine) when given, else the provider's.
// volume_dir and network_cidr are cluster-wide and always the provider's.
func (p *Provider) hostSettings(spec cloud.HostSpec) (Settings, error) {
	if spec.Settings == cty.NilVal || spec.Settings.IsNull() {
		return p.settings, nil
	}
	s, err := DecodeSettings(spec.Settings, p.apt, filepath.Dir(p.settings.VolumeDir))
	if err != nil {
		return s, fmt.Errorf("%s: %w", spec.Name, err)
	}
	s.VolumeDir, s.NetworkCIDR = p.settings.VolumeDir, p.settings.NetworkCIDR
	return s, nil
}

// validName reports whether the engine accepts s as (part of) a container
// name: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '_' || r == '.' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// ContainerName is the container of a host: diffuser-<cluster>-<group>-<index>.
func ContainerName(spec cloud.HostSpec) string {
	return "diffuser-" + spec.Cluster + "-" + spec.Group + "-" + strconv.Itoa(spec.Index)
}

// NetworkName is the cluster's network: diffuser-<cluster>.
func NetworkName(cluster string) string { return "diffuser-" + cluster }

func checkSpec(spec cloud.HostSpec) error {
	if spec.Cluster == "" || spec.Group == "" || spec.Index < 0 {
		return fmt.Errorf("docker provider: host spec %q needs a cluster, a group and an index >= 0", spec.Name)
	}
	if !validName(ContainerName(spec)) {
		return fmt.Errorf("docker provider: %q is not usable as a container name (letters, digits, '_', '.', '-' only)", ContainerName(spec))
	}
	for _, v := range spec.Volumes {
		if v.Name == "" || !validName(v.Name) {
			return fmt.Errorf("docker provider: %s: volume name %q: letters, digits, '_', '.', '-' only", spec.Name, v.Name)
		}
		if v.SizeGB <= 0 {
			return fmt.Errorf("docker provider: %s: volume %s: size_gb must be > 0", spec.Name, v.Name)
		}
	}
	return nil
}

// hostLabels are the labels of a host's container.
func hostLabels(spec cloud.HostSpec) map[string]string {
	return map[string]string{
		LabelCluster:  spec.Cluster,
		LabelGroup:    spec.Group,
		LabelIndex:    strconv.Itoa(spec.Index),
		LabelName:     cmpOr(spec.Name != "", spec.Name, spec.Group+"["+strconv.Itoa(spec.Index)+"]"),
		LabelProvider: Name,
	}
}

// hostname is spec.Hostname or group-index.
func hostname(spec cloud.HostSpec) string {
	if spec.Hostname != "" {
		return spec.Hostname
	}
	return strings.ToLower(spec.Group) + "-" + strconv.Itoa(spec.Index)
}

// clusterFilter selects objects labelled with cluster.
func clusterFilter(cluster string) client.Filters {
	return make(client.Filters).Add("label", LabelCluster+"="+cluster)
}

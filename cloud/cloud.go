package cloud

import (
	"context"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// VolumeSpec is one `volume` block of a host group.
type VolumeSpec struct {
	Name   string
	SizeGB int
	Type   string // provider-specific (EBS type); "" = provider default
	IOPS   int
}

// HostSpec is everything a provider needs to launch (or find) one host.
// Identity is (Cluster, Group, Index): launching the same identity twice
// must return the same host (adoption), never a second one.
type HostSpec struct {
	Cluster  string // workspace-unique cluster name, used in names, labels and tags
	Group    string
	Index    int
	Count    int    // hosts in the group, so a provider can launch a group in one call
	Name     string // "server[1]"
	Hostname string // DNS-safe form, "server-1"
	Volumes  []VolumeSpec
	Settings cty.Value // object decoded with the factory's Spec, group overrides merged in
	// Provider is the provider key the host runs on ("docker", "aws.east"):
	// what a cluster over several providers (cloud/multi) dispatches on.
	// "" means the workspace's one provider.
	Provider string
	// Expires is the cluster's deadline (zero: none). Providers that can
	// mark it do (docker labels, aws tags); aws also ends the instance then.
	Expires time.Time
	// Address is the private address state recorded for this host when it
	// is launched again (replaced, or its machine gone); "" for a new
	// host. A provider that chooses addresses gives it back while it is
	// free; others ignore it.
	Address string
}

// Host is a launched host as the provider reports it.
type Host struct {
	ProviderID string
	PrivateIP  string
	PublicIP   string
	SSHAddress string // address diffuser dials
	SSHPort    int
	SSHUser    string
	// SSHIdentityFiles are more private keys to offer, in order (static:
	// ~/.ssh/config's IdentityFile); a missing or passphrase-protected one
	// is skipped.
	SSHIdentityFiles []string
	// SSHJump are the hosts to connect through, the one dialed first first
	// (static: jump, or ProxyJump of ~/.ssh/config).
	SSHJump []Hop
	Volumes map[string]Volume // keyed by volume name
	Attrs   map[string]string
}

// Hop is one jump host on the way to a host.
type Hop struct {
	Address       string
	Port          int
	User          string
	IdentityFiles []string
}

// Volume is an attached block device.
type Volume struct {
	Device     string // path on the host, e.g. /dev/loop7 or /dev/nvme1n1
	ProviderID string
	SizeGB     int
}

// Status is what a provider says about a recorded host.
type Status string

const (
	Running Status = "running"
	Stopped Status = "stopped" // exists, can be started again
	Missing Status = "missing" // gone: must be replaced
	// Moved: runs, but is now reached another way than recorded, at
	// other addresses (static: ~/.ssh/config's HostName changed). Launch
	// again records the new way; the host and what ran on it stay, and
	// what reads its addresses is known after that launch.
	Moved Status = "moved"
	// Rerouted: runs at the addresses recorded, but is reached or set up
	// another way (static: a new key_file, jump or IdentityFile; docker:
	// a new package_cache). Launch again records it; nothing a step
	// reads of the host changes.
	Rerouted Status = "rerouted"
	// Readdressed: the provider names the host at another address, port
	// or login user than recorded, which may reach the same machine or
	// another one (static: the site file's own address, port or user
	// changed; behind a NAT two ports of one address can be two
	// machines). Only the machine can tell: refresh reads the host key
	// answering the new way, and the host counts as Rerouted or Moved
	// when it is the pinned key, else it is replaced.
	Readdressed Status = "readdressed"
)

// Reacher is implemented by providers whose Status can find a host
// Rerouted by a new way to reach it (static: a new key_file, jump or
// port). Reach reports the recorded host h as Launch would report it for
// spec now, changing nothing, so that what reaches a Rerouted host before
// apply records the new way (plan's refresh, verify, destroy) reaches it
// that way, never the recorded way that may no longer work (an old key
// taken out of authorized_keys). A provider that is not a Reacher reaches
// its Rerouted hosts as recorded (docker: only its package cache changed).
type Reacher interface {
	Reach(ctx context.Context, spec HostSpec, h Host) (Host, error)
}

// Keys is the workspace's SSH identity, authorized on every host the
// provider launches.
type Keys struct {
	PublicKey      string // authorized_keys line
	PrivateKeyFile string
}

// Provider launches and releases hosts. Implementations must be safe for
// concurrent use: the engine launches hosts in parallel.
type Provider interface {
	Name() string
	// Launch creates the host, or adopts it if one with the same identity
	// already exists, and returns once it is running (not necessarily SSH-ready).
	Launch(ctx context.Context, spec HostSpec) (Host, error)
	// Status reports whether a recorded host still runs.
	Status(ctx context.Context, spec HostSpec, h Host) (Status, error)
	// Start starts a stopped host again.
	Start(ctx context.Context, spec HostSpec, h Host) (Host, error)
	// Destroy releases the host and its volumes. Destroying a missing host is not an error.
	Destroy(ctx context.Context, spec HostSpec, h Host) error
	// Cleanup removes cluster-wide resources (networks, security groups,
	// key pairs) once every host is destroyed. Only what this cluster made.
	Cleanup(ctx context.Context, cluster string) error
}

// Importer is implemented by providers that can take a machine that
// already exists into a cluster as one of its hosts (diffuser import, as
// Terraform's import). Import finds the machine that id names, makes it
// reachable as Launch makes its hosts reachable (the workspace key
// authorized where the provider does that, the cluster's network), marks
// it as spec's host where the provider marks ownership (tags), and
// reports it as Launch would, so that Status, Start and Destroy treat it
// as one of the cluster's hosts from then on: destroy releases it.
// Import launches nothing, and refuses a machine it cannot use (not
// running, lacking a volume spec declares, another cluster's host under
// the same identity), saying why.
type Importer interface {
	Import(ctx context.Context, spec HostSpec, id string) (Host, error)
}

// ImportUndoer is an Importer whose Import changes the machine: UndoImport
// takes back what this provider's Import of h as spec's host changed
// (aws: its tags; docker: the cluster network it joined, the key added to
// root's authorized_keys), when the import is not recorded (the machine
// did not answer over SSH). Without it the machine stayed marked as the
// cluster's, and the cluster's destroy removed a machine state never
// recorded. It undoes nothing an earlier process did, and nothing twice.
type ImportUndoer interface {
	UndoImport(ctx context.Context, spec HostSpec, h Host) error
}

// ReachSettings is implemented by a Factory some of whose settings say only
// how hosts are reached, not which hosts they are. They stay out of the
// launch digest, so changing one never replaces a host: the provider's
// Status reports Moved instead.
type ReachSettings interface {
	ReachSettings() []string
}

// FormerReachSettings is implemented by a ReachSettings factory some of
// whose reach settings were once in the launch digest. A host recorded
// with a digest that holds them at their present values is the same host,
// so that making a setting a reach setting replaces nothing already built.
// RecordedReach is what the recorded hosts of a group (by index; a zero
// Host where none is recorded) say each of those settings may have been
// when the one at index was launched, besides its present value (the
// group's settings are now present): a host whose setting changed since
// is recognised too when one of them was. They are listed
// in the order they left the digest: a host's digest holds those that had
// not left yet when it was launched.
type FormerReachSettings interface {
	FormerReachSettings() []string
	RecordedReach(group []Host, index int, present cty.Value) map[string][]cty.Value
}

// Expirer is implemented by providers that mark a cluster's deadline on
// hosts already running (aws: the tag). An apply that moves the deadline
// calls it for every host; spec.Expires is the new deadline (zero: none).
type Expirer interface {
	Expire(ctx context.Context, spec HostSpec, h Host) error
}

// Exposure is implemented by a Factory that can tell, from a group's
// settings, whether its hosts accept connections from hosts of other
// providers (outside their own network). When not, reason says why, in a
// phrase that follows "its hosts ...".
type Exposure interface {
	Exposed(settings cty.Value) (ok bool, reason string)
}

// Factory builds a provider from its site settings.
type Factory interface {
	// Spec describes the `provider "<name>" { ... }` block. No attribute may
	// be Required: every setting has a default.
	Spec() hcldec.ObjectSpec
	New(ctx context.Context, settings cty.Value, env Env) (Provider, error)
}

// Env is what the engine hands every provider.
type Env struct {
	Keys    Keys
	WorkDir string // the workspace directory (.diffuser/<workspace>), for provider files
	Log     func(format string, args ...any)
}

// DeadlineMover is implemented by a Provider whose hosts end themselves at
// the cluster's deadline by a timer on the host (aws). DeadlineCommand is
// the shell command (run as root over SSH) that moves that timer to
// spec.Expires, or cancels it when zero; "" when there is nothing to run.
// The workspace runs it on every host after Expirer.Expire.
type DeadlineMover interface {
	DeadlineCommand(spec HostSpec) string
}

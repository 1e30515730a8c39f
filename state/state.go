package state

import (
	"encoding/json"
	"net"
	"strconv"
	"time"
)

// SchemaVersion is the version of the state file format this build writes.
// A file with a higher version is refused rather than misread; every
// version from 1 up is read, and saved as this one.
//
// The version moves when a diffuser that reads the previous one would
// misread what this one writes. 2: state holds module instances
// (module.brick.step.format["server[0]"]) and fields (host facts,
// remembered inputs, succeeded_on) that diffusers reading version 1 before
// 2026-12-06 took for steps' names (planning their destroy) or dropped
// at their next save, and version-1 readers since refuse as damaged; they
// all refuse version 2 as written by a newer diffuser. A new field alone
// does not move it: readers of version 2 refuse to write a state with a
// field they do not know (Writable).
const SchemaVersion = 2

// Instance statuses.
const (
	StatusApplied = "applied" // the step instance finished successfully with Digest as input
	StatusFailed  = "failed"  // the last attempt failed; it is re-run on the next apply
)

// State is what was applied in one workspace. The zero value is not valid;
// use New.
type State struct {
	Version  int                  `json:"version"`
	Serial   uint64               `json:"serial"`
	Lineage  string               `json:"lineage"`
	Recipe   string               `json:"recipe,omitempty"`
	Cluster  string               `json:"cluster,omitempty"` // provider-visible cluster name, fixed at first apply
	Provider string               `json:"provider,omitempty"`
	Hosts    map[string]*Host     `json:"hosts"`     // keyed by host name, e.g. "server[1]"
	Steps    map[string]*Instance `json:"instances"` // keyed by instance address, e.g. `step.glusterd["server[1]"]`
	Outputs  map[string]Output    `json:"outputs,omitempty"`
	Inputs   *Inputs              `json:"inputs,omitempty"` // what the last apply ran with; nil before one
	// Expires is the cluster's deadline (zero: none), set by an apply given
	// a ttl: diffuser destroy --expired sweeps it once it has passed.
	Expires time.Time `json:"expires,omitzero"`

	// unknown is what the files this state was decoded from held that
	// these types do not (see Writable).
	unknown unknown
}

// Host is one launched machine.
type Host struct {
	Name       string            `json:"name"`
	Group      string            `json:"group"`
	Index      int               `json:"index"`
	Provider   string            `json:"provider"`
	ProviderID string            `json:"provider_id"`
	PrivateIP  string            `json:"private_ip,omitempty"`
	PublicIP   string            `json:"public_ip,omitempty"`
	SSH        SSH               `json:"ssh"`
	Volumes    map[string]Volume `json:"volumes,omitempty"`
	Attrs      map[string]string `json:"attrs,omitempty"` // provider-specific facts
	Digest     string            `json:"digest"`          // launch input digest; a change means replace
	Launched   time.Time         `json:"launched"`
	// Facts are what the host told about itself after launch or at the
	// last refresh (package facts' JSON); absent in state written before
	// facts were gathered.
	Facts json.RawMessage `json:"facts,omitempty"`
}

// SSH is how a host is reached. HostKey is pinned on first use
// (authorized_keys format) and a different key is refused afterwards.
// Jump is the host connected through, itself perhaps reached through its
// own Jump: the chain ends at the hop dialed first.
type SSH struct {
	Address string `json:"address"`
	Port    int    `json:"port"`
	User    string `json:"user"`
	KeyFile string `json:"key_file,omitempty"`
	// IdentityFiles are more private keys to offer (the static provider's
	// IdentityFile entries of ~/.ssh/config); one that is missing or
	// passphrase-protected is skipped, as ssh skips it.
	IdentityFiles []string `json:"identity_files,omitempty"`
	HostKey       string   `json:"host_key,omitempty"`
	Jump          *SSH     `json:"jump,omitempty"`
}

// Target is how s is logged in to: user@address:port (port 22 when
// unset; an IPv6 address in brackets).
func (s SSH) Target() string {
	port := s.Port
	if port == 0 {
		port = 22
	}
	return s.User + "@" + net.JoinHostPort(s.Address, strconv.Itoa(port))
}

// Hops are the Targets of s's jump hosts, the first one dialed first.
func (s SSH) Hops() []string {
	var hops []string
	for j := s.Jump; j != nil; j = j.Jump {
		hops = append([]string{j.Target()}, hops...)
	}
	return hops
}

// Volume is one block device attached to a host.
type Volume struct {
	Device     string `json:"device"`
	ProviderID string `json:"provider_id,omitempty"`
	SizeGB     int    `json:"size_gb"`
}

// Instance is one applied step instance.
type Instance struct {
	Step      string            `json:"step"`
	Host      string            `json:"host"`
	Kind      string            `json:"kind"`
	Digest    string            `json:"digest"`
	Args      json.RawMessage   `json:"args,omitempty"` // evaluated arguments (omitted when sensitive), for destroy
	Status    string            `json:"status"`
	Outputs   map[string]string `json:"outputs,omitempty"`
	Sensitive bool              `json:"sensitive,omitempty"`
	Destroy   string            `json:"destroy,omitempty"` // rendered destroy command, run when the step leaves the recipe
	// SucceededOn is the provider id of the host on which the instance
	// last finished successfully; it survives later failed runs, so
	// destroy knows the instance made something on that host. Files
	// written before it existed lack it: see EverSucceeded.
	SucceededOn string    `json:"succeeded_on,omitempty"`
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished"`
	Error       string    `json:"error,omitempty"`
	// Pending is a restart (or reload) this service step owes: set before a
	// step named in its restart_on (reload_on) runs, cleared when the
	// service step next succeeds, so an apply that dies in between still
	// restarts next time. "restart: step.conf[\"server[1]\"]".
	Pending string `json:"pending,omitempty"`
}

// EverSucceeded reports whether the instance finished successfully at
// least once on the host whose provider id is providerID (a host replaced
// since is a new machine: what the instance made went with the old one).
// known is false for a failed instance recorded before SucceededOn
// existed: its history is not in the file.
func (i *Instance) EverSucceeded(providerID string) (yes, known bool) {
	switch {
	case i.SucceededOn != "":
		return i.SucceededOn == providerID, true
	case i.Status == StatusApplied:
		// An applied instance succeeded on the host it is recorded
		// under (its digest holds that host's provider id).
		return true, true
	default:
		return false, i.Status != StatusFailed
	}
}

// Output is one recipe output value as last applied.
type Output struct {
	Value     string `json:"value"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// New returns an empty state with a fresh lineage.
func New(lineage string) *State {
	return &State{
		Version: SchemaVersion,
		Lineage: lineage,
		Hosts:   map[string]*Host{},
		Steps:   map[string]*Instance{},
		Outputs: map[string]Output{},
	}
}

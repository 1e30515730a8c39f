package views

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"diffuser/facts"
	"diffuser/state"
)

// StateListJSON is `diffuser state list -json`: every host and step
// instance in a workspace's state, sorted by address.
type StateListJSON struct {
	Hosts     []StateHostJSON     `json:"hosts"`
	Instances []StateInstanceJSON `json:"instances"`
}

// StateHostJSON is one host in StateListJSON.
type StateHostJSON struct {
	Address  string `json:"address"` // launch["server[0]"]
	Name     string `json:"name"`
	Group    string `json:"group"`
	Provider string `json:"provider"`
}

// StateInstanceJSON is one step instance in StateListJSON.
type StateInstanceJSON struct {
	Address string `json:"address"` // step.NAME["HOST"]
	Step    string `json:"step"`
	Host    string `json:"host"`
	Kind    string `json:"kind"`
	Status  string `json:"status"` // applied, failed
}

// NewStateListJSON lists st's hosts and instances (never null).
func NewStateListJSON(st *state.State, launchAddr func(host string) string) StateListJSON {
	out := StateListJSON{Hosts: []StateHostJSON{}, Instances: []StateInstanceJSON{}}
	for _, n := range sortedKeys(st.Hosts) {
		h := st.Hosts[n]
		out.Hosts = append(out.Hosts, StateHostJSON{Address: launchAddr(n), Name: n, Group: h.Group, Provider: h.Provider})
	}
	for _, a := range sortedKeys(st.Steps) {
		i := st.Steps[a]
		out.Instances = append(out.Instances, StateInstanceJSON{Address: a, Step: i.Step, Host: i.Host, Kind: i.Kind, Status: i.Status})
	}
	return out
}

// HostJSON is one element of `diffuser hosts -json`.
type HostJSON struct {
	Name       string                `json:"name"`
	Group      string                `json:"group"`
	Index      int                   `json:"index"`
	Provider   string                `json:"provider"`
	ProviderID string                `json:"provider_id"`
	PrivateIP  string                `json:"private_ip"`
	PublicIP   string                `json:"public_ip"`
	SSH        HostSSHJSON           `json:"ssh"`
	Volumes    map[string]VolumeJSON `json:"volumes"`
	Launched   time.Time             `json:"launched"`
	// Facts are the host's facts as last gathered; absent when state has
	// none (a host launched before facts were gathered).
	Facts *facts.Facts `json:"facts,omitempty"`
}

// HostSSHJSON is how diffuser reaches a host (jump hosts are not shown).
type HostSSHJSON struct {
	Address string `json:"address"`
	Port    int    `json:"port"`
	User    string `json:"user"`
}

// VolumeJSON is one of a host's volumes.
type VolumeJSON struct {
	Device string `json:"device"`
	SizeGB int    `json:"size_gb"`
}

// NewHostsJSON lists st's hosts by name (never null).
func NewHostsJSON(st *state.State) []HostJSON {
	out := []HostJSON{}
	for _, n := range sortedKeys(st.Hosts) {
		h := st.Hosts[n]
		j := HostJSON{Name: n, Group: h.Group, Index: h.Index, Provider: h.Provider, ProviderID: h.ProviderID,
			PrivateIP: h.PrivateIP, PublicIP: h.PublicIP, SSH: HostSSHJSON{Address: h.SSH.Address, Port: h.SSH.Port, User: h.SSH.User},
			Volumes: map[string]VolumeJSON{}, Launched: h.Launched.UTC()}
		for vn, v := range h.Volumes {
			j.Volumes[vn] = VolumeJSON{Device: v.Device, SizeGB: v.SizeGB}
		}
		if f, ok := facts.Decode(h.Facts); ok {
			j.Facts = &f
		}
		out = append(out, j)
	}
	return out
}

// OutputJSON is one output in `diffuser output -json`: the map of every
// output by name.
type OutputJSON struct {
	Value     string `json:"value"` // "(sensitive)" unless --show-sensitive
	Sensitive bool   `json:"sensitive,omitempty"`
}

// NewOutputsJSON is the outputs by name (never null), sensitive values
// masked unless showSensitive.
func NewOutputsJSON(outputs map[string]state.Output, showSensitive bool) map[string]OutputJSON {
	out := map[string]OutputJSON{}
	for k, o := range outputs {
		v := o.Value
		if o.Sensitive && !showSensitive {
			v = "(sensitive)"
		}
		out[k] = OutputJSON{Value: v, Sensitive: o.Sensitive}
	}
	return out
}

// FactsSummary is a host's facts in one word-list for tables: OS id and
// version, architecture, cores and memory ("debian 12 x86_64 2c 3934M");
// "-" when state has none.
func FactsSummary(raw json.RawMessage) string {
	f, ok := facts.Decode(raw)
	if !ok {
		return "-"
	}
	var parts []string
	for _, p := range []string{f.OS.ID, f.OS.VersionID, f.Arch} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if f.Cores > 0 {
		parts = append(parts, fmt.Sprintf("%dc", f.Cores))
	}
	if f.MemoryMB > 0 {
		parts = append(parts, fmt.Sprintf("%dM", f.MemoryMB))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

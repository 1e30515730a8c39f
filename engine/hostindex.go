package engine

import (
	"slices"

	"diffuser/state"
)

// hostIndex answers, in O(1) per launch, what launches ask of every host
// state records: which hosts record a provider id (recordedAs) and which
// key state pins for a jump host (PinJumpKeys). Scanning st.Hosts for
// both at every launch made a 10,000-host apply quadratic. It is kept
// beside applier.st.Hosts, under applier.mu.
type hostIndex struct {
	byID map[string][]string // provider id -> names of the hosts recording it
	// jumpKeys: "address:port" of a jump host -> the key state pins for it.
	// A key stays known for the whole command, also when the host whose
	// chain pinned it is replaced: its bastion is still the bastion.
	jumpKeys map[string]string
}

func newHostIndex(hosts map[string]*state.Host) *hostIndex {
	x := &hostIndex{byID: map[string][]string{}, jumpKeys: map[string]string{}}
	for _, h := range hosts {
		x.put(nil, h)
	}
	return x
}

// put records h, replacing old (the previous record of h.Name, or nil).
func (x *hostIndex) put(old, h *state.Host) {
	if old != nil {
		x.remove(old)
	}
	if h.ProviderID != "" {
		x.byID[h.ProviderID] = append(x.byID[h.ProviderID], h.Name)
	}
	addJumpKeys(x.jumpKeys, h)
}

// remove forgets h's provider id (not its jump keys).
func (x *hostIndex) remove(h *state.Host) {
	names := x.byID[h.ProviderID]
	if i := slices.Index(names, h.Name); i >= 0 {
		names = slices.Delete(names, i, i+1)
	}
	if len(names) == 0 {
		delete(x.byID, h.ProviderID)
	} else {
		x.byID[h.ProviderID] = names
	}
}

// other returns a host other than name that records provider id id, or "".
func (x *hostIndex) other(id, name string) string {
	for _, n := range x.byID[id] {
		if n != name {
			return n
		}
	}
	return ""
}

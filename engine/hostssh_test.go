package engine

import (
	"testing"

	"diffuser/state"
)

// A jump host's pinned key follows the jump host, not the target: a new
// or relaunched host behind the same bastion (same address and port,
// port 0 meaning 22) gets the key state pinned, and nothing else does.
func TestPinJumpKeys(t *testing.T) {
	hosts := map[string]*state.Host{
		"a": {SSH: state.SSH{Address: "10.0.0.1", Jump: &state.SSH{Address: "bastion", Port: 22, HostKey: "ssh-ed25519 BASTION",
			Jump: &state.SSH{Address: "outer", Port: 2222, HostKey: "ssh-ed25519 OUTER"}}}},
		"b": {SSH: state.SSH{Address: "10.0.0.2", Jump: &state.SSH{Address: "other"}}},
	}
	h := state.Host{SSH: state.SSH{Address: "10.0.0.3", Jump: &state.SSH{Address: "bastion",
		Jump: &state.SSH{Address: "outer", Port: 2222}}}}
	PinJumpKeys(&h, hosts)
	if h.SSH.Jump.HostKey != "ssh-ed25519 BASTION" || h.SSH.Jump.Jump.HostKey != "ssh-ed25519 OUTER" || h.SSH.HostKey != "" {
		t.Errorf("chain after pinning: %+v / %+v, target key %q", h.SSH.Jump, h.SSH.Jump.Jump, h.SSH.HostKey)
	}
	for _, j := range []*state.SSH{{Address: "bastion", Port: 2200}, {Address: "outer"}, {Address: "other"}} {
		h := state.Host{SSH: state.SSH{Jump: j}}
		PinJumpKeys(&h, hosts)
		if j.HostKey != "" {
			t.Errorf("%s:%d got key %q from another jump host", j.Address, j.Port, j.HostKey)
		}
	}
	// A key the new chain already has is kept.
	k := state.Host{SSH: state.SSH{Jump: &state.SSH{Address: "bastion", HostKey: "ssh-ed25519 MINE"}}}
	PinJumpKeys(&k, hosts)
	if k.SSH.Jump.HostKey != "ssh-ed25519 MINE" {
		t.Errorf("an own key was replaced: %q", k.SSH.Jump.HostKey)
	}
}

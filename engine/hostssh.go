package engine

import (
	"fmt"
	"strings"

	"diffuser/cloud"
	"diffuser/state"
)

// stateSSH is how state records the way a provider says its host is reached.
func stateSSH(ch cloud.Host) state.SSH {
	s := state.SSH{Address: ch.SSHAddress, Port: ch.SSHPort, User: ch.SSHUser, IdentityFiles: ch.SSHIdentityFiles}
	for _, hp := range ch.SSHJump {
		s.Jump = &state.SSH{Address: hp.Address, Port: hp.Port, User: hp.User, IdentityFiles: hp.IdentityFiles, Jump: s.Jump}
	}
	return s
}

// cloudJump turns a recorded jump chain back into hops, the one dialed
// first first.
func cloudJump(j *state.SSH) []cloud.Hop {
	var hops []cloud.Hop
	for ; j != nil; j = j.Jump {
		hops = append([]cloud.Hop{{Address: j.Address, Port: j.Port, User: j.User, IdentityFiles: j.IdentityFiles}}, hops...)
	}
	return hops
}

// PinJumpKeys fills the host key of every hop of h's jump chain that has
// none with the key state already pins for the same jump host (same
// address and port) on the way to any host, h's former record included. A
// jump host is one machine whoever goes through it: a relaunched host, or
// a new one behind the same bastion, does not trust a key on first use
// that state already pinned, and a changed bastion key is refused for
// every host alike.
func PinJumpKeys(h *state.Host, hosts map[string]*state.Host) {
	pinned := map[string]string{}
	for _, o := range hosts {
		addJumpKeys(pinned, o)
	}
	pinJumps(h, pinned)
}

// addJumpKeys adds the keys o's jump chain pins to pinned (by hopKey).
func addJumpKeys(pinned map[string]string, o *state.Host) {
	for j := o.SSH.Jump; j != nil; j = j.Jump {
		if j.HostKey != "" {
			pinned[hopKey(j)] = j.HostKey
		}
	}
}

// pinJumps fills every hop of h's jump chain that has no key with pinned's.
func pinJumps(h *state.Host, pinned map[string]string) {
	for j := h.SSH.Jump; j != nil; j = j.Jump {
		if j.HostKey == "" {
			j.HostKey = pinned[hopKey(j)]
		}
	}
}

func hopKey(j *state.SSH) string {
	port := j.Port
	if port == 0 {
		port = 22
	}
	return fmt.Sprintf("%s:%d", j.Address, port)
}

// describeReach says how h is reached, for an error: "root@10.0.0.5:2222,
// key_file ~/.ssh/new, through ops@bastion:22".
func describeReach(h state.Host) string {
	parts := []string{h.SSH.Target()}
	if k := h.Attrs["ssh_key_file"]; k != "" {
		parts = append(parts, "key_file "+k)
	}
	if len(h.SSH.IdentityFiles) > 0 {
		parts = append(parts, "IdentityFile "+strings.Join(h.SSH.IdentityFiles, ", "))
	}
	if hops := h.SSH.Hops(); len(hops) > 0 {
		parts = append(parts, "through "+strings.Join(hops, ","))
	}
	return strings.Join(parts, ", ")
}

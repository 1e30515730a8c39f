package engine

import (
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

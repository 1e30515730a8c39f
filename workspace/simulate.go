package workspace

import (
	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/state"
	"diffuser/steps"
	"diffuser/steps/builtin"
	"fmt"
)

// SimOptions turn on `--simulate`: hosts that exist only in this process,
// and step kinds that sleep a drawn duration instead of running commands.
type SimOptions struct {
	Enabled bool
	Profile string // JSON file of per-kind durations and failure rates
	Seed    uint64 // same seed, same run
}

// simulation is the in-memory world of a simulated run. The real engine,
// graph, state and progress run unchanged on top of it. Hosts recorded in
// state are adopted, so a later command (plan, destroy) sees what an
// earlier apply launched.
type simulation struct {
	cloud   *sim.Cloud
	profile sim.Profile
}

func (e *Env) simulation() (*simulation, error) {
	if !e.Sim.Enabled {
		return nil, nil
	}
	if e.sim != nil {
		return e.sim, nil
	}
	var p sim.Profile
	if e.Sim.Profile != "" {
		var err error
		if p, err = sim.LoadProfile(e.Sim.Profile); err != nil {
			return nil, fmt.Errorf("simulation profile (--sim-profile, format in docs/scale.md): %w", err)
		}
	}
	if e.Sim.Seed != 0 {
		p.Seed = e.Sim.Seed
	}
	if p.Connect == (sim.ConnectModel{}) {
		// Reaching hosts costs what it does for real: handshakes, and
		// sshd's cap on sessions per connection. Without a profile steps
		// take no time, and neither do handshakes.
		p.Connect = sim.DefaultConnect
		if len(p.Kinds) == 0 {
			p.Connect = sim.ConnectModel{MaxSessions: sim.DefaultConnect.MaxSessions}
		}
	}
	c := sim.New()
	c.Profile = p
	e.sim = &simulation{cloud: c, profile: p}
	return e.sim, nil
}

// simProvider is the provider key of the hosts --simulate makes.
const simProvider = "sim"

// fromSimulation says whether provider is that of hosts a --simulate run
// made, seen by a command that does not simulate (no provider of that
// name exists for it).
func (e *Env) fromSimulation(provider string) bool {
	_, known := e.factories()[provider]
	return provider == simProvider && !known
}

func (s *simulation) kinds() steps.Registry { return sim.Kinds(builtin.Kinds(), s.profile) }

func (s *simulation) factory() cloud.Factory { return s.cloud.Factory() }

// adopt makes the hosts a previous simulated apply recorded exist again.
func (s *simulation) adopt(cluster string, st *state.State) {
	for _, h := range st.Hosts {
		if h.Provider == simProvider {
			s.cloud.Adopt(cluster, h.Name, h.ProviderID, h.PrivateIP)
		}
	}
}

func (s *simulation) connector() engine.Connector { return s.cloud.Connector() }

package main

import (
	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/state"
	"diffuser/steps"
	"diffuser/steps/builtin"
)

// simulation is the in-memory world of `--simulate`: hosts that exist only
// in this process, and step kinds that sleep a drawn duration instead of
// running commands. The real engine, graph, state and progress run
// unchanged on top of it. Hosts recorded in state are adopted, so a later
// command (plan, destroy) sees what an earlier apply launched.
type simulation struct {
	cloud   *sim.Cloud
	profile sim.Profile
}

func (a *app) simulation() (*simulation, error) {
	if !a.flags.simulate {
		return nil, nil
	}
	if a.sim != nil {
		return a.sim, nil
	}
	var p sim.Profile
	if a.flags.simProfile != "" {
		var err error
		if p, err = sim.LoadProfile(a.flags.simProfile); err != nil {
			return nil, err
		}
	}
	if a.flags.simSeed != 0 {
		p.Seed = a.flags.simSeed
	}
	c := sim.New()
	c.Profile = p
	a.sim = &simulation{cloud: c, profile: p}
	return a.sim, nil
}

// kinds returns the step kinds: real ones, or simulated ones.
func (a *app) kinds() (steps.Registry, error) {
	s, err := a.simulation()
	if err != nil || s == nil {
		return builtin.Kinds(), err
	}
	return sim.Kinds(builtin.Kinds(), s.profile), nil
}

func (s *simulation) factory() cloud.Factory { return s.cloud.Factory() }

// adopt makes the hosts a previous simulated apply recorded exist again.
func (s *simulation) adopt(cluster string, st *state.State) {
	for _, h := range st.Hosts {
		if h.Provider == "sim" {
			s.cloud.Adopt(cluster, h.Name, h.ProviderID, h.PrivateIP)
		}
	}
}

func (s *simulation) connector() engine.Connector { return s.cloud.Connector() }

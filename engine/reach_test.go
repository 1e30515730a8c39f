package engine_test

import (
	"context"
	"sync"
	"testing"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/state"
	"diffuser/steps"

	"github.com/zclconf/go-cty/cty"
)

// reachCounter reaches the hosts of provider "static" on port 2222 now,
// and counts the hosts it is asked about.
type reachCounter struct {
	mu    sync.Mutex
	asked map[string]int
}

func (r *reachCounter) count(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked[name]++
}

func (r *reachCounter) HostStatus(_ context.Context, _ cloud.HostSpec, h *state.Host) (cloud.Status, error) {
	r.count(h.Name)
	if h.Provider == "static" {
		return cloud.Rerouted, nil
	}
	return cloud.Running, nil
}

func (r *reachCounter) Check(context.Context, *state.Host, steps.Kind, cty.Value) (steps.Check, error) {
	return steps.Check{}, nil
}

func (r *reachCounter) Reaches(provider string) bool { return provider == "static" }

func (r *reachCounter) Reach(_ context.Context, _ cloud.HostSpec, h *state.Host) (cloud.Host, error) {
	r.count(h.Name)
	ch := engine.CloudHost(h)
	if h.Provider == "static" {
		ch.SSHPort = 2222
	}
	return ch, nil
}

// TestReachNowAsksOnlyReachers: ReachNow (destroy, verify, bench) asks how
// a host is reached now only when its provider may reach it another way:
// a destroy of many docker hosts beside one static host asks the static
// one only, once how it is reached and once its status, and finds it on
// its new port.
func TestReachNowAsksOnlyReachers(t *testing.T) {
	l := mustLoad(t, `
recipe "x" {}
hosts "lab" {}
hosts "node" { count = 50 }
`)
	st := state.New("x")
	for _, h := range l.Graph.Hosts {
		p := "docker"
		if h.Group == "lab" {
			p = "static"
		}
		st.Hosts[h.Name] = &state.Host{Name: h.Name, Group: h.Group, Index: h.Index, Provider: p, ProviderID: h.Name,
			SSH: state.SSH{Address: "10.0.0.1", Port: 22, User: "root"}}
	}
	r := &reachCounter{asked: map[string]int{}}
	now := l.ReachNow(context.Background(), engine.PlanOptions{Refresh: r, Settings: noSettings}, st)
	if len(now) != 1 || now["lab[0]"] == nil || now["lab[0]"].SSH.Port != 2222 {
		t.Errorf("reached now: %v, want lab[0] on port 2222", now)
	}
	// lab[0] once how it is reached, once its status: not how it is
	// reached a second time.
	if len(r.asked) != 1 || r.asked["lab[0]"] != 2 {
		t.Errorf("asked %v, want lab[0] only, twice (its reach, its status)", r.asked)
	}
}

package workspace_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"diffuser/facts"
	"diffuser/state"
	"diffuser/workspace"
)

// TestGlusterfsStateBeforeFacts: a glusterfs workspace applied before
// host facts existed (no facts in state, `distro` remembered) still plans:
// the remembered variable is dropped with a warning, every host gets a
// launch that only records its facts, and no step re-runs.
func TestGlusterfsStateBeforeFacts(t *testing.T) {
	w := newSimWorld(t)
	w.env = &workspace.Env{DataDir: w.env.DataDir, Sim: workspace.SimOptions{Enabled: true}} // simulated kinds
	w.apply("glusterfs", "gl")
	if got := w.plan("glusterfs", "gl"); len(got) != 0 {
		t.Fatalf("plan after apply: %v", got)
	}
	st := w.state("gl")
	for n, h := range st.Hosts {
		if f, ok := facts.Decode(h.Facts); !ok || f.OS.Family != "debian" {
			t.Fatalf("%s: facts %s", n, h.Facts)
		}
	}

	// Make it the state an older diffuser wrote.
	store := state.Open(w.env.Layout().Workspace("gl"))
	unlock, err := store.Lock(context.Background(), state.CurrentHolder("test"))
	if err != nil {
		t.Fatal(err)
	}
	old, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range old.Hosts {
		h.Facts = nil
	}
	if old.Inputs.Vars == nil {
		old.Inputs.Vars = map[string]state.Var{}
	}
	old.Inputs.Vars["distro"] = state.Var{Type: json.RawMessage(`"string"`), Value: json.RawMessage(`"debian"`)}
	if err := store.Save(old); err != nil {
		t.Fatal(err)
	}
	_ = unlock()

	pl, err := w.env.Plan(context.Background(), workspace.PlanRequest{Inputs: w.inputs("glusterfs", "gl"), Command: "plan", Refresh: true})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	warned := false
	for _, d := range pl.WS.Warnings {
		warned = warned || strings.Contains(d.Summary+d.Detail, "no longer declares") && strings.Contains(d.Detail, "var.distro")
	}
	pl.Close()
	if !warned {
		t.Errorf("no warning about the remembered distro: %v", pl.WS.Warnings)
	}
	got := w.plan("glusterfs", "gl")
	if len(got) != len(st.Hosts) {
		t.Fatalf("plan of the old state: %v", got)
	}
	for _, line := range got {
		if !strings.HasPrefix(line, "~ launch[") || !strings.HasSuffix(line, "(host facts not recorded yet)") {
			t.Errorf("unexpected change %q", line)
		}
	}
	w.apply("glusterfs", "gl")
	for n, h := range w.state("gl").Hosts {
		if h.ProviderID != st.Hosts[n].ProviderID {
			t.Errorf("recording facts replaced %s", n)
		}
		if _, ok := facts.Decode(h.Facts); !ok {
			t.Errorf("%s: no facts recorded", n)
		}
	}
	if got := w.plan("glusterfs", "gl"); len(got) != 0 {
		t.Fatalf("plan after recording facts: %v", got)
	}
	if _, ok := w.state("gl").Inputs.Vars["distro"]; ok {
		t.Error("the apply kept the remembered distro")
	}
}

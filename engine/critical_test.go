package engine_test

import (
	"reflect"
	"testing"
	"time"

	"diffuser/engine"
)

const criticalRecipe = `
recipe "crit" {}
hosts "h" { count = 2 }
step "a" {
  on  = hosts.h
  run = "a"
}
step "b" {
  on    = hosts.h
  after = [step.a]
  run   = "b"
}
step "c" {
  on        = hosts.h[0]
  after_all = [step.b]
  run       = "c"
}
step "d" {
  on  = hosts.h[1]
  run = "d"
}
`

func TestCriticalPath(t *testing.T) {
	l := mustLoad(t, criticalRecipe)
	g := l.Graph
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	stepV := func(name string, host int) int32 {
		for s, st := range g.Steps {
			if st.Name != name {
				continue
			}
			for i, h := range g.StepHosts[s] {
				if int(h) == host {
					return g.StepVertex(s, i)
				}
			}
		}
		t.Fatalf("no vertex for %s on host %d", name, host)
		return -1
	}
	span := func(v int32, from, to float64) engine.Span {
		return engine.Span{Addr: g.Addr(v), Host: g.Hosts[g.Ref[v]].Name, Start: sec(from), End: sec(to), V: v, Status: "ok"}
	}
	spans := []engine.Span{
		span(g.LaunchV[0], 0, 1),
		span(g.LaunchV[1], 0, 3),
		span(stepV("a", 0), 1, 2),
		span(stepV("a", 1), 3, 4),
		span(stepV("b", 0), 2, 6), // the long one: c waits for it through the join
		span(stepV("b", 1), 4, 5),
		span(stepV("d", 1), 3, 6.5),
		span(stepV("c", 0), 6, 7),
	}
	var got []string
	for _, i := range engine.CriticalPath(g, spans) {
		got = append(got, spans[i].Addr)
	}
	want := []string{`launch["h[0]"]`, `step.a["h[0]"]`, `step.b["h[0]"]`, `step.c["h[0]"]`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("critical path %v, want %v", got, want)
	}

	// When h[1]'s chain is longer, the path goes through it and the join.
	spans[1].End, spans[3].Start, spans[3].End, spans[5].Start, spans[5].End = sec(4), sec(4), sec(5), sec(5), sec(9)
	spans[7].Start, spans[7].End = sec(9), sec(10)
	got = nil
	for _, i := range engine.CriticalPath(g, spans) {
		got = append(got, spans[i].Addr)
	}
	want = []string{`launch["h[1]"]`, `step.a["h[1]"]`, `step.b["h[1]"]`, `step.c["h[0]"]`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("critical path %v, want %v", got, want)
	}

	if p := engine.CriticalPath(g, nil); len(p) != 0 {
		t.Errorf("no spans: %v", p)
	}
}

// Destroy spans have no vertex: the path follows the host's sequence.
func TestCriticalPathWithoutVertices(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sec := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	spans := []engine.Span{
		{Addr: "x1", Host: "a", Start: sec(0), End: sec(2), V: -1},
		{Addr: "y1", Host: "b", Start: sec(0), End: sec(1), V: -1},
		{Addr: "x2", Host: "a", Start: sec(2), End: sec(5), V: -1},
		{Addr: "y2", Host: "b", Start: sec(1), End: sec(3), V: -1},
		{Addr: "x3", Host: "a", Start: sec(5), End: sec(6), V: -1},
	}
	var got []string
	for _, i := range engine.CriticalPath(nil, spans) {
		got = append(got, spans[i].Addr)
	}
	if want := []string{"x1", "x2", "x3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("critical path %v, want %v", got, want)
	}
}

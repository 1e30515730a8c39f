package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStaleBy: the stale saved plan's error names the first run kept here
// that moved the serial past the plan's, and says so when something that
// keeps no run (another machine, state rm, ...) moved it first.
func TestStaleBy(t *testing.T) {
	e := &Env{DataDir: filepath.Join(t.TempDir(), ".diffuser")}
	t0 := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	var ids []string
	add := func(lineage string, before, after uint64) {
		i := len(ids)
		r := &Run{ID: newRunID(t0.Add(time.Duration(i) * time.Minute)), Workspace: "w", Operation: "apply", Status: "succeeded",
			Started: t0.Add(time.Duration(i) * time.Minute), Lineage: lineage, SerialBefore: before, SerialAfter: after}
		r.dir = filepath.Join(e.Layout().Runs("w"), r.ID)
		if err := os.MkdirAll(r.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := writeRun(r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	add("L", 3, 5)     // before the plan
	add("other", 5, 6) // another lineage
	add("L", 6, 7)     // after a state rm took 5 to 6
	add("L", 7, 9)
	sp := &SavedPlan{Workspace: "w", Lineage: "L", Serial: 5}
	cases := []struct {
		name          string
		sp            *SavedPlan
		lineage       string
		now           uint64
		want, notWant []string
	}{
		{"a gap before the first run", sp, "L", 9,
			[]string{"apply run " + ids[2], "and 1 run(s) after it", "diffuser show " + ids[2], "after a change no run kept on this machine made"}, []string{ids[1], ids[0]}},
		{"runs only", &SavedPlan{Workspace: "w", Lineage: "L", Serial: 6}, "L", 9,
			[]string{"apply run " + ids[2], "and 1 run(s) after it"}, []string{"no run kept"}},
		{"no run", &SavedPlan{Workspace: "w", Lineage: "L", Serial: 9}, "L", 10,
			[]string{"no run kept on this machine changed it"}, []string{"apply run"}},
		{"another lineage", sp, "M", 1, []string{"another state now"}, []string{"apply run"}},
	}
	for _, c := range cases {
		got := e.staleBy(c.sp, c.lineage, c.now)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", c.name, got, w)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(got, w) {
				t.Errorf("%s: %q says %q", c.name, got, w)
			}
		}
	}
}

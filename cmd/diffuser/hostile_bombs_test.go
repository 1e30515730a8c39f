package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// snapshotDir maps every file under dir to its content.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			out[p] = string(b)
		}
		return nil
	})
	return out
}

// TestHostileBombsAndTimeouts: recipes and flags meant to exhaust memory
// or time, or to unbound a step, given to validate, plan and apply of a
// workspace that holds an applied cluster. Each is refused within seconds
// (exit 1), on its line, saying what was capped; no panic; nothing in the
// data dir changes.
func TestHostileBombsAndTimeouts(t *testing.T) {
	e := newSimCLI(t, nil)
	good := e.write("good/main.hcl", "recipe \"g\" {}\nhosts \"h\" { count = 1 }\nstep \"s\" {\n  on  = hosts.h\n  run = \"true\"\n}\n")
	if code, out := e.apply(good, "--workspace", "w"); code != 0 {
		t.Fatalf("setup apply: exit %d\n%s", code, out)
	}
	e.write("bad/nested.tpl", "%{ for a in range(1000) }%{ for b in range(1000) }%{ for c in range(1000) }${c}%{ endfor }%{ endfor }%{ endfor }")
	head := "recipe \"b\" {}\nhosts \"h\" { count = 1 }\n"
	step := func(run string) string { return head + "step \"s\" {\n  on  = hosts.h\n  run = " + run + "\n}\n" }
	for _, c := range []struct{ name, src, line, want string }{
		{"setproduct in a local", head + "locals {\n  x = setproduct(range(1000), range(1000), range(1000))\n}\n", "line 4", `"setproduct" failed: the product would have more than 1000000 elements`},
		{"format width in a command", step(`format("%1000000000d", 1)`), "line 5", `"format" failed: width or precision 1000000000`},
		{"nested for in a command", step(`join(",", flatten([for a in range(1000) : [for b in range(1000) : [for c in range(1000) : c]]]))`), "line 5", "Too many iterations"},
		{"nested for in a template file", step(`templatefile("nested.tpl", {})`), "line 5", "Too many iterations"},
		{"indent in an output", head + "output \"o\" {\n  value = indent(1000000000, \"a\")\n}\n", "line 4", `"indent" failed: indenting 1 lines by 1000000000 spaces`},
		{"replace growth", head + "locals {\n  x = replace(format(\"%10000000s\", \"\"), \" \", \"xxxx\")\n}\n", "line 4", `"replace" failed: 10000000 replacements`},
		{"doubling locals", head + "locals {\n  a = format(\"%9000000s\", \"\")\n  b = \"${local.a}${local.a}\"\n  c = \"${local.b}${local.b}\"\n}\n", "line 5", "local.b holds more than"},
		{"count 1e9", "recipe \"b\" {}\nhosts \"h\" { count = 1e9 }\n", "line 2", "The count of hosts h is 1000000000; it must be between 0 and 100000"},
		{"hosts in all", "recipe \"b\" {}\nhosts \"a\" { count = 90000 }\nhosts \"c\" { count = 90000 }\n", "line 3", "the recipe has 180000 hosts in all; a recipe may have at most 100000"},
		{"negative step timeout", head + "step \"s\" {\n  on      = hosts.h\n  run     = \"true\"\n  timeout = \"-5m\"\n}\n", "line 6", "timeout"},
		{"retries 1e9", head + "step \"s\" {\n  on      = hosts.h\n  run     = \"true\"\n  retries = 1e9\n}\n", "line 6", "retries"},
		// Numbers as text convert to numbers no check had seen; writing
		// one in the message took 8 minutes.
		{"retries as huge text", head + "step \"s\" {\n  on      = hosts.h\n  run     = \"true\"\n  retries = \"1e100000000\"\n}\n", "line 6",
			"The retries: the number (about 1e100000000) is outside the numbers a recipe computes with"},
		{"wait port as huge text", head + "step \"s\" {\n  on = hosts.h\n  wait {\n    port = \"1e100000000\"\n  }\n}\n", "line 3",
			"An argument of step.s: the number (about 1e100000000) is outside"},
		{"huge literal in a command", step(`"echo ${1e100000000}"`), "line 5", "the number (about 1e100000000) is outside"},
	} {
		t.Run(c.name, func(t *testing.T) {
			recipe := e.write("bad/main.hcl", c.src)
			before := snapshotDir(t, e.data)
			for _, verb := range [][]string{{"validate", recipe}, {"plan", recipe, "--workspace", "w"},
				{"apply", recipe, "--workspace", "w", "-auto-approve", "--progress", "plain"}} {
				start := time.Now()
				code, out, errs := e.run(verb...)
				if took := time.Since(start); took > 20*time.Second {
					t.Errorf("%s took %s", verb[0], took)
				}
				if code != 1 || !strings.Contains(errs, c.want) || !strings.Contains(errs, "main.hcl "+c.line) || strings.Contains(errs+out, "panic") {
					t.Errorf("%s: exit %d, want 1 with %q on %s:\n%s%s", verb[0], code, c.want, c.line, out, errs)
				}
			}
			after := snapshotDir(t, e.data)
			for p, b := range before {
				if after[p] != b {
					t.Errorf("%s changed", p)
				}
			}
			for p := range after {
				if _, ok := before[p]; !ok {
					t.Errorf("%s appeared", p)
				}
			}
		})
	}
	if code, _, errs := e.run("apply", good, "--workspace", "w", "-step-timeout", "soon"); code != 1 || !strings.Contains(errs, `invalid argument "soon" for "--step-timeout"`) {
		t.Errorf("-step-timeout soon: exit %d\n%s", code, errs)
	}
}

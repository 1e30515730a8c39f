package lang_test

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"

	"github.com/zclconf/go-cty/cty"
)

// fuzzMaxHosts bounds the hosts FuzzLoad builds to evaluate steps; larger
// (valid) counts are checked but not expanded.
const fuzzMaxHosts = 64

// fuzzSlow is how long one input may take before FuzzLoad calls it a stall
// (generous: the machine may be busy).
const fuzzSlow = 5 * time.Second

// FuzzLoad feeds arbitrary bytes to the loader as a recipe file, then runs
// what the engine runs on a recipe that loads: variables, counts, locals,
// on, step arguments and outputs, with hosts unknown and then known. None
// of it may panic, and every error diagnostic has a summary and, when it
// has a subject, a real line.
//
//	go test -fuzz=FuzzLoad ./lang
func FuzzLoad(f *testing.F) {
	f.Add(glusterfsSource(f))
	names, _ := filepath.Glob(filepath.Join(invalidDir, "*.hcl"))
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			f.Add(b)
		}
	}
	// Inputs that used to exhaust memory or time: the fuzzer mutates them.
	for _, e := range []string{
		`setproduct(range(1000), range(1000), range(1000))`,
		`format("%1000000000d", 1)`,
		`indent(1000000000, "a")`,
		`[for a in range(1000) : [for b in range(1000) : [for c in range(1000) : c]]]`,
		`replace(format("%10000000s", ""), "", "xx")`,
	} {
		f.Add([]byte("recipe \"b\" {}\nlocals {\n  x = " + e + "\n}\nhosts \"h\" { count = length(local.x) }\n"))
	}
	kinds := testKinds()
	f.Fuzz(func(t *testing.T, src []byte) {
		// A slow input is a finding: the fuzzer keeps it in testdata.
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > fuzzSlow {
				t.Fatalf("input took %s (more than %s)", d, fuzzSlow)
			}
		}()
		fsys := fstest.MapFS{
			"r/main.hcl":    {Data: src},
			"r/files/a.txt": {Data: []byte("a ${x}\n")},
		}
		r, diags := lang.Load(lang.Source{FS: fsys, Dir: "r", Display: "fuzz"}, kinds)
		if r == nil {
			t.Fatalf("Load returned no recipe:%s", diagString(diags))
		}
		if checkFuzzDiags(t, diags) {
			return
		}
		vars, diags := r.ResolveVariables(lang.Inputs{})
		if checkFuzzDiags(t, diags) {
			return
		}
		counts, _, diags := r.Counts(vars)
		if checkFuzzDiags(t, diags) {
			return
		}
		total := 0
		for _, n := range counts {
			if n < 0 || n > lang.MaxHosts {
				t.Fatalf("Counts returned %d hosts without an error", n)
			}
			total += n
		}
		if total > fuzzMaxHosts {
			return
		}
		for _, known := range []bool{false, true} {
			s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{}}
			for _, g := range r.Groups {
				s.Hosts[g.Name] = hostsOf(g, counts[g.Name], known)
			}
			s.EvalLocals()
			for _, st := range r.Steps {
				hosts, diags := s.OnHosts(st.On)
				if diags.HasErrors() {
					continue
				}
				host := cty.NilVal
				if len(hosts) > 0 {
					host = hostByName(s, hosts[0])
				}
				if host == cty.NilVal {
					continue
				}
				_, _, _ = s.StepArgs(st, host)
				st.StepVal(hosts, nil, false)
			}
			for _, v := range r.Verifies {
				s.OnHosts(v.On)
				_, _ = v.Path.Value(s.Ctx(cty.NilVal))
			}
			for _, o := range r.Outputs {
				_, _ = o.Value.Value(s.Ctx(cty.NilVal))
			}
		}
	})
}

// checkFuzzDiags reports whether diags has errors, failing t if one of them
// could not be printed usefully.
func checkFuzzDiags(t *testing.T, diags hcl.Diagnostics) bool {
	t.Helper()
	for _, d := range errorsOf(diags) {
		if d.Summary == "" || d.Subject != nil && d.Subject.Start.Line < 1 {
			t.Fatalf("unusable diagnostic %#v", d)
		}
	}
	return diags.HasErrors()
}

// hostByName finds a host object in a scope by its name ("server[1]").
func hostByName(s *lang.Scope, name string) cty.Value {
	for _, list := range s.Hosts {
		for it := list.ElementIterator(); it.Next(); {
			_, h := it.Element()
			if h.GetAttr("name").AsString() == name {
				return h
			}
		}
	}
	return cty.NilVal
}

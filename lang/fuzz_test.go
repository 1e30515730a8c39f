package lang_test

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"testing/fstest"
	"time"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/steps/builtin"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"

	"github.com/zclconf/go-cty/cty"
)

// fuzzMaxHosts bounds the hosts FuzzLoad builds to evaluate steps; larger
// (valid) counts are checked but not expanded.
const fuzzMaxHosts = 64

// fuzzSlow is how long one input may take before FuzzLoad calls it a stall
// (generous: the machine may be busy). Only while fuzzing (-fuzz): the seed
// corpus run by go test is checked for what it does, not timed.
const fuzzSlow = 5 * time.Second

// tooSlow says whether an input that took d counts as a stall.
func tooSlow(d time.Duration) bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != "" && d > fuzzSlow
}

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
			if d := time.Since(start); tooSlow(d) {
				t.Fatalf("input took %s (more than %s)", d, fuzzSlow)
			}
		}()
		fsys := fstest.MapFS{
			"r/main.hcl":    {Data: src},
			"r/files/a.txt": {Data: []byte("a ${x}\n")},
		}
		fuzzRecipe(t, lang.Source{FS: fsys, Dir: "r", Display: "fuzz"}, kinds)
	})
}

// fuzzRecipe loads a recipe and runs on it what the engine runs on one
// that loads, failing t on a panic or an unusable diagnostic.
func fuzzRecipe(t *testing.T, src lang.Source, kinds map[string]hcldec.Spec) {
	r, diags := lang.Load(src, kinds)
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
			hosts, diags := s.StepOnHosts(st)
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
			if v.On != nil {
				_, _ = s.VerifyHosts(v, v.On)
			}
			if v.Path != nil {
				_, _ = v.Path.Value(s.VerifyCtx(v))
			}
		}
		for _, o := range r.Outputs {
			_, _ = o.Value.Value(s.Ctx(cty.NilVal))
		}
	}
}

// FuzzLoadModules fuzzes a recipe and a module it may call: the first
// input is the recipe (main.hcl), the second the module, found at ./m
// and, for nested calls, at ./m/n, ../n and ./m/m, beside the built-in
// modules. Each is loaded by lang and then by engine.Load (moved blocks,
// the graph); none of it may panic, hang or print a diagnostic without a
// summary or line. Seeded with the built-in recipes and modules and the
// module cases of testdata/modules.
//
//	go test -run '^$' -fuzz=FuzzLoadModules -fuzztime 3m ./lang
func FuzzLoadModules(f *testing.F) {
	mods := recipes.Modules()
	var modSrcs [][]byte
	for _, name := range lang.ModuleNames(mods) {
		if b, err := fs.ReadFile(mods, name+"/main.hcl"); err == nil {
			modSrcs = append(modSrcs, b)
		}
	}
	for i, name := range recipes.Names() {
		if b, err := fs.ReadFile(recipes.FS(), name+"/main.hcl"); err == nil && len(modSrcs) > 0 {
			f.Add(b, modSrcs[i%len(modSrcs)])
		}
	}
	cases, _ := filepath.Glob(filepath.Join(moduleCases, "*", "main.hcl"))
	for _, root := range cases {
		b, err := os.ReadFile(root)
		if err != nil {
			continue
		}
		mod := []byte("step \"x\" { run = \"true\" }\n")
		if inner, _ := filepath.Glob(filepath.Join(filepath.Dir(root), "*", "*", "main.hcl")); len(inner) > 0 {
			mod, _ = os.ReadFile(inner[0])
		} else if inner, _ := filepath.Glob(filepath.Join(filepath.Dir(root), "*", "main.hcl")); len(inner) > 0 {
			mod, _ = os.ReadFile(inner[0])
		}
		// The cases call ./mods/NAME; here the module is ./m.
		f.Add(mainWithModuleAtM(b), mod)
	}
	kinds := testKinds()
	engineKinds := builtin.Kinds()
	f.Fuzz(func(t *testing.T, root, mod []byte) {
		start := time.Now()
		defer func() {
			if d := time.Since(start); tooSlow(d) {
				t.Fatalf("input took %s (more than %s)", d, fuzzSlow)
			}
		}()
		fsys := fstest.MapFS{
			"r/main.hcl":     {Data: root},
			"r/m/main.hcl":   {Data: mod},
			"r/m/n/main.hcl": {Data: mod},
			"r/m/m/main.hcl": {Data: mod},
			"r/n/main.hcl":   {Data: []byte("variable \"word\" { default = \"w\" }\nstep \"y\" { run = \"echo ${var.word}\" }\noutput \"o\" { value = var.word }\n")},
			"r/files/a.txt":  {Data: []byte("a ${x}\n")},
		}
		src := lang.Source{FS: fsys, Dir: "r", Display: "fuzz", Modules: mods}
		fuzzRecipe(t, src, kinds)
		_, diags := engine.Load(src, lang.Inputs{}, engineKinds)
		checkFuzzDiags(t, diags)
	})
}

// mainWithModuleAtM points a case's module sources at ./m.
func mainWithModuleAtM(b []byte) []byte {
	return regexp.MustCompile(`source\s*=\s*"\./[^"]*"`).ReplaceAll(b, []byte(`source = "./m"`))
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

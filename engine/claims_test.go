package engine_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/steps/builtin"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// TestTwoStepsOwnOnePath: two steps writing one file (or mounting at one
// target) on a host they share would undo each other at every apply;
// validate refuses it at the second one's argument, naming both steps and
// the hosts. Steps on hosts that do not overlap, or with their own paths,
// are fine.
func TestTwoStepsOwnOnePath(t *testing.T) {
	const head = `
recipe "x" {}
hosts "server" { count = 3 }
`
	file := func(name, on, path string) string {
		return `
step "` + name + `" {
  on = ` + on + `
  file {
    path    = "` + path + `"
    content = "` + name + `"
  }
}
`
	}
	mount := func(name, on, target string) string {
		return `
step "` + name + `" {
  on = ` + on + `
  mount {
    source = "/dev/loop7"
    target = "` + target + `"
    fstype = "xfs"
  }
}
`
	}
	for _, tc := range []struct {
		name, src string
		want      []string // empty: valid
	}{
		{"file on overlapping hosts", file("a", "hosts.server", "/etc/x.conf") + file("b", "hosts.server[1]", "/etc/x.conf"),
			[]string{`Two steps write the file "/etc/x.conf"`, `step.a (r/main.hcl:5) and step.b both write the file "/etc/x.conf" on server[1]`, "r/main.hcl:16"}},
		{"file per host, one host shared", file("a", "[hosts.server[0], hosts.server[2]]", "/etc/x.conf") + file("b", "[hosts.server[1], hosts.server[2]]", "/etc/x.conf"),
			[]string{`on server[2]:`}},
		{"file on other hosts", file("a", "hosts.server[0]", "/etc/x.conf") + file("b", "hosts.server[1]", "/etc/x.conf"), nil},
		{"files of their own", file("a", "hosts.server", "/etc/a.conf") + file("b", "hosts.server", "/etc/b.conf"), nil},
		{"mount at one target", mount("a", "hosts.server", "/srv") + mount("b", "hosts.server", "/srv"),
			[]string{`Two steps mount at "/srv"`, "on server[0], server[1], server[2]:"}},
		{"a sensitive step's path is not shown", file("a", "hosts.server", "/etc/secret.conf") + strings.Replace(file("b", "hosts.server[0]", "/etc/secret.conf"), "on =", "sensitive = true\n  on =", 1),
			[]string{"Two steps write the file (sensitive)", "step.b both write the file (sensitive) on server[0]"}},
		{"host by host, then for all", strings.Replace(file("a", "hosts.server", "/etc/x.conf"), `content = "a"`, `content = host.name`, 1) + file("b", "[hosts.server[0], hosts.server[2]]", "/etc/x.conf"),
			[]string{`step.b both write the file "/etc/x.conf" on server[0], server[2]: each`}},
		{"host by host on both", strings.Replace(file("a", "hosts.server", "/etc/x.conf"), `content = "a"`, `content = host.name`, 1) + strings.Replace(file("b", "hosts.server", "/etc/x.conf"), `content = "b"`, `content = host.name`, 1),
			[]string{`step.b both write the file "/etc/x.conf" on server[0], server[1], server[2]: each`, "hosts that do not overlap.\n"}},
		{"host by host, one host shared", strings.Replace(file("a", "hosts.server", "/etc/x.conf"), `content = "a"`, `content = host.name`, 1) + strings.Replace(file("b", "[hosts.server[1]]", "/etc/x.conf"), `content = "b"`, `content = host.name`, 1),
			[]string{`step.b both write the file "/etc/x.conf" on server[1]: each`}},
		// A step reading the host but not its name is evaluated for the
		// first host of each group, which stands for the whole group.
		{"host by host, not by name, then on other hosts of the group", strings.Replace(file("a", "hosts.server", "/etc/x.conf"), `content = "a"`, `content = host.private_ip`, 1) + file("b", "[hosts.server[1], hosts.server[2]]", "/etc/x.conf"),
			[]string{`step.b both write the file "/etc/x.conf" on server[1], server[2]: each`}},
		{"host by host, not by name, on both", strings.Replace(file("a", "hosts.server", "/etc/x.conf"), `content = "a"`, `content = host.private_ip`, 1) + strings.Replace(file("b", "hosts.server", "/etc/x.conf"), `content = "b"`, `content = host.private_ip`, 1),
			[]string{`step.b both write the file "/etc/x.conf" on server[0], server[1], server[2]: each`}},
		{"mount at one target written two ways", mount("a", "hosts.server", "/srv/a") + mount("b", "hosts.server[0]", "/srv//a/"),
			[]string{`Two steps mount at "/srv//a/"`, `step.a (r/main.hcl:5) and step.b both mount at "/srv//a/" on server[0]`}},
		{"a file and a mount at one path", file("a", "hosts.server", "/srv") + mount("b", "hosts.server", "/srv"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := load(t, head+tc.src)
			if len(tc.want) == 0 {
				if diags.HasErrors() {
					t.Fatalf("want valid, got %s", diags.Error())
				}
				return
			}
			if len(diags) != 1 {
				t.Fatalf("want one error, got %d: %s", len(diags), diags.Error())
			}
			got := diags[0].Summary + "\n" + diags[0].Detail + "\n" + diags[0].Subject.String()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("error lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestOneStepMeetsTwo: a step evaluated host by host that shares a path
// with one step on a host and with another on another host gets an error
// per step, each naming its own hosts (not the first step's name on
// both).
func TestOneStepMeetsTwo(t *testing.T) {
	_, diags := load(t, `
recipe "x" {}
hosts "server" { count = 3 }
step "a" {
  on = hosts.server[0]
  file {
    path    = "/etc/x.conf"
    content = "a"
  }
}
step "c" {
  on = hosts.server[2]
  file {
    path    = "/etc/x.conf"
    content = "c"
  }
}
step "b" {
  on = hosts.server
  file {
    path    = "/etc/x.conf"
    content = host.name
  }
}
`)
	if len(diags) != 2 {
		t.Fatalf("want two errors, got %d: %s", len(diags), diags.Error())
	}
	for i, want := range []string{
		`step.a (r/main.hcl:4) and step.b both write the file "/etc/x.conf" on server[0]: each`,
		`step.c (r/main.hcl:11) and step.b both write the file "/etc/x.conf" on server[2]: each`,
	} {
		if !strings.Contains(diags[i].Detail, want) || strings.Contains(diags[i].Detail, "(On") {
			t.Errorf("error %d: want %q, no (On ...) note, got:\n%s", i, want, diags[i].Detail)
		}
	}
}

// TestSameModuleTwiceOnOneFile: the same module called twice on hosts
// that overlap writes its file twice on them; the error is in the module's
// file and names both calls.
func TestSameModuleTwiceOnOneFile(t *testing.T) {
	src := `
recipe "x" {}
hosts "server" { count = 2 }
module "one" {
  source = "./mods/conf"
  on     = hosts.server
  text   = "one"
}
module "two" {
  source = "./mods/conf"
  on     = hosts.server[0]
  text   = "two"
}
`
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(src)}, "r/mods/conf/main.hcl": {Data: []byte(`
variable "text" { type = string }
step "conf" {
  file {
    path    = "/etc/app.conf"
    content = var.text
  }
}
`)}}
	_, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	if len(diags) != 1 {
		t.Fatalf("want one error, got %d: %s", len(diags), diags.Error())
	}
	got := diags[0].Detail + "\n" + diags[0].Subject.String()
	for _, want := range []string{
		`module.one.step.conf (r/mods/conf/main.hcl:3, called at r/main.hcl:4) and module.two.step.conf both write the file "/etc/app.conf" on server[0]`,
		"(In module.two, called at r/main.hcl:9.)",
		"r/mods/conf/main.hcl:5",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("error lacks %q:\n%s", want, got)
		}
	}
}

// TestOwnedPathSensitiveNotShown: a path made from a sensitive variable is
// compared but never printed.
func TestOwnedPathSensitiveNotShown(t *testing.T) {
	_, diags := load(t, `
recipe "x" {}
variable "p" {
  type      = string
  default   = "/etc/hidden-name.conf"
  sensitive = true
}
hosts "server" {}
step "a" {
  on = hosts.server
  file {
    path    = var.p
    content = "a"
  }
}
step "b" {
  on = hosts.server
  file {
    path    = "/etc/hidden-name.conf"
    content = "b"
  }
}
`)
	if len(diags) != 1 || !strings.Contains(diags.Error(), "(sensitive)") || strings.Contains(diags.Error(), "hidden-name") {
		t.Fatalf("want one error hiding the path, got %s", diags.Error())
	}
}

// TestPathClaimsOnlyKnownLater: a path made from a host fact is unknown to
// validate and to the first plan (the host is not launched): apply claims
// it as the instances run, and the second step to claim it on a host fails
// before touching it, naming both; the next plan knows the facts and
// refuses it at the second step's argument. Hosts where the paths differ
// are untouched by it.
func TestPathClaimsOnlyKnownLater(t *testing.T) {
	src := `
recipe "x" {}
hosts "server" { count = 2 }
step "a" {
  on = hosts.server
  file {
    path    = "/etc/app-${host.facts.os.id}.conf"
    content = "a"
  }
}
step "b" {
  on = hosts.server[1]
  file {
    path    = "/etc/app-rocky.conf"
    content = "b"
  }
}
`
	if _, diags := load(t, src); diags.HasErrors() {
		t.Fatalf("validate cannot know the path yet, but says: %s", diags.Error())
	}
	w := newWorld(t, src)
	w.kinds = simKinds // the sim's hosts answer commands, not file checks
	w.cloud.SetFacts("server[1]", rockyFacts)
	res := w.apply(w.plan(), 0)
	if len(res.Failures) != 1 {
		t.Fatalf("want one failure (the second claim on server[1]), got %+v", res.Failures)
	}
	f := res.Failures[0]
	msg := f.Err.Error()
	if f.Host != "server[1]" || !strings.Contains(msg, `Two steps write the file "/etc/app-rocky.conf"`) ||
		!strings.Contains(msg, "step.a (r/main.hcl:4) and step.b") && !strings.Contains(msg, "step.b (r/main.hcl:11) and step.a") {
		t.Errorf("failure %s on %s, want both steps named on server[1]", msg, f.Host)
	}
	if _, ok := w.st.Steps[f.Addr]; ok {
		t.Errorf("the refused instance %s is in state: it ran", f.Addr)
	}
	winner := `step.a["server[1]"]`
	if f.Step == "a" {
		winner = `step.b["server[1]"]`
	}
	if _, ok := w.st.Steps[winner]; !ok {
		t.Errorf("%s, which claimed the path first, did not apply", winner)
	}
	if _, ok := w.st.Steps[`step.a["server[0]"]`]; !ok {
		t.Error("step.a on server[0], whose path is its own, did not apply")
	}
	l := w.load()
	_, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test",
		Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
	if !diags.HasErrors() {
		t.Fatal("the next plan, with server[1]'s facts known, does not refuse the two steps")
	}
	got := diags.Error()
	for _, want := range []string{`Two steps write the file "/etc/app-rocky.conf"`, "step.a (r/main.hcl:4) and step.b both write", "on server[1]:"} {
		if !strings.Contains(got, want) {
			t.Errorf("plan's error lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "server[0]") {
		t.Errorf("plan blames server[0], where the paths differ:\n%s", got)
	}
}

// TestPathClaimInBuiltinModuleAtUsersLine: when the step that meets
// another's path is in a built-in module, the error points at what the
// user wrote that sets the path: the call's input (followed through a
// built-in module calling another), or the call. A built-in module's file
// is not the user's to edit, nor one an editor can open.
func TestPathClaimInBuiltinModuleAtUsersLine(t *testing.T) {
	const head = `recipe "x" {}
hosts "server" { count = 2 }
step "mine" {
  on = hosts.server
  mount {
    source = "/dev/loop7"
    target = "/srv/data"
    fstype = "xfs"
  }
}
`
	for _, tc := range []struct {
		name, call string
		line       int // of main.hcl
	}{
		{"the target input", `module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = "/dev/loop8"
  target = "/srv/data"
}
`, 15},
		{"an input made from a local", `locals {
  where = "/srv/data"
}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = "/dev/loop8"
  target = local.where
}
`, 18},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := load(t, head+tc.call)
			if len(diags) != 1 {
				t.Fatalf("want one error, got %d: %s", len(diags), diags.Error())
			}
			d := diags[0]
			if d.Subject == nil || d.Subject.Filename != "r/main.hcl" || d.Subject.Start.Line != tc.line {
				t.Fatalf("error at %v, want r/main.hcl:%d:\n%s: %s", d.Subject, tc.line, d.Summary, d.Detail)
			}
			if !strings.Contains(d.Detail, "step.mine (r/main.hcl:3) and module.data.step.mount both mount at \"/srv/data\"") {
				t.Errorf("detail: %s", d.Detail)
			}
		})
	}
}

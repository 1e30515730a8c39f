package lang_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/lang"
	"diffuser/recipes"

	"github.com/zclconf/go-cty/cty"
)

func refNames(refs []lang.Ref) string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return strings.Join(out, ",")
}

func TestStepReferences(t *testing.T) {
	src := `
recipe "refs" {}

locals {
  token   = step.token.outputs.token
  servers = join(" ", hosts.server[*].private_ip)
  both    = "${local.token} ${local.servers}"
  plain   = "gv0"
}

hosts "server" {
  volume "brick" { size_gb = 1 }
}
hosts "client" {}

step "token" {
  on  = hosts.server[0]
  run = "true"
  capture { token = "cat /etc/token" }
}

step "device" {
  on = hosts.server
  format {
    device = host.volume.brick.device
    fstype = "xfs"
  }
}

step "direct" {
  on    = hosts.client
  after = [step.device]
  run   = "join ${step.token.outputs.token} ${hosts.server[0].private_ip}"
}

step "via_locals" {
  on  = hosts.client
  run = "join ${local.both}"
}

step "on_only" {
  on  = concat(hosts.server, hosts.client)
  run = "echo ${local.plain}"
}

step "in_guard" {
  on      = hosts.client
  run     = "true"
  unless  = "ping -c1 ${hosts.server[0].private_ip}"
  destroy = "echo ${host.name}"
}

step "in_capture" {
  on  = hosts.client
  run = "true"
  capture { peer = "echo ${step.token.outputs.token}" }
}
`
	r, diags := loadString(t, src)
	if diags.HasErrors() {
		t.Fatalf("Load:%s", diagString(diags))
	}
	for _, tc := range []struct {
		step, steps, groups string
		host                bool
	}{
		{"token", "", "", false},
		{"device", "", "", true},
		{"direct", "token", "server", false}, // after is not a reference
		{"via_locals", "token", "server", false},
		{"on_only", "", "", false}, // on is not a read
		{"in_guard", "", "server", true},
		{"in_capture", "token", "", false},
	} {
		s := r.Step(tc.step)
		if got := refNames(s.RefSteps); got != tc.steps {
			t.Errorf("step %s: RefSteps = %q, want %q", tc.step, got, tc.steps)
		}
		if got := refNames(s.RefGroups); got != tc.groups {
			t.Errorf("step %s: RefGroups = %q, want %q", tc.step, got, tc.groups)
		}
		if s.UsesHost != tc.host {
			t.Errorf("step %s: UsesHost = %v, want %v", tc.step, s.UsesHost, tc.host)
		}
	}
	if d := r.Step("direct"); len(d.After) != 1 || d.After[0].Name != "device" || d.After[0].Range.Start.Line != 32 {
		t.Errorf("direct.After = %+v, want step.device at line 32", d.After)
	}
	// A reference's range points at the source, for the graph's messages.
	if ref := r.Step("direct").RefSteps[0]; ref.Range.Start.Line != 33 {
		t.Errorf("RefSteps[0].Range = %v, want line 33", ref.Range)
	}
}

// TestGlusterfs runs the built-in recipe through lang with the test kinds:
// it loads, resolves, counts and analyses as its comments say.
func TestGlusterfs(t *testing.T) {
	r, diags := lang.Load(lang.Source{FS: recipes.FS(), Dir: "glusterfs", Display: "builtin:glusterfs", Modules: recipes.Modules()}, testKinds())
	if diags.HasErrors() {
		t.Fatalf("Load:%s", diagString(diags))
	}
	vars, diags := r.ResolveVariables(lang.Inputs{Vars: []string{"servers=4", "replica=2", "clients=2"}})
	if diags.HasErrors() {
		t.Fatalf("ResolveVariables:%s", diagString(diags))
	}
	counts, sizes, diags := r.Counts(vars)
	if diags.HasErrors() {
		t.Fatalf("Counts:%s", diagString(diags))
	}
	if counts["server"] != 4 || counts["client"] != 2 || sizes["server"]["brick"] != 2 {
		t.Errorf("counts %v, sizes %v", counts, sizes)
	}
	if r.Name != "glusterfs" || len(r.Ports) == 0 || r.Description == "" {
		t.Errorf("recipe block: %q %v %q", r.Name, r.Ports, r.Description)
	}
	for _, tc := range []struct {
		step, kind, groups string
		host               bool
	}{
		{"packages", "package", "", false},
		{"module.brick.step.format", "format", "", true},
		{"module.brick.step.mount", "mount", "", true}, // before_unmount reads host.private_ip
		{"glusterd", "service", "", false},
		{"pool_seed", "run", "server", false},
		{"pool_join", "run", "server", true},     // local.probe_targets[host.index]
		{"volume", "run", "server", false},       // local.bricks reads hosts.server
		{"client_packages", "package", "", true}, // host.facts.os.family
		{"mount", "mount", "server", false},
	} {
		s := r.Step(tc.step)
		if s == nil {
			t.Errorf("no step %s", tc.step)
			continue
		}
		if s.Kind != tc.kind || refNames(s.RefGroups) != tc.groups || s.UsesHost != tc.host || len(s.RefSteps) != 0 {
			t.Errorf("step %s: kind %s, RefGroups %q, UsesHost %v, RefSteps %q; want %s, %q, %v, none",
				tc.step, s.Kind, refNames(s.RefGroups), s.UsesHost, refNames(s.RefSteps), tc.kind, tc.groups, tc.host)
		}
	}

	// With the hosts launched, the volume step's command is fully known.
	s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{}}
	for _, g := range r.Groups {
		s.Hosts[g.Name] = hostsOf(g, counts[g.Name], true)
	}
	if diags := s.EvalLocals(); diags.HasErrors() {
		t.Fatalf("EvalLocals:%s", diagString(diags))
	}
	hosts, diags := s.OnHosts(r.Step("volume").On)
	if diags.HasErrors() || strings.Join(hosts, " ") != "server[0]" {
		t.Fatalf("volume runs on %v,%s", hosts, diagString(diags))
	}
	args, gen, diags := s.StepArgs(r.Step("volume"), s.Hosts["server"].Index(cty.NumberIntVal(0)))
	if diags.HasErrors() {
		t.Fatalf("StepArgs:%s", diagString(diags))
	}
	cmd := args.GetAttr("command").AsString()
	if strings.Contains(cmd, "peer probe") {
		t.Errorf("volume probes peers itself:\n%s", cmd)
	}
	// 4 servers, 2 probers: server[0] seeds server[1]; then server[0]
	// probes server[2] and server[1] probes server[3].
	for step, host := range map[string]int{"pool_seed": 0, "pool_join": 1} {
		a, _, diags := s.StepArgs(r.Step(step), s.Hosts["server"].Index(cty.NumberIntVal(int64(host))))
		if diags.HasErrors() {
			t.Fatalf("StepArgs %s:%s", step, diagString(diags))
		}
		c := a.GetAttr("command").AsString()
		want := map[string]string{"pool_seed": "10.0.s.2", "pool_join": "10.0.s.4"}[step]
		if n := strings.Count(c, "peer probe "); n != 1 || !regexp.MustCompile(`(?m)^gluster --mode=script peer probe `+regexp.QuoteMeta(want)+`$`).MatchString(c) {
			t.Errorf("%s on server[%d] should probe only %s:\n%s", step, host, want, c)
		}
	}
	for _, want := range []string{
		"replica 2 10.0.s.1:/data/brick/gv0 10.0.s.2:/data/brick/gv0 10.0.s.3:/data/brick/gv0 10.0.s.4:/data/brick/gv0 force",
	} {
		if !strings.Contains(cmd, want) {
			t.Errorf("volume command lacks %q:\n%s", want, cmd)
		}
	}
	if !strings.Contains(args.GetAttr("unless").AsString(), "gluster volume info gv0") || !strings.Contains(gen.Destroy.AsString(), "volume delete gv0") {
		t.Errorf("volume unless %#v, destroy %#v", args.GetAttr("unless"), gen.Destroy)
	}
}

// TestValidRecipesLoadClean: things that look odd but are allowed.
func TestValidRecipesLoadClean(t *testing.T) {
	for name, src := range map[string]string{
		"dashes in names": "recipe \"my-fs\" {}\nvariable \"brick-size\" {\n  type    = number\n  default = 1\n}\nhosts \"meta-server\" { count = var.brick-size }\n" +
			"step \"set-up\" {\n  on  = hosts.meta-server\n  run = \"echo ${var.brick-size}\"\n}\n",
		"utf-8 BOM":       "\ufeffrecipe \"t\" {}\n",
		"CRLF":            "recipe \"t\" {}\r\nhosts \"server\" {}\r\nstep \"s\" {\r\n  on  = hosts.server\r\n  run = \"true\"\r\n}\r\n",
		"no hosts":        "recipe \"t\" {}\n",
		"step on nothing": "recipe \"t\" {}\nhosts \"server\" { count = 0 }\nstep \"s\" {\n  on  = hosts.server\n  run = \"true\"\n}\n",
		"run guards from variables": "recipe \"t\" {}\nvariable \"f\" { default = \"/x\" }\nhosts \"server\" {}\n" +
			"step \"s\" {\n  on      = hosts.server\n  run     = \"touch ${shellquote(var.f)}\"\n  creates = var.f\n  timeout = \"1m\"\n  retries = 0\n}\n",
		"sensitive string bool": "recipe \"t\" {}\nhosts \"server\" {}\nstep \"s\" {\n  on        = hosts.server\n  run       = \"true\"\n  sensitive = \"true\"\n}\n",
	} {
		t.Run(name, func(t *testing.T) {
			r, diags := loadFS(fstest.MapFS{"main.hcl": {Data: []byte(src)}})
			if len(diags) != 0 {
				t.Fatalf("Load:%s", diagString(diags))
			}
			vars, diags := r.ResolveVariables(lang.Inputs{})
			if len(diags) != 0 {
				t.Fatalf("ResolveVariables:%s", diagString(diags))
			}
			if _, _, diags := r.Counts(vars); len(diags) != 0 {
				t.Fatalf("Counts:%s", diagString(diags))
			}
		})
	}
}

// TestSuggestLongNames: a reference to a misspelt 10,000-character name
// gets no suggestion, quickly. Each suggestion compared it with every
// known name in time and memory quadratic in their length: 730 ms and
// 800 MB of garbage for one such reference. A name that long cannot be
// declared (lang.MaxName), but a reference can still be written.
func TestSuggestLongNames(t *testing.T) {
	long := strings.Repeat("a", 10000)
	_, diags := loadString(t, "recipe \"t\" {}\nhosts \"server\" {}\nstep \""+long+"\" {\n  on  = hosts.server\n  run = \"true\"\n}\n")
	if len(diags) != 1 || diags[0].Summary != "Invalid step name" || !strings.Contains(diags[0].Detail, "is 10000 characters long; use at most 64") {
		t.Errorf("a 10,000-character step name is not refused:%s", diagString(diags))
	}
	var b strings.Builder
	b.WriteString("recipe \"t\" {}\nhosts \"server\" {}\nstep \"" + long[:lang.MaxName] + "\" {\n  on  = hosts.server\n  run = \"true\"\n}\n")
	for i := range 20 {
		fmt.Fprintf(&b, "step \"x%d\" {\n  on    = hosts.server\n  after = [step.%sb]\n  run   = \"true\"\n}\n", i, long)
	}
	// No suggestion for a name that long (the comparison is skipped, not
	// timed here: a loaded machine would fail a time bound).
	_, diags = loadString(t, b.String())
	if len(diags) != 20 || diags[0].Summary != "Unknown step" || strings.Contains(diags[0].Detail, "Did you mean") {
		t.Errorf("want 20 unknown steps without a suggestion:%s", diagString(diags[:min(len(diags), 1)]))
	}
	// Short names still get one.
	_, diags = loadString(t, "recipe \"t\" {}\nhosts \"server\" {}\nstep \"format\" {\n  on  = hosts.server\n  run = \"true\"\n}\nstep \"y\" {\n  on    = hosts.server\n  after = [step.formt]\n  run   = \"true\"\n}\n")
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, `Did you mean "format"?`) {
		t.Errorf("a near short name is not suggested:%s", diagString(diags))
	}
}

// TestSuggestNameWithoutItsSuffix: a name that is the start of exactly
// one known name (memory for the fact memory_mb) gets it as a suggestion
// when no name is within two edits; a start shared by several gets none.
func TestSuggestNameWithoutItsSuffix(t *testing.T) {
	_, diags := loadString(t, "recipe \"t\" {}\nhosts \"server\" {}\nstep \"x\" {\n  on  = hosts.server\n  run = \"echo ${host.facts.memory}\"\n}\n")
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, `Did you mean "memory_mb"?`) {
		t.Errorf("host.facts.memory does not suggest memory_mb:%s", diagString(diags))
	}
	for _, tc := range []struct {
		name  string
		known []string
		want  string
	}{
		{"memory", []string{"cores", "memory_mb"}, "memory_mb"},
		{"mem", []string{"memory_mb", "memory_free"}, ""},
		{"me", []string{"memory_mb"}, ""},                  // too short to say
		{"formt", []string{"format", "formats"}, "format"}, // an edit wins
	} {
		if got := lang.Suggest(tc.name, tc.known); got != tc.want {
			t.Errorf("Suggest(%q, %q) = %q, want %q", tc.name, tc.known, got, tc.want)
		}
	}
}

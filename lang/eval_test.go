package lang_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// hostsOf builds hosts.<group> for n hosts; with ips, addresses and the
// volume devices are known (after launch), else unknown.
func hostsOf(g *lang.Group, n int, ips bool) cty.Value {
	infos := make([]lang.HostInfo, n)
	for i := range infos {
		h := lang.HostInfo{Name: lang.HostName(g.Name, i), Group: g.Name, Index: i, Hostname: lang.Hostname(g.Name, i)}
		if ips {
			h.PrivateIP = cty.StringVal("10.0." + g.Name[:1] + "." + string(rune('1'+i)))
			h.Volumes = map[string]lang.VolumeInfo{}
			for j, v := range g.Volumes {
				h.Volumes[v.Name] = lang.VolumeInfo{Device: cty.StringVal("/dev/xvd" + string(rune('f'+j))), SizeGB: 10}
			}
		}
		infos[i] = h
	}
	return g.GroupVal(infos)
}

// scopeFor resolves a recipe's variables and counts, and returns a scope
// with its hosts (known or not) and no step outputs yet.
func scopeFor(t *testing.T, src string, in lang.Inputs, known bool) *lang.Scope {
	t.Helper()
	r, vars := mustLoad(t, src, in)
	counts, _, diags := r.Counts(vars)
	if diags.HasErrors() {
		t.Fatalf("Counts:%s", diagString(diags))
	}
	s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{}}
	for _, g := range r.Groups {
		s.Hosts[g.Name] = hostsOf(g, counts[g.Name], known)
	}
	if diags := s.EvalLocals(); diags.HasErrors() {
		t.Fatalf("EvalLocals:%s", diagString(diags))
	}
	return s
}

func exprOf(t *testing.T, src string) hcl.Expression {
	t.Helper()
	r, diags := loadString(t, "recipe \"x\" {}\nlocals {\n  e = "+src+"\n}\n")
	if diags.HasErrors() && r == nil {
		t.Fatalf("parse %s:%s", src, diagString(diags))
	}
	return r.Locals[0].Expr
}

const clusterRecipe = `
recipe "c" {}

variable "servers" { default = 3 }

hosts "server" {
  count = var.servers
  volume "brick" { size_gb = 10 }
}

hosts "client" { count = 2 }
`

func TestOnHosts(t *testing.T) {
	s := scopeFor(t, clusterRecipe, lang.Inputs{}, false)
	for _, tc := range []struct{ on, want string }{
		{"hosts.server", "server[0] server[1] server[2]"},
		{"hosts.server[1]", "server[1]"},
		{"hosts.client[0]", "client[0]"},
		{"concat(hosts.server, hosts.client)", "server[0] server[1] server[2] client[0] client[1]"},
		{"concat(hosts.client, [hosts.server[0]])", "client[0] client[1] server[0]"},
		{"concat(hosts.server, [hosts.server[0]])", "server[0] server[1] server[2]"}, // no duplicates
		{"[for h in hosts.server : h if h.index > 0]", "server[1] server[2]"},
		{"slice(hosts.server, 0, 2)", "server[0] server[1]"},
		{"[hosts.client[1], hosts.server[2]]", "client[1] server[2]"},
		{"[]", ""},
	} {
		got, diags := s.OnHosts(exprOf(t, tc.on))
		if diags.HasErrors() {
			t.Errorf("on = %s:%s", tc.on, diagString(diags))
			continue
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("on = %s: hosts %q, want %q", tc.on, got, tc.want)
		}
	}
	for _, on := range []string{`"server[0]"`, "hosts.server[0].name", "3", "null", `{ name = "server[0]" }`, "[hosts.server[0].name]",
		`[hosts.server[0], { name = 1, private_ip = "x" }]`, `{ name = true, private_ip = "x" }`, `[{ name = ["a"], private_ip = 1 }]`} {
		if got, diags := s.OnHosts(exprOf(t, on)); !diags.HasErrors() || diags[0].Summary != "Invalid on" {
			t.Errorf("on = %s: got %q,%s; want Invalid on", on, got, diagString(diags))
		}
	}
	if _, diags := s.OnHosts(exprOf(t, "hosts.server[3]")); !diags.HasErrors() {
		t.Errorf("on = hosts.server[3] with 3 servers: no error")
	}
}

func TestHostObjects(t *testing.T) {
	src := clusterRecipe + `
locals {
  second   = hosts.server[1].name
  names    = join(",", hosts.server[*].hostname)
  first_ip = hosts.server[0].private_ip
  device   = hosts.server[0].volume.brick.device
  size     = hosts.server[2].volume.brick.size_gb
  index    = hosts.client[1].index
  groups   = distinct([for h in concat(hosts.server, hosts.client) : h.group])
}
`
	before := scopeFor(t, src, lang.Inputs{}, false)
	for name, want := range map[string]cty.Value{
		"second":   cty.StringVal("server[1]"),
		"names":    cty.StringVal("server-0,server-1,server-2"),
		"first_ip": cty.UnknownVal(cty.String).RefineNotNull(), // not launched, never null
		"device":   cty.UnknownVal(cty.String).RefineNotNull(),
		"size":     cty.UnknownVal(cty.Number),
		"index":    cty.NumberIntVal(1),
		"groups":   cty.ListVal([]cty.Value{cty.StringVal("server"), cty.StringVal("client")}),
	} {
		if got := before.Locals[name]; !got.RawEquals(want) {
			t.Errorf("before launch: local.%s = %#v, want %#v", name, got, want)
		}
	}
	after := scopeFor(t, src, lang.Inputs{}, true)
	for name, want := range map[string]cty.Value{
		"first_ip": cty.StringVal("10.0.s.1"),
		"device":   cty.StringVal("/dev/xvdf"),
		"size":     cty.NumberIntVal(10),
	} {
		if got := after.Locals[name]; !got.RawEquals(want) {
			t.Errorf("after launch: local.%s = %#v, want %#v", name, got, want)
		}
	}
	// A group with no hosts is an empty list of host objects.
	empty := scopeFor(t, clusterRecipe+"locals {\n  n = length(hosts.server)\n}\n", lang.Inputs{Vars: []string{"servers=0"}}, false)
	if v := empty.Hosts["server"]; !v.Type().IsListType() || v.LengthInt() != 0 {
		t.Errorf("hosts.server with count 0 = %#v", v)
	}
	if n := empty.Locals["n"]; !n.RawEquals(cty.NumberIntVal(0)) {
		t.Errorf("length(hosts.server) with count 0 = %#v", n)
	}
}

func TestCounts(t *testing.T) {
	src := `
recipe "c" {}
variable "servers" { default = 3 }
variable "gb" { default = 20 }
locals {
  total = var.servers * 2
}
hosts "server" {
  count = local.total
  volume "brick" { size_gb = var.gb }
  volume "log" { size_gb = 1 }
}
hosts "client" {}
hosts "none" { count = 0 }
`
	r, vars := mustLoad(t, src, lang.Inputs{Vars: []string{"servers=4"}})
	counts, sizes, diags := r.Counts(vars)
	if diags.HasErrors() {
		t.Fatalf("Counts:%s", diagString(diags))
	}
	if counts["server"] != 8 || counts["client"] != 1 || counts["none"] != 0 {
		t.Errorf("counts = %v, want server 8, client 1 (the default), none 0", counts)
	}
	if sizes["server"]["brick"] != 20 || sizes["server"]["log"] != 1 || len(sizes["client"]) != 0 {
		t.Errorf("sizes = %v", sizes)
	}
	_, vars = mustLoad(t, src, lang.Inputs{Vars: []string{"servers=50000"}})
	if _, _, diags := r.Counts(vars); len(diags) != 0 {
		t.Errorf("count = MaxHosts:%s", diagString(diags))
	}
	_, vars = mustLoad(t, src, lang.Inputs{Vars: []string{"servers=50001"}})
	if _, _, diags := r.Counts(vars); !diags.HasErrors() || diags[0].Summary != "Value out of range" {
		t.Errorf("count = MaxHosts+2: want Value out of range,%s", diagString(diags))
	}
}

// TestLocalsOrder: locals are evaluated in dependency order, whatever
// their order in the files.
func TestLocalsOrder(t *testing.T) {
	src := `
recipe "l" {}
variable "n" { default = 2 }
locals {
  a = local.b + 1
  d = "${local.a}-${local.c}"
}
locals {
  b = local.c * 10
  c = var.n
}
`
	s := scopeFor(t, src, lang.Inputs{Vars: []string{"n=3"}}, false)
	for name, want := range map[string]cty.Value{
		"c": cty.NumberIntVal(3), "b": cty.NumberIntVal(30), "a": cty.NumberIntVal(31), "d": cty.StringVal("31-3"),
	} {
		if got := s.Locals[name]; !got.RawEquals(want) {
			t.Errorf("local.%s = %#v, want %#v", name, got, want)
		}
	}
}

const stepsRecipe = clusterRecipe + `
variable "volume" { default = "gv0" }

step "packages" {
  on      = hosts.server
  package = ["glusterfs-server", "xfsprogs"]
}

step "brick" {
  on = hosts.server
  format {
    device = host.volume.brick.device
    fstype = "xfs"
  }
}

step "keygen" {
  on      = hosts.server[0]
  run     = "ssh-keygen -q -N '' -f /root/.ssh/id"
  creates = "/root/.ssh/id"
  unless  = "test -s /root/.ssh/id.pub"
  env     = { HOME = "/root", VOLUME = var.volume }
  timeout = "90s"
  retries = 3
  capture {
    pub  = "cat /root/.ssh/id.pub"
    host = "hostname"
  }
  destroy = "rm -f /root/.ssh/id /root/.ssh/id.pub"
}

step "trust" {
  on        = hosts.client
  run       = "echo ${shellquote(step.keygen.outputs.pub)} >> /root/.ssh/authorized_keys"
  sensitive = true
}
`

func TestStepArgsShorthand(t *testing.T) {
	s := scopeFor(t, stepsRecipe, lang.Inputs{}, false)
	r := s.Recipe
	srv := s.Hosts["server"].Index(cty.NumberIntVal(0))

	args, gen, diags := s.StepArgs(r.Step("packages"), srv)
	if diags.HasErrors() {
		t.Fatalf("packages:%s", diagString(diags))
	}
	wantNames := cty.ListVal([]cty.Value{cty.StringVal("glusterfs-server"), cty.StringVal("xfsprogs")})
	if !args.GetAttr("names").RawEquals(wantNames) {
		t.Errorf("packages names = %#v", args.GetAttr("names"))
	}
	if !args.GetAttr("state").IsNull() || !args.GetAttr("update_cache").IsNull() {
		t.Errorf("shorthand leaves the other attributes null (= default), got %#v", args)
	}
	if gen.Timeout != 0 || gen.Retries != 0 || gen.Sensitive || !gen.Destroy.IsNull() {
		t.Errorf("packages generic = %+v, want zero", gen)
	}

	args, gen, diags = s.StepArgs(r.Step("keygen"), srv)
	if diags.HasErrors() {
		t.Fatalf("keygen:%s", diagString(diags))
	}
	want := cty.ObjectVal(map[string]cty.Value{
		"command": cty.StringVal("ssh-keygen -q -N '' -f /root/.ssh/id"),
		"creates": cty.StringVal("/root/.ssh/id"),
		"unless":  cty.StringVal("test -s /root/.ssh/id.pub"),
		"env":     cty.MapVal(map[string]cty.Value{"HOME": cty.StringVal("/root"), "VOLUME": cty.StringVal("gv0")}),
		"capture": cty.MapVal(map[string]cty.Value{"pub": cty.StringVal("cat /root/.ssh/id.pub"), "host": cty.StringVal("hostname")}),
	})
	if !args.RawEquals(want) {
		t.Errorf("keygen args =\n%#v\nwant\n%#v", args, want)
	}
	if gen.Timeout != 90*time.Second || gen.Retries != 3 || gen.Sensitive {
		t.Errorf("keygen generic = %+v", gen)
	}
	if !gen.Destroy.RawEquals(cty.StringVal("rm -f /root/.ssh/id /root/.ssh/id.pub")) {
		t.Errorf("keygen destroy = %#v", gen.Destroy)
	}
	if keys := r.Step("keygen").CaptureKeys(); strings.Join(keys, ",") != "host,pub" {
		t.Errorf("CaptureKeys = %v", keys)
	}

	// trust reads keygen's output: unknown until keygen ran, then known.
	cli := s.Hosts["client"].Index(cty.NumberIntVal(0))
	args, gen, diags = s.StepArgs(r.Step("trust"), cli)
	if diags.HasErrors() {
		t.Fatalf("trust:%s", diagString(diags))
	}
	if args.GetAttr("command").IsKnown() || !gen.Sensitive {
		t.Errorf("trust before keygen: command %#v (want unknown), sensitive %v", args.GetAttr("command"), gen.Sensitive)
	}
	s.Steps = map[string]cty.Value{"keygen": r.Step("keygen").StepVal([]string{"server[0]"},
		map[string]map[string]string{"server[0]": {"pub": "ssh-ed25519 AAAA root@server-0", "host": "server-0"}}, false)}
	s.Changed() // the scope caches its context: say that Steps changed
	args, _, diags = s.StepArgs(r.Step("trust"), cli)
	if diags.HasErrors() {
		t.Fatalf("trust:%s", diagString(diags))
	}
	if got := args.GetAttr("command"); !got.RawEquals(cty.StringVal("echo 'ssh-ed25519 AAAA root@server-0' >> /root/.ssh/authorized_keys")) {
		t.Errorf("trust command = %#v", got)
	}
}

func TestStepArgsKindBlock(t *testing.T) {
	r := scopeFor(t, stepsRecipe, lang.Inputs{}, false).Recipe
	for _, known := range []bool{false, true} {
		s := scopeFor(t, stepsRecipe, lang.Inputs{}, known)
		args, _, diags := s.StepArgs(r.Step("brick"), s.Hosts["server"].Index(cty.NumberIntVal(1)))
		if diags.HasErrors() {
			t.Fatalf("brick:%s", diagString(diags))
		}
		dev := args.GetAttr("device")
		if known != dev.IsKnown() {
			t.Errorf("launched=%v: host.volume.brick.device = %#v", known, dev)
		}
		if known && !dev.RawEquals(cty.StringVal("/dev/xvdf")) {
			t.Errorf("device = %#v, want /dev/xvdf", dev)
		}
		if !args.GetAttr("fstype").RawEquals(cty.StringVal("xfs")) || !args.GetAttr("options").RawEquals(cty.ListValEmpty(cty.String)) {
			t.Errorf("brick args = %#v (options takes the spec's default)", args)
		}
	}
}

func TestStepVal(t *testing.T) {
	r := scopeFor(t, stepsRecipe, lang.Inputs{}, false).Recipe
	st := r.Step("keygen")
	one := st.StepVal([]string{"server[0]"}, map[string]map[string]string{"server[0]": {"pub": "k"}}, true)
	pub := one.GetAttr("outputs").GetAttr("pub")
	if !pub.HasMark(lang.Sensitive) {
		t.Errorf("output of a sensitive step = %#v, want marked", pub)
	}
	if v, _ := pub.Unmark(); !v.RawEquals(cty.StringVal("k")) {
		t.Errorf("outputs.pub = %#v", v)
	}
	if h := one.GetAttr("outputs").GetAttr("host"); h.IsKnown() {
		t.Errorf("an output not recorded yet = %#v, want unknown", h)
	}
	two := st.StepVal([]string{"server[0]", "server[1]"}, nil, false)
	if !two.GetAttr("outputs").IsNull() {
		t.Errorf("step.x.outputs with two instances = %#v, want null (use step.x.hosts[...])", two.GetAttr("outputs"))
	}
	if v := two.GetAttr("hosts").GetAttr("server[1]").GetAttr("outputs").GetAttr("pub"); v.IsKnown() {
		t.Errorf("hosts[server[1]].outputs.pub = %#v, want unknown", v)
	}
}

func TestStepArgsErrors(t *testing.T) {
	src := clusterRecipe + `
variable "t" { default = "soon" }
step "s" {
  on      = hosts.server
  run     = "true"
  timeout = var.t
}
`
	s := scopeFor(t, src, lang.Inputs{}, false)
	_, _, diags := s.StepArgs(s.Recipe.Step("s"), s.Hosts["server"].Index(cty.NumberIntVal(0)))
	checkMarkers(t, diags, "t/main.hcl", []marker{{Line: 17, Summary: "Invalid timeout"}})
}

// TestEvalLocalsSince: a rebuilt scope evaluates again only the locals,
// module inputs and module outputs that read a group or step that
// changed, directly or through others; the rest keep the previous
// scope's values. The previous values are planted here (values no
// evaluation gives), so a local evaluated again shows.
func TestEvalLocalsSince(t *testing.T) {
	fsys := fstest.MapFS{
		"main.hcl": {Data: []byte(`
recipe "t" {}
hosts "server" { count = 2 }
hosts "client" { count = 2 }
step "key" {
  on      = hosts.server[0]
  run     = "make key"
  capture { key = "cat key" }
}
locals {
  servers = [for h in hosts.server : h.name]
  clients = [for h in hosts.client : h.name]
  key     = step.key.outputs.key
  both    = "${local.key} ${length(local.clients)}"
}
module "m" {
  source = "./m"
  on     = hosts.client
  key    = local.key
  name   = "fixed"
}
`)},
		"m/main.hcl": {Data: []byte(`
variable "key" { type = string }
variable "name" { type = string }
locals {
  line  = "key ${var.key}"
  title = "name ${var.name}"
}
step "x" { run = "echo ${local.line} ${local.title}" }
output "line" { value = local.line }
`)},
	}
	r, diags := lang.Load(lang.Source{FS: fsys, Dir: ".", Display: "t"}, testKinds())
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	vars, diags := r.ResolveVariables(lang.Inputs{})
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	hosts := map[string]cty.Value{"server": hostsOf(r.Group("server"), 2, true), "client": hostsOf(r.Group("client"), 2, true)}
	keyVal := func(k string) map[string]cty.Value {
		return map[string]cty.Value{"key": r.Step("key").StepVal([]string{"server[0]"}, map[string]map[string]string{"server[0]": {"key": k}}, false)}
	}
	prev := &lang.Scope{Recipe: r, Vars: vars, Hosts: hosts, Steps: keyVal("old")}
	if d := prev.EvalLocals(); d.HasErrors() {
		t.Fatal(diagString(d))
	}
	planted := cty.StringVal("planted")
	for _, name := range []string{"servers", "clients", "key", "both"} {
		prev.Locals[name] = planted
	}
	cur := &lang.Scope{Recipe: r, Vars: vars, Hosts: hosts, Steps: keyVal("new")}
	if d := cur.EvalLocalsSince(prev, nil, map[string]bool{"key": true}); d.HasErrors() {
		t.Fatal(diagString(d))
	}
	for name, evaluated := range map[string]bool{"servers": false, "clients": false, "key": true, "both": true} {
		if got := cur.Locals[name]; got.RawEquals(planted) == evaluated {
			t.Errorf("local.%s = %#v after step.key changed: want it evaluated again %v", name, got, evaluated)
		}
	}
	if got := cur.Locals["key"]; !got.RawEquals(cty.StringVal("new")) {
		t.Errorf("local.key = %#v, want the new key", got)
	}
	// Through the module: its input reads local.key, its local and output
	// read the input; its other local reads nothing that changed.
	host := lang.HostInfo{Name: "client[0]", Group: "client"}.Val(nil)
	args, _, d := cur.StepArgs(r.Step("module.m.step.x"), host)
	if d.HasErrors() {
		t.Fatal(diagString(d))
	}
	if got := args.GetAttr("command").AsString(); got != "echo key new name fixed" {
		t.Errorf("module.m.step.x after step.key changed: %q", got)
	}

	// A group that changed: what reads it is evaluated again, the rest kept.
	for _, name := range []string{"servers", "clients", "key", "both"} {
		cur.Locals[name] = planted
	}
	next := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{"server": hosts["server"], "client": hostsOf(r.Group("client"), 1, true)}, Steps: keyVal("new")}
	if d := next.EvalLocalsSince(cur, map[string]bool{"client": true}, nil); d.HasErrors() {
		t.Fatal(diagString(d))
	}
	for name, evaluated := range map[string]bool{"servers": false, "clients": true, "key": false, "both": true} {
		if got := next.Locals[name]; got.RawEquals(planted) == evaluated {
			t.Errorf("local.%s = %#v after hosts.client changed: want it evaluated again %v", name, got, evaluated)
		}
	}
	if got := next.Locals["both"]; !got.RawEquals(cty.StringVal("planted 1")) {
		t.Errorf("local.both = %#v, want the kept key and the one client", got)
	}

	// No previous scope: everything is evaluated.
	all := &lang.Scope{Recipe: r, Vars: vars, Hosts: hosts, Steps: keyVal("k")}
	if d := all.EvalLocalsSince(nil, nil, nil); d.HasErrors() || !all.Locals["both"].RawEquals(cty.StringVal("k 2")) {
		t.Errorf("without a previous scope: local.both = %#v %s", all.Locals["both"], diagString(d))
	}
}

// TestValueChainBound: a chain of locals each reading the next is
// followed MaxValueChain deep; longer is one error, at the local where
// it stops, naming the chain's start. Analysis and evaluation recurse
// along the chain: 390,000 locals in three files took 80 s and 4.4 GB.
func TestValueChainBound(t *testing.T) {
	// l0 reads l1, which reads l2, ...: analysis starts at l0.
	chain := func(n int) string {
		var b strings.Builder
		b.WriteString("recipe \"t\" {}\nhosts \"server\" {}\nlocals {\n")
		for i := 0; i < n-1; i++ {
			fmt.Fprintf(&b, "  l%d = local.l%d + 1\n", i, i+1)
		}
		fmt.Fprintf(&b, "  l%d = 1\n}\n", n-1)
		return b.String()
	}
	r, diags := loadString(t, chain(lang.MaxValueChain))
	if diags.HasErrors() {
		t.Fatalf("a chain of MaxValueChain locals:%s", diagString(diags))
	}
	if _, _, d := r.Counts(nil); d.HasErrors() {
		t.Fatal(diagString(d))
	}
	_, diags = loadString(t, chain(5*lang.MaxValueChain))
	if len(diags) != 1 || diags[0].Summary != "Chain of values too long" || !strings.Contains(diags[0].Detail, "diffuser follows at most 1000") {
		t.Fatalf("want one \"Chain of values too long\":%s", diagString(diags))
	}
	if d := diags[0]; d.Subject == nil || d.Subject.Start.Line < 4 {
		t.Errorf("subject %v is not a local of the chain", d.Subject)
	}
}

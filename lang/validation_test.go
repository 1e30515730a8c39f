package lang_test

import (
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/lang"

	"github.com/zclconf/go-cty/cty"
)

const crossVarsRecipe = `recipe "t" {}

variable "replica" {
  type    = number
  default = 2
  validation {
    condition     = var.servers % var.replica == 0
    error_message = "replica must divide servers."
  }
}

variable "servers" {
  type    = number
  default = 2
  min     = 1
}

variable "uris" {
  type    = list(string)
  default = []
}

variable "key" {
  type      = string
  default   = ""
  sensitive = true
  validation {
    condition     = length(var.uris) == 0 || length(var.key) >= 8
    error_message = "key (8 characters or more) is required when uris is set."
  }
}
`

// A root variable's validation reads other variables, declared before or
// after it, once all have values: it fails at the variable it validates,
// with its message, never showing a sensitive value; it is not run when a
// variable it reads broke its own constraints (that error says why).
func TestRootValidationAcrossVariables(t *testing.T) {
	r, diags := loadString(t, crossVarsRecipe)
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	for _, tc := range []struct {
		vars []string
		want []string // each error's "file:line: detail", in order
	}{
		{nil, nil},
		{[]string{"servers=4"}, nil},
		{[]string{"servers=3", "replica=3"}, nil},
		{[]string{"servers=3"}, []string{"t/main.hcl:3: var.replica: replica must divide servers."}},
		{[]string{"servers=5", "replica=2"}, []string{"<-var replica=2>:1: var.replica: replica must divide servers."}},
		{[]string{"servers=0", "replica=2"}, []string{"<-var servers=0>:1: var.servers is 0; it must be at least 1."}},
		{[]string{`uris=["https://example.com"]`, "key=0123456789"}, nil},
		{[]string{`uris=["https://example.com"]`, "key=hunter2"}, []string{"<sensitive var.key>:1: var.key: key (8 characters or more) is required when uris is set."}},
		{[]string{`uris=["https://example.com"]`}, []string{"t/main.hcl:23: var.key: key (8 characters or more) is required when uris is set."}},
	} {
		_, diags := r.ResolveVariables(lang.Inputs{Vars: tc.vars})
		var got []string
		for _, d := range diags {
			got = append(got, d.Subject.Filename+":"+strconv.Itoa(d.Subject.Start.Line)+": "+d.Detail)
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%v:\n got %q\nwant %q", tc.vars, got, tc.want)
		}
		if strings.Contains(diags.Error(), "hunter2") {
			t.Errorf("%v: the sensitive value is shown: %s", tc.vars, diags.Error())
		}
	}
}

// crossHostFS calls a module whose validations read an input set from
// host: addr's reads subnet (one value), subnet's reads addr.
var crossHostFS = fstest.MapFS{
	"main.hcl": {Data: []byte(`recipe "t" {}
variable "subnet" { default = "10.0." }
hosts "node" { count = 2 }
module "w" {
  source = "./mods/w"
  on     = hosts.node
  addr   = host.private_ip
  subnet = var.subnet
}
`)},
	"mods/w/main.hcl": {Data: []byte(`variable "addr" {
  type = string
  validation {
    condition     = substr(var.addr, 0, length(var.subnet)) == var.subnet
    error_message = "addr is in subnet."
  }
}
variable "subnet" {
  type = string
  validation {
    condition     = length(var.addr) > length(var.subnet)
    error_message = "subnet is a prefix shorter than the address."
  }
}
step "say" {
  run = "echo ${var.addr}"
}
`)},
}

// A module input's validation that reads an input set from host is
// decided per step instance, once that host's value is known: not at
// plan while the address is unknown, and for each host at apply, in both
// directions (the input set from host reading one that is not, and the
// other way round).
func TestModuleValidationReadsHostInput(t *testing.T) {
	r, diags := loadFS(crossHostFS)
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	say := r.Step("module.w.step.say")
	for _, tc := range []struct {
		subnet, ip0, ip1 string
		want0, want1     []string
	}{
		{"10.0.", "10.0.0.1", "10.0.0.2", nil, nil},
		{"10.0.", "10.0.0.1", "192.168.0.2", nil, []string{"t/main.hcl:7: addr is in subnet."}},
		{"10.0.0.10", "10.0.0.10", "10.0.0.101", []string{"t/main.hcl:8: subnet is a prefix shorter than the address."}, nil},
	} {
		vars, diags := r.ResolveVariables(lang.Inputs{Vars: []string{"subnet=" + tc.subnet}})
		if diags.HasErrors() {
			t.Fatal(diagString(diags))
		}
		g := r.Groups[0]
		hosts := []lang.HostInfo{
			{Name: "node[0]", Group: "node", Hostname: "node-0", PrivateIP: cty.StringVal(tc.ip0)},
			{Name: "node[1]", Group: "node", Index: 1, Hostname: "node-1", PrivateIP: cty.StringVal(tc.ip1)},
		}
		// At plan the addresses are unknown: nothing is refused.
		plan := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{"node": g.GroupVal([]lang.HostInfo{{Name: "node[0]", Group: "node"}, {Name: "node[1]", Group: "node", Index: 1}})}}
		if diags := plan.EvalLocals(); diags.HasErrors() {
			t.Errorf("%v: at plan: %s", tc, diagString(diags))
		}
		if _, _, diags := plan.StepArgs(say, lang.HostInfo{Name: "node[0]", Group: "node"}.Val(nil)); diags.HasErrors() {
			t.Errorf("%v: StepArgs at plan: %s", tc, diagString(diags))
		}
		s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{"node": g.GroupVal(hosts)}}
		s.EvalLocals()
		for i, want := range [][]string{tc.want0, tc.want1} {
			args, _, diags := s.StepArgs(say, hosts[i].Val(nil))
			var got []string
			for _, d := range diags {
				got = append(got, d.Subject.Filename+":"+strconv.Itoa(d.Subject.Start.Line)+": "+strings.SplitN(d.Detail, " (variable", 2)[0])
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%v host %d:\n got %q\nwant %q", tc, i, got, want)
			}
			if want == nil && args.GetAttr("command").AsString() != "echo "+[]string{tc.ip0, tc.ip1}[i] {
				t.Errorf("%v host %d: args %#v", tc, i, args)
			}
		}
	}
}

// crossCaptureFS: the validation of module input size reads input limit,
// which the call sets from a capture. The module's step reads size only.
var crossCaptureFS = fstest.MapFS{
	"main.hcl": {Data: []byte(`recipe "t" {}
hosts "node" {}
step "probe" {
  on      = hosts.node
  run     = "echo 100"
  capture { max = "echo 100" }
}
module "m" {
  source = "./m"
  on     = hosts.node
  size   = 50
  limit  = tonumber(step.probe.outputs.max)
}
`)},
	"m/main.hcl": {Data: []byte(`variable "size" {
  type = number
  validation {
    condition     = var.size <= var.limit
    error_message = "size is above the limit."
  }
}
variable "limit" {
  type = number
}
step "use" {
  run = "echo ${var.size}"
}
`)},
}

// TestModuleValidationOrdersReaders: as in Terraform, what a validation
// reads orders what reads the validated input: module.m.step.use reads
// only size, and waits for step.probe, whose capture size's validation
// reads through limit. Once probe ran, the validation is decided before
// use's arguments are: a limit below size refuses use.
func TestModuleValidationOrdersReaders(t *testing.T) {
	r, diags := loadFS(crossCaptureFS)
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	use := r.Step("module.m.step.use")
	var refs []string
	for _, ref := range use.RefSteps {
		refs = append(refs, ref.Name)
	}
	if strings.Join(refs, ",") != "probe" {
		t.Fatalf("module.m.step.use waits for %v, want [probe]: the validation of size reads limit, made from probe's capture", refs)
	}
	vars, diags := r.ResolveVariables(lang.Inputs{})
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	node := lang.HostInfo{Name: "node[0]", Group: "node", Hostname: "node-0", PrivateIP: cty.StringVal("10.0.0.1")}
	for _, tc := range []struct {
		max     string
		refused bool
	}{{"100", false}, {"10", true}} {
		s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{"node": r.Groups[0].GroupVal([]lang.HostInfo{node})}}
		s.Steps = map[string]cty.Value{"probe": r.Step("probe").StepVal([]string{"node[0]"},
			map[string]map[string]string{"node[0]": {"max": tc.max}}, false)}
		if d := s.EvalLocals(); d.HasErrors() && !tc.refused {
			t.Fatalf("max %s: %s", tc.max, diagString(d))
		}
		args, _, d := s.StepArgs(use, node.Val(nil))
		if got := d.HasErrors(); got != tc.refused {
			t.Errorf("max %s: refused %v, want %v:%s", tc.max, got, tc.refused, diagString(d))
			continue
		}
		if tc.refused {
			if !strings.Contains(diagString(d), "size is above the limit.") {
				t.Errorf("max %s: %s", tc.max, diagString(d))
			}
			continue
		}
		if cmd := args.GetAttr("command"); !cmd.RawEquals(cty.StringVal("echo 50")) {
			t.Errorf("max %s: command %#v", tc.max, cmd)
		}
	}
}

// A validation decided for one host at apply says what it read there (a
// fact, an address: values the operator cannot see in the recipe).
func TestModuleValidationPerHostSaysValues(t *testing.T) {
	r, diags := loadFS(crossHostFS)
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	vars, diags := r.ResolveVariables(lang.Inputs{})
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	hosts := []lang.HostInfo{
		{Name: "node[0]", Group: "node", Hostname: "node-0", PrivateIP: cty.StringVal("10.0.0.1")},
		{Name: "node[1]", Group: "node", Index: 1, Hostname: "node-1", PrivateIP: cty.StringVal("192.168.0.2")},
	}
	s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{"node": r.Groups[0].GroupVal(hosts)}}
	s.EvalLocals()
	_, _, diags = s.StepArgs(r.Step("module.w.step.say"), hosts[1].Val(nil))
	want := `addr is in subnet. (variable "addr" of module module.w, validated at t/mods/w/main.hcl:3; on node[1] var.addr is "192.168.0.2", var.subnet is "10.0.")`
	if len(diags) != 1 || diags[0].Detail != want {
		t.Fatalf("want one error:\n%s\ngot:%s", want, diagString(diags))
	}
}

// TestModuleValidationOrdersHostInputReaders: the same ordering holds for
// an input read from host, whose validations are decided per instance at
// apply: module.m.step.say reads only addr (host.private_ip) and waits
// for step.probe, whose capture addr's validation reads through subnet.
// It did not wait, so at apply the validation read an unknown subnet and
// was passed over: the rule never held.
func TestModuleValidationOrdersHostInputReaders(t *testing.T) {
	r, diags := loadFS(fstest.MapFS{
		"main.hcl": {Data: []byte(`recipe "t" {}
hosts "node" {}
step "probe" {
  on      = hosts.node
  run     = "true"
  capture { net = "echo 10.0." }
}
module "m" {
  source = "./m"
  on     = hosts.node
  addr   = host.private_ip
  subnet = step.probe.outputs.net
}
`)},
		"m/main.hcl": crossHostFS["mods/w/main.hcl"],
	})
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	say := r.Step("module.m.step.say")
	var refs []string
	for _, ref := range say.RefSteps {
		refs = append(refs, ref.Name)
	}
	if strings.Join(refs, ",") != "probe" {
		t.Fatalf("module.m.step.say waits for %v, want [probe]: the validation of addr reads subnet, made from probe's capture", refs)
	}
	vars, diags := r.ResolveVariables(lang.Inputs{})
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	for _, tc := range []struct {
		ip      string
		refused bool
	}{{"10.0.0.1", false}, {"192.168.0.2", true}} {
		node := lang.HostInfo{Name: "node[0]", Group: "node", Hostname: "node-0", PrivateIP: cty.StringVal(tc.ip)}
		s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{"node": r.Groups[0].GroupVal([]lang.HostInfo{node})}}
		s.Steps = map[string]cty.Value{"probe": r.Step("probe").StepVal([]string{"node[0]"},
			map[string]map[string]string{"node[0]": {"net": "10.0."}}, false)}
		s.EvalLocals()
		_, _, d := s.StepArgs(say, node.Val(nil))
		if d.HasErrors() != tc.refused || tc.refused && !strings.Contains(diagString(d), "addr is in subnet.") {
			t.Errorf("%s: refused %v, want %v:%s", tc.ip, d.HasErrors(), tc.refused, diagString(d))
		}
	}
}

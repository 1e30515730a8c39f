package lang_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/lang"

	"github.com/zclconf/go-cty/cty"
)

// A module input whose value is known only once a step ran (a capture) or
// a host launched (its address) is held to the module variable's
// validations then too: StepArgs refuses the module's steps with the
// validation's message, at the call, and never hands them the refused
// value (a command built from it would run it).
func TestModuleInputValidatedWhenKnownLate(t *testing.T) {
	fsys := fstest.MapFS{
		"main.hcl": {Data: []byte(`recipe "t" {}
hosts "node" {}
step "word" {
  on  = hosts.node
  run = "true"
  capture {
    w = "echo a"
  }
}
module "w" {
  source = "./mods/w"
  on     = hosts.node
  word   = step.word.outputs.w
  addr   = host.private_ip
}
`)},
		"mods/w/main.hcl": {Data: []byte(`variable "word" {
  type = string
  validation {
    condition     = can(regex("^[a-z]+$", var.word))
    error_message = "word is lower-case letters only."
  }
}
variable "addr" {
  type = string
  validation {
    condition     = can(regex("^[0-9.]+$", var.addr))
    error_message = "addr is an IPv4 address."
  }
}
step "say" {
  run = "echo ${var.word} ${var.addr}"
}
`)},
	}
	r, diags := loadFS(fsys)
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	vars, diags := r.ResolveVariables(lang.Inputs{})
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	say := r.Step("module.w.step.say")
	for _, tc := range []struct {
		word, ip, want string
	}{
		{"hello", "10.0.0.1", ""},
		{"a;rm -rf /", "10.0.0.1", `t/main.hcl:13: word is lower-case letters only.`},
		{"hello", "10.0.0.1; reboot", `t/main.hcl:14: addr is an IPv4 address.`},
	} {
		g := r.Groups[0]
		host := lang.HostInfo{Name: "node[0]", Group: "node", Hostname: "node-0", PrivateIP: cty.StringVal(tc.ip)}
		s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{"node": g.GroupVal([]lang.HostInfo{host})},
			Steps: map[string]cty.Value{"word": r.Step("word").StepVal([]string{"node[0]"}, map[string]map[string]string{"node[0]": {"w": tc.word}}, false)}}
		s.EvalLocals() // what apply does when the capture arrives; its diagnostics are not looked at there
		args, _, diags := s.StepArgs(say, host.Val(nil))
		got := ""
		for _, d := range diags {
			got += fmt.Sprintf("%s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Detail)
		}
		if tc.want == "" {
			if diags.HasErrors() || args.GetAttr("command").AsString() != "echo hello 10.0.0.1" {
				t.Errorf("%q %q: %v %s", tc.word, tc.ip, args, got)
			}
			continue
		}
		if !diags.HasErrors() || !strings.Contains(got, tc.want) {
			t.Errorf("%q %q: want an error %q, got %q (args %#v)", tc.word, tc.ip, tc.want, got, args)
		}
	}
}

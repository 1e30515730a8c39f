package steps_test

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"diffuser/steps/builtin"
)

// TestSpecsDecodeRecipeBlocks decodes kind blocks as a recipe writes them
// (native HCL syntax) with each kind's Spec, and checks the defaults the
// Spec fills in.
func TestSpecsDecodeRecipeBlocks(t *testing.T) {
	for _, c := range []struct {
		kind, body string
		want       map[string]cty.Value // attributes to check
	}{
		{"run", `
			command = "gluster volume create gv0"
			unless  = "gluster volume info gv0"
			creates = "/var/lib/x"
			env     = { A = "b" }
			capture {
			  key = "cat /etc/ceph/key"
			}`,
			map[string]cty.Value{
				"capture": cty.MapVal(map[string]cty.Value{"key": cty.StringVal("cat /etc/ceph/key")}),
				"env":     cty.MapVal(map[string]cty.Value{"A": cty.StringVal("b")}),
			}},
		{"run", `command = "true"`, map[string]cty.Value{
			"capture": cty.NullVal(cty.Map(cty.String)), "creates": cty.NullVal(cty.String)}},
		{"package", `names = ["glusterfs-server", "xfsprogs"]`, map[string]cty.Value{
			"state": cty.StringVal("present"), "update_cache": cty.False}},
		{"package", `
			names        = ["nfs-common"]
			state        = "absent"
			update_cache = true`, map[string]cty.Value{"state": cty.StringVal("absent"), "update_cache": cty.True}},
		{"file", `
			path    = "/etc/x.conf"
			content = "a = 1\n"
			owner   = "root"
			group   = "root"`, map[string]cty.Value{"mode": cty.StringVal("0644")}},
		{"format", `
			device = "/dev/loop3"
			fstype = "xfs"`, map[string]cty.Value{
			"force": cty.False, "options": cty.ListValEmpty(cty.String), "label": cty.NullVal(cty.String)}},
		{"mount", `
			source  = "/dev/loop3"
			target  = "/data/brick"
			fstype  = "xfs"
			options = "noatime"
			fstab   = true`, map[string]cty.Value{"mkdir": cty.True, "fstab": cty.True}},
		{"service", `
			name    = "glusterd"
			state   = "started"
			enabled = true`, map[string]cty.Value{"daemon_reload": cty.False}},
		{"service", `name = "glusterd"`, map[string]cty.Value{
			"state": cty.StringVal("started"), "enabled": cty.NullVal(cty.Bool)}},
		{"wait", `
			port    = 24007
			host    = "127.0.0.1"
			timeout = "60s"`, map[string]cty.Value{"interval": cty.StringVal("2s"), "port": cty.NumberIntVal(24007)}},
		{"wait", `
			command = "gluster peer status"
			timeout = "2m"`, map[string]cty.Value{"host": cty.StringVal("127.0.0.1"), "port": cty.NullVal(cty.Number)}},
		{"wait", `port = 24007`, map[string]cty.Value{"timeout": cty.StringVal("120s")}},
	} {
		kind, ok := builtin.Kinds().Lookup(c.kind)
		if !ok {
			t.Fatalf("no kind %s", c.kind)
		}
		f, diags := hclsyntax.ParseConfig([]byte(c.body), c.kind+".hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", c.kind, diags)
		}
		v, diags := hcldec.Decode(f.Body, kind.Schema().Spec(), nil)
		if diags.HasErrors() {
			t.Errorf("%s: decoding %q: %v", c.kind, c.body, diags)
			continue
		}
		if !v.Type().Equals(hcldec.ImpliedType(kind.Schema().Spec())) {
			t.Errorf("%s: decoded type %s differs from ImpliedType", c.kind, v.Type().FriendlyName())
		}
		for name, want := range c.want {
			if got := v.GetAttr(name); !got.RawEquals(want) {
				t.Errorf("%s: %s = %#v, want %#v", c.kind, name, got, want)
			}
		}
	}
}

// TestSpecsRejectMistakes checks that typos and missing attributes are
// decoding errors, before anything runs.
func TestSpecsRejectMistakes(t *testing.T) {
	for _, c := range []struct{ kind, body string }{
		{"service", `nmae = "glusterd"`},
		{"mount", `source = "/dev/loop3"`},
		{"package", `names = "xfsprogs"` + "\n" + `state = ["present"]`},
		{"format", `device = "/dev/loop3"`},
		{"run", `capture = { key = "x" }` + "\n" + `command = "true"`},
	} {
		kind, _ := builtin.Kinds().Lookup(c.kind)
		f, diags := hclsyntax.ParseConfig([]byte(c.body), c.kind+".hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", c.kind, diags)
		}
		if _, diags := hcldec.Decode(f.Body, kind.Schema().Spec(), nil); !diags.HasErrors() {
			t.Errorf("%s: %q decoded without error", c.kind, c.body)
		}
	}
}

package lang_test

import (
	"strings"
	"testing"

	"diffuser/facts"
	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/zclconf/go-cty/cty"
)

// TestFactsRefs: validate checks the names read under host.facts and
// hosts.G[i].facts, suggesting the nearest; valid reads load cleanly.
func TestFactsRefs(t *testing.T) {
	const head = "recipe \"t\" {}\nhosts \"server\" { count = 2 }\n"
	for _, c := range []struct {
		name, expr, want string // want "" = no error
	}{
		{"os id", `host.facts.os.id`, ""},
		{"os family", `host.facts.os.family`, ""},
		{"version", `host.facts.os.version_id`, ""},
		{"id_like", `join(",", host.facts.os.id_like)`, ""},
		{"arch", `host.facts.arch`, ""},
		{"cores", `tostring(host.facts.cores)`, ""},
		{"memory", `tostring(host.facts.memory_mb)`, ""},
		{"device", `host.facts.devices[0].name`, ""},
		{"device splat", `join(",", host.facts.devices[*].name)`, ""},
		{"whole facts", `jsonencode(host.facts)`, ""},
		{"other host", `hosts.server[1].facts.os.id`, ""},
		{"typo fact", `host.facts.cpus`, `There is no attribute "cpus" on host facts.`},
		{"near fact", `host.facts.memry_mb`, `Did you mean "memory_mb"?`},
		{"fact without its unit", `host.facts.memory`, `Did you mean "memory_mb"?`},
		{"far fact", `host.facts.ram`, `Host facts are arch, capabilities, cores, devices, memory_mb, os, package_arch.`},
		{"capabilities", `contains(host.facts.capabilities, "net_admin")`, ""},
		{"capability", `host.facts.capabilities[0]`, ""},
		{"capabilities typo", `host.facts.capabilites`, `Did you mean "capabilities"?`},
		{"capability attr", `host.facts.capabilities.net_admin`, `test one with contains(host.facts.capabilities, "net_admin")`},
		{"os typo", `host.facts.os.versionid`, `Did you mean "version_id"?`},
		{"os unknown", `host.facts.os.kernel`, `The OS facts are family, id, id_like, name, version_id.`},
		{"device typo", `host.facts.devices[0].fstyp`, `Did you mean "fstype"?`},
		{"device without its unit", `host.facts.devices[0].size`, `Did you mean "size_bytes"?`},
		{"device unknown", `host.facts.devices[0].model`, `A device has fstype, mountpoint, name, size_bytes, type.`},
		{"scalar attr", `host.facts.arch.bits`, `host.facts.arch is a single value`},
		{"hosts typo", `hosts.server[0].facts.os.idd`, `Did you mean "id"?`},
		{"fact typo on host", `host.fact.arch`, `Did you mean "facts"?`},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := head + "step \"s\" {\n  on  = hosts.server\n  run = \"echo ${" + c.expr + "}\"\n}\n"
			_, diags := loadString(t, src)
			got := diagString(errorsOf(diags))
			if c.want == "" {
				if diags.HasErrors() {
					t.Fatalf("unexpected errors:%s", got)
				}
				return
			}
			if !strings.Contains(got, c.want) || !strings.Contains(got, "main.hcl:5") {
				t.Fatalf("want %q at main.hcl:5, got:%s", c.want, got)
			}
		})
	}
}

// TestFactsValues: host.facts is (known after apply) until a host told
// them, then holds what it told, with one type whatever the host said so
// that hosts of one group make a list.
func TestFactsValues(t *testing.T) {
	r, vars := mustLoad(t, "recipe \"t\" {}\nhosts \"server\" { count = 2 }\n", lang.Inputs{})
	unknown := lang.HostInfo{Name: "server[0]", Group: "server"}.Val(nil)
	if fv := unknown.GetAttr("facts"); fv.IsKnown() || !fv.Type().Equals(lang.FactsType) {
		t.Fatalf("facts of a host not launched: %#v", fv)
	}
	f := facts.Facts{OS: facts.OS{ID: "rocky", IDLike: []string{"rhel", "fedora"}, VersionID: "9.3", Family: "rhel"},
		Arch: "x86_64", Cores: 8, MemoryMB: 31826, Devices: []facts.Device{{Name: "sda", SizeBytes: 1 << 30, Type: "disk"}}}
	f.Capabilities = []string{"chown", "net_admin"}
	known := lang.HostInfo{Name: "server[1]", Group: "server", Index: 1, Facts: lang.FactsVal(f)}.Val(nil)
	empty := lang.HostInfo{Name: "server[0]", Group: "server", Facts: lang.FactsVal(facts.Facts{Capabilities: []string{}})}.Val(nil)
	list := r.Group("server").ListVal([]cty.Value{unknown, known})
	list2 := r.Group("server").ListVal([]cty.Value{empty, known})
	s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{"server": list2}}
	for expr, want := range map[string]string{
		`hosts.server[1].facts.os.family`:                                           "rhel",
		`hosts.server[1].facts.os.id_like[1]`:                                       "fedora",
		`tostring(hosts.server[1].facts.cores)`:                                     "8",
		`hosts.server[1].facts.devices[0].type`:                                     "disk",
		`tostring(length(hosts.server[0].facts.devices))`:                           "0",
		`tostring(contains(hosts.server[1].facts.capabilities, "net_admin"))`:       "true",
		`tostring(contains(hosts.server[0].facts.capabilities, "net_admin"))`:       "false",
		`tostring(contains(hosts.server[1].facts.capabilities, "dac_read_search"))`: "false",
	} {
		v, diags := evalIn(t, s, expr)
		if diags.HasErrors() || v.AsString() != want {
			t.Errorf("%s = %#v (%s), want %q", expr, v, diagString(diags), want)
		}
	}
	if list.LengthInt() != 2 {
		t.Fatal("a list of hosts with and without facts")
	}
	// Facts recorded before capabilities were gathered: those alone are
	// (known after apply), the others are what the host told.
	old := lang.FactsVal(facts.Facts{OS: facts.OS{Family: "debian"}})
	if c := old.GetAttr("capabilities"); c.IsKnown() || !old.GetAttr("os").IsWhollyKnown() {
		t.Errorf("facts without capabilities: %#v", old)
	}
}

func evalIn(t *testing.T, s *lang.Scope, src string) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "expr.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return expr.Value(s.Ctx(cty.NilVal))
}

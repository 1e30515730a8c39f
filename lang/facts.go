package lang

import (
	"fmt"
	"strings"

	"diffuser/facts"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// What `host.facts` holds (see package facts): the names validate checks
// statically, and the type every host's facts have, known or not, so that
// hosts of one group make a list.
var (
	factsAttrs  = []string{"arch", "capabilities", "cores", "devices", "memory_mb", "os", "package_arch"}
	osAttrs     = []string{"family", "id", "id_like", "name", "version_id"}
	deviceAttrs = []string{"fstype", "mountpoint", "name", "size_bytes", "type"}

	deviceType = cty.Object(map[string]cty.Type{
		"name": cty.String, "size_bytes": cty.Number, "type": cty.String, "mountpoint": cty.String, "fstype": cty.String,
	})
	// FactsType is the type of `host.facts`.
	FactsType = cty.Object(map[string]cty.Type{
		"os": cty.Object(map[string]cty.Type{
			"id": cty.String, "id_like": cty.List(cty.String), "version_id": cty.String, "name": cty.String, "family": cty.String,
		}),
		"arch": cty.String, "package_arch": cty.String, "cores": cty.Number, "memory_mb": cty.Number,
		"devices": cty.List(deviceType), "capabilities": cty.List(cty.String),
	})
)

// unknownCaps are the capabilities of a host whose facts state recorded
// before diffuser gathered them: known after apply, which records them.
var unknownCaps = cty.UnknownVal(cty.List(cty.String)).RefineNotNull()

// unknownFacts are the facts of a host not launched yet, or launched
// before facts were gathered: (known after apply).
var unknownFacts = cty.UnknownVal(FactsType).RefineNotNull()

// FactsVal is `host.facts` for facts a host told.
func FactsVal(f facts.Facts) cty.Value {
	like := make([]cty.Value, len(f.OS.IDLike))
	for i, l := range f.OS.IDLike {
		like[i] = cty.StringVal(l)
	}
	likeVal := cty.ListValEmpty(cty.String)
	if len(like) > 0 {
		likeVal = cty.ListVal(like)
	}
	devs := make([]cty.Value, len(f.Devices))
	for i, d := range f.Devices {
		devs[i] = cty.ObjectVal(map[string]cty.Value{
			"name": cty.StringVal(d.Name), "size_bytes": cty.NumberIntVal(d.SizeBytes), "type": cty.StringVal(d.Type),
			"mountpoint": cty.StringVal(d.Mountpoint), "fstype": cty.StringVal(d.FSType),
		})
	}
	devVal := cty.ListValEmpty(deviceType)
	if len(devs) > 0 {
		devVal = cty.ListVal(devs)
	}
	capsVal := unknownCaps
	if f.CapabilitiesRecorded() {
		capsVal = cty.ListValEmpty(cty.String)
		if len(f.Capabilities) > 0 {
			caps := make([]cty.Value, len(f.Capabilities))
			for i, c := range f.Capabilities {
				caps[i] = cty.StringVal(c)
			}
			capsVal = cty.ListVal(caps)
		}
	}
	return cty.ObjectVal(map[string]cty.Value{
		"os": cty.ObjectVal(map[string]cty.Value{
			"id": cty.StringVal(f.OS.ID), "id_like": likeVal, "version_id": cty.StringVal(f.OS.VersionID),
			"name": cty.StringVal(f.OS.Name), "family": cty.StringVal(f.OS.Family),
		}),
		"arch": cty.StringVal(f.Arch), "package_arch": cty.StringVal(f.PackageArch),
		"cores": cty.NumberIntVal(int64(f.Cores)), "memory_mb": cty.NumberIntVal(int64(f.MemoryMB)),
		"devices": devVal, "capabilities": capsVal,
	})
}

// checkFactsPath checks tr[i:], the part after `….facts`: a fact, and
// for os an attribute of the OS, for devices[N] one of a device.
func checkFactsPath(tr hcl.Traversal, i int) *hcl.Diagnostic {
	if len(tr) <= i {
		return nil
	}
	name, ok := stepName(tr[i])
	if !ok {
		return nil
	}
	if !contains(factsAttrs, name) {
		return unknownAttr(tr[i], "host facts", name, factsAttrs,
			"Host facts are "+strings.Join(factsAttrs, ", ")+".")
	}
	switch name {
	case "os":
		if len(tr) > i+1 {
			if a, ok := stepName(tr[i+1]); ok && !contains(osAttrs, a) {
				return unknownAttr(tr[i+1], "host.facts.os", a, osAttrs, "The OS facts are "+strings.Join(osAttrs, ", ")+".")
			}
		}
	case "devices":
		if len(tr) > i+2 {
			if _, ok := tr[i+1].(hcl.TraverseIndex); !ok {
				return nil
			}
			if a, ok := stepName(tr[i+2]); ok && !contains(deviceAttrs, a) {
				return unknownAttr(tr[i+2], "a device of host.facts.devices", a, deviceAttrs,
					fmt.Sprintf("A device has %s.", strings.Join(deviceAttrs, ", ")))
			}
		}
	case "capabilities":
		if len(tr) > i+1 {
			if _, ok := tr[i+1].(hcl.TraverseIndex); !ok {
				return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported attribute",
					Detail:  `host.facts.capabilities is a list of names ("net_admin"), with no attributes: test one with contains(host.facts.capabilities, "net_admin").`,
					Subject: tr[i+1].SourceRange().Ptr()}
			}
		}
	default:
		if len(tr) > i+1 {
			return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported attribute",
				Detail:  fmt.Sprintf("host.facts.%s is a single value, with no attributes.", name),
				Subject: tr[i+1].SourceRange().Ptr()}
		}
	}
	return nil
}

// readsFacts says whether traversals may read host facts: through
// `host.facts`, the whole `host`, or a `hosts.…` value that is not a
// host's named attribute (a for expression over hosts.G may read h.facts
// without naming it).
func readsFacts(trs []hcl.Traversal) bool {
	for _, tr := range trs {
		var at int
		switch tr.RootName() {
		case "host":
			at = 1
		case "hosts":
			at = 3
		default:
			continue
		}
		if len(tr) <= at {
			return true
		}
		if n, ok := stepName(tr[at]); !ok || n == "facts" {
			return true
		}
	}
	return false
}

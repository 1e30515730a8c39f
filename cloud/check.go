package cloud

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
)

// GroupNeed is what a recipe asks of a provider for one host group, known
// before any host exists.
type GroupNeed struct {
	Count   int      // hosts in the group
	Volumes []string // names of the group's volume blocks, sorted
	// CountAt says where the recipe sets the count ("main.hcl:12"), for
	// messages about too few hosts; it may be "".
	CountAt string
}

// SettingsProblem is one mistake in a host group's provider settings.
type SettingsProblem struct {
	// Path is the setting at fault (cty.GetAttrPath("port")), and the
	// element for lists and maps (…Index(cty.NumberIntVal(2))). Empty:
	// the group's settings as a whole, e.g. a setting that is missing.
	Path    cty.Path
	Summary string // terse: "Invalid port"
	Detail  string // what is wrong and what to write instead
	// Warning: a problem of this machine rather than of the site file (a
	// key file missing here may be there where apply runs); validate and
	// plan print it and go on.
	Warning bool
}

func (p SettingsProblem) Error() string { return p.Detail }

// Problem builds a SettingsProblem; the detail is formatted with args.
func Problem(path cty.Path, summary, format string, args ...any) SettingsProblem {
	return SettingsProblem{Path: path, Summary: summary, Detail: fmt.Sprintf(format, args...)}
}

// SettingsChecker is an optional ability of a Factory: it checks a host
// group's settings (the site's provider block with the group's `hosts`
// block merged in, decoded with Spec) offline, against what the recipe
// needs of the group, so that validate and plan report now what would
// otherwise fail at launch, minutes into an apply. A provider's launch
// path must refuse the same values with the same rules, so that the two
// cannot disagree. CheckSettings makes no network call.
type SettingsChecker interface {
	CheckSettings(settings cty.Value, group string, need GroupNeed) []SettingsProblem
}

// Attr returns the settings object's attribute name, or a null value when
// the object (or map) lacks it or settings is null.
func Attr(settings cty.Value, name string) cty.Value {
	switch {
	case settings == cty.NilVal || settings.IsNull() || !settings.IsKnown():
	case settings.Type().IsObjectType() && settings.Type().HasAttribute(name):
		return settings.GetAttr(name)
	case settings.Type().IsMapType() && settings.HasIndex(cty.StringVal(name)).True():
		return settings.Index(cty.StringVal(name))
	}
	return cty.NullVal(cty.DynamicPseudoType)
}

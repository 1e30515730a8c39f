package steps

import (
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// Kinds read their arguments through these helpers rather than trusting the
// Spec's defaults: the loader's shorthands (package = [...], run = "...")
// build the object directly and leave the other attributes null, so a null
// attribute always means "use the default".

// AttrSpec is an optional attribute.
func AttrSpec(name string, ty cty.Type) hcldec.Spec {
	return &hcldec.AttrSpec{Name: name, Type: ty}
}

// RequiredSpec is a required attribute.
func RequiredSpec(name string, ty cty.Type) hcldec.Spec {
	return &hcldec.AttrSpec{Name: name, Type: ty, Required: true}
}

// DefaultSpec is an optional attribute with a default value.
func DefaultSpec(name string, def cty.Value) hcldec.Spec {
	return &hcldec.DefaultSpec{
		Primary: &hcldec.AttrSpec{Name: name, Type: def.Type()},
		Default: &hcldec.LiteralSpec{Value: def},
	}
}

// attr returns args' attribute name, or a null of dynamic type when args is
// null or has no such attribute.
func attr(args cty.Value, name string) cty.Value {
	if args.IsNull() || !args.IsKnown() || !args.Type().IsObjectType() || !args.Type().HasAttribute(name) {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return args.GetAttr(name)
}

// known reports whether v can be read: not null and wholly known.
func known(name string, v cty.Value) (bool, error) {
	if v.IsNull() {
		return false, nil
	}
	if !v.IsWhollyKnown() {
		return false, fmt.Errorf("%s is not known yet", name)
	}
	return true, nil
}

// OptString returns the string attribute name, or def when it is null.
func OptString(args cty.Value, name, def string) (string, error) {
	v := attr(args, name)
	if ok, err := known(name, v); !ok || err != nil {
		return def, err
	}
	if v.Type() != cty.String {
		return "", fmt.Errorf("%s must be a string, not %s", name, v.Type().FriendlyName())
	}
	return v.AsString(), nil
}

// ReqString returns the string attribute name, which must be set and non-empty.
func ReqString(args cty.Value, name string) (string, error) {
	s, err := OptString(args, name, "")
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", fmt.Errorf("%s is required", name)
	}
	return s, nil
}

// optBool returns the bool attribute name; set is false when it is null.
func optBool(args cty.Value, name string) (val, set bool, err error) {
	v := attr(args, name)
	if ok, err := known(name, v); !ok || err != nil {
		return false, false, err
	}
	if v.Type() != cty.Bool {
		return false, false, fmt.Errorf("%s must be a bool, not %s", name, v.Type().FriendlyName())
	}
	return v.True(), true, nil
}

// boolOr returns the bool attribute name, or def when it is null.
func boolOr(args cty.Value, name string, def bool) (bool, error) {
	v, set, err := optBool(args, name)
	if err != nil || !set {
		return def, err
	}
	return v, nil
}

// OptInt returns the whole-number attribute name; set is false when it is null.
func OptInt(args cty.Value, name string) (val int, set bool, err error) {
	v := attr(args, name)
	if ok, err := known(name, v); !ok || err != nil {
		return 0, false, err
	}
	if v.Type() != cty.Number {
		return 0, false, fmt.Errorf("%s must be a number, not %s", name, v.Type().FriendlyName())
	}
	i, acc := v.AsBigFloat().Int64()
	if acc != big.Exact || i != int64(int(i)) {
		return 0, false, fmt.Errorf("%s must be a whole number, not %s", name, v.AsBigFloat().Text('g', 10))
	}
	return int(i), true, nil
}

// stringList returns the list (or set or tuple) of strings name; nil when null.
func stringList(args cty.Value, name string) ([]string, error) {
	v := attr(args, name)
	if ok, err := known(name, v); !ok || err != nil {
		return nil, err
	}
	if !v.CanIterateElements() || v.Type().IsMapType() || v.Type().IsObjectType() {
		return nil, fmt.Errorf("%s must be a list of strings, not %s", name, v.Type().FriendlyName())
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || e.Type() != cty.String {
			return nil, fmt.Errorf("%s must be a list of non-null strings", name)
		}
		out = append(out, e.AsString())
	}
	return out, nil
}

// stringMap returns the map (or object) of strings name; nil when null.
func stringMap(args cty.Value, name string) (map[string]string, error) {
	v := attr(args, name)
	if ok, err := known(name, v); !ok || err != nil {
		return nil, err
	}
	if !v.Type().IsMapType() && !v.Type().IsObjectType() {
		return nil, fmt.Errorf("%s must be a map of strings, not %s", name, v.Type().FriendlyName())
	}
	out := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() || e.Type() != cty.String {
			return nil, fmt.Errorf("%s[%q] must be a non-null string", name, k.AsString())
		}
		out[k.AsString()] = e.AsString()
	}
	return out, nil
}

// durationOr parses the duration string attribute name ("60s", "2m"),
// returning def when it is null. Durations must be positive.
func durationOr(args cty.Value, name string, def time.Duration) (time.Duration, error) {
	s, err := OptString(args, name, "")
	if err != nil || s == "" {
		return def, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration like \"60s\" or \"2m\"", name, s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s must be positive, not %q", name, s)
	}
	return d, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

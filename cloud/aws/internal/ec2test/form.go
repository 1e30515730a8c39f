package ec2test

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// form is a decoded EC2 Query request body. Lists are flattened the EC2 way:
// InstanceId.1, InstanceId.2, Filter.1.Name, Filter.1.Value.1, ...
type form url.Values

func (f form) get(key string) string { return url.Values(f).Get(key) }

// list returns the values of key.1, key.2, ... up to the first gap.
func (f form) list(key string) []string {
	var out []string
	for n := 1; ; n++ {
		v, ok := f[key+"."+strconv.Itoa(n)]
		if !ok || len(v) == 0 {
			return out
		}
		out = append(out, v[0])
	}
}

// structs returns the members of key.1.*, key.2.*, ... as sub-forms with the
// "key.N." prefix removed.
func (f form) structs(key string) []form {
	var out []form
	for n := 1; ; n++ {
		prefix := key + "." + strconv.Itoa(n) + "."
		sub := form{}
		for k, v := range f {
			if strings.HasPrefix(k, prefix) {
				sub[k[len(prefix):]] = v
			}
		}
		if len(sub) == 0 {
			return out
		}
		out = append(out, sub)
	}
}

func (f form) integer(key string, def int) (int, error) {
	s := f.get(key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, apiError{400, "InvalidParameterValue", fmt.Sprintf("%s: %q is not an integer", key, s)}
	}
	return n, nil
}

func (f form) boolean(key string) (value, set bool) {
	s := f.get(key)
	return s == "true", s != ""
}

// tags returns the Tag.N.Key/Tag.N.Value pairs under key (e.g. "Tag").
func (f form) tags(key string) map[string]string {
	out := map[string]string{}
	for _, t := range f.structs(key) {
		out[t.get("Key")] = t.get("Value")
	}
	return out
}

// tagSpecs returns the tags of the TagSpecification entries for resourceType.
func (f form) tagSpecs(resourceType string) map[string]string {
	out := map[string]string{}
	for _, spec := range f.structs("TagSpecification") {
		if spec.get("ResourceType") != resourceType {
			continue
		}
		for k, v := range spec.tags("Tag") {
			out[k] = v
		}
	}
	return out
}

// filter is one Filter.N entry: the resource matches if the named field
// matches any of the values (which may hold * and ? wildcards).
type filter struct {
	name   string
	values []*regexp.Regexp
}

func (f form) filters() []filter {
	var out []filter
	for _, s := range f.structs("Filter") {
		flt := filter{name: s.get("Name")}
		for _, v := range s.list("Value") {
			flt.values = append(flt.values, glob(v))
		}
		out = append(out, flt)
	}
	return out
}

// glob compiles an EC2 filter value: * matches any run of characters
// (including /), ? matches one character.
func glob(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func (flt filter) match(v string) bool {
	for _, re := range flt.values {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}

// matchTags handles the tag:<key> and tag-key filters; ok is false when the
// filter is not a tag filter.
func (flt filter) matchTags(tags map[string]string) (matched, ok bool) {
	switch {
	case strings.HasPrefix(flt.name, "tag:"):
		v, has := tags[strings.TrimPrefix(flt.name, "tag:")]
		return has && flt.match(v), true
	case flt.name == "tag-key":
		for k := range tags {
			if flt.match(k) {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}

// matchAll applies every filter to a resource whose filterable fields are
// given by field (returning ok=false for a field the resource lacks).
func matchAll(filters []filter, tags map[string]string, field func(name string) (string, bool)) (bool, error) {
	for _, flt := range filters {
		if m, ok := flt.matchTags(tags); ok {
			if !m {
				return false, nil
			}
			continue
		}
		v, ok := field(flt.name)
		if !ok {
			return false, apiError{400, "InvalidParameterValue", fmt.Sprintf("The filter '%s' is invalid (ec2test does not implement it)", flt.name)}
		}
		if !flt.match(v) {
			return false, nil
		}
	}
	return true, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

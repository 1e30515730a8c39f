package lang

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// GroupProvider is a site file's top-level `hosts "GROUP" { provider = P }`
// block: the host group runs on provider P (a provider name, or NAME.ALIAS
// of a `provider "NAME" { alias = "ALIAS" }` block) instead of the
// workspace's provider. The group's settings stay in P's provider block
// (its `hosts "GROUP"` block for what differs per group), as a Terraform
// resource names its provider and the provider block holds the settings.
type GroupProvider struct {
	Group    string
	Provider string // "static", "aws.east"
	// DeclRange is the hosts block's header; ProviderRange the provider
	// attribute's value.
	DeclRange     hcl.Range
	ProviderRange hcl.Range
}

// ProviderBase is the provider name of a provider key: "aws" for
// "aws.east" and for "aws".
func ProviderBase(key string) string {
	name, _, _ := strings.Cut(key, ".")
	return name
}

var groupProviderSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "provider", Required: true}}}

func (s *Site) addGroup(blk *hcl.Block) hcl.Diagnostics {
	name := blk.Labels[0]
	if prev := s.Groups[name]; prev != nil {
		return hcl.Diagnostics{duplicate("hosts block", name, prev.DeclRange, blk.DefRange)}
	}
	content, diags := bodyContent(blk.Body, groupProviderSchema)
	if diags.HasErrors() {
		for _, d := range diags {
			if d.Summary == "Unsupported argument" {
				d.Detail = "A top-level hosts block only says which provider the group runs on (provider = static, or provider = aws.east). " +
					"Put the group's settings in that provider's block: provider \"NAME\" { hosts \"" + name + "\" { ... } }."
			}
		}
		return diags
	}
	a := content.Attributes["provider"]
	key, d := providerRef(a.Expr)
	if d != nil {
		return hcl.Diagnostics{d}
	}
	s.Groups[name] = &GroupProvider{Group: name, Provider: key, DeclRange: blk.DefRange, ProviderRange: a.Expr.Range()}
	return nil
}

// providerRef reads a provider reference: a bare name or NAME.ALIAS as
// Terraform writes it, or the same as a string.
func providerRef(expr hcl.Expression) (string, *hcl.Diagnostic) {
	bad := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid provider reference",
		Detail:  "Name a provider, as provider = static, or an aliased provider block, as provider = aws.east.",
		Subject: expr.Range().Ptr()}
	var parts []string
	if tr, d := hcl.AbsTraversalForExpr(expr); !d.HasErrors() {
		for _, step := range tr {
			switch t := step.(type) {
			case hcl.TraverseRoot:
				parts = append(parts, t.Name)
			case hcl.TraverseAttr:
				parts = append(parts, t.Name)
			default:
				return "", bad
			}
		}
	} else {
		var str string
		if d := constString(expr, &str); d.HasErrors() {
			return "", bad
		}
		parts = strings.Split(str, ".")
	}
	if len(parts) == 0 || len(parts) > 2 {
		return "", bad
	}
	for _, p := range parts {
		if !validIdent(p) {
			return "", bad
		}
	}
	return strings.Join(parts, "."), nil
}

// validIdent says whether s is a word providers and aliases may be
// named with: letters, digits, '_' and '-', starting with a letter.
func validIdent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// providerAlias reads a provider block's alias attribute ("" when absent).
func providerAlias(a *hcl.Attribute) (string, hcl.Diagnostics) {
	if a == nil {
		return "", nil
	}
	var alias string
	if d := constString(a.Expr, &alias); d.HasErrors() {
		return "", d
	}
	if !validIdent(alias) {
		return "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid provider alias",
			Detail:  fmt.Sprintf("The alias %q must start with a letter and hold only letters, digits, '_' and '-'.", alias),
			Subject: a.Expr.Range().Ptr()}}
	}
	return alias, nil
}

// checkGroups refuses a hosts block naming an alias no provider block
// declares (a bare provider name needs no block: its defaults apply).
func (s *Site) checkGroups() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, g := range s.Groups {
		if !strings.Contains(g.Provider, ".") || s.Providers[g.Provider] != nil {
			continue
		}
		var have []string
		for k := range s.Providers {
			if strings.Contains(k, ".") {
				have = append(have, k)
			}
		}
		detail := fmt.Sprintf("No provider %q block has alias %q. Declare it as provider %q { alias = %q ... }.",
			ProviderBase(g.Provider), strings.SplitN(g.Provider, ".", 2)[1], ProviderBase(g.Provider), strings.SplitN(g.Provider, ".", 2)[1])
		if len(have) > 0 {
			detail += " Aliased providers declared: " + strings.Join(sortedCopy(have), ", ") + "."
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown provider alias",
			Detail: detail, Subject: g.ProviderRange.Ptr()})
	}
	return diags
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

// ProviderKey is the provider a host group runs on: the site's hosts
// block for it, else def.
func (s *Site) ProviderKey(group, def string) string {
	if s != nil {
		if g := s.Groups[group]; g != nil {
			return g.Provider
		}
	}
	return def
}

// MaxTTL is the longest ttl accepted: a year.
const MaxTTL = 366 * 24 * time.Hour

// ParseTTL reads a time to live: a Go duration ("90m", "4h", "1h30m") or
// a number of days ("7d"), more than a minute and at most MaxTTL.
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		days, err = strconv.Atoi(n)
		if err == nil && (days < 1 || days > 366) {
			return 0, fmt.Errorf("invalid ttl %q: a ttl is at least 1m and at most 366d", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil {
		return 0, fmt.Errorf("invalid ttl %q: write a duration such as 90m, 4h or 7d", s)
	}
	if d < time.Minute || d > MaxTTL {
		return 0, fmt.Errorf("invalid ttl %q: a ttl is at least 1m and at most 366d", s)
	}
	return d, nil
}

func siteTTL(expr hcl.Expression) (time.Duration, hcl.Diagnostics) {
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return 0, diags
	}
	str, err := convert.Convert(v, cty.String)
	var d time.Duration
	if err == nil && !str.IsNull() && str.IsKnown() {
		d, err = ParseTTL(str.AsString())
	} else if err == nil {
		err = fmt.Errorf("ttl must be a string such as \"4h\"")
	}
	if err != nil {
		return 0, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid ttl",
			Detail:  err.Error() + ". ttl is how long each apply's cluster lives before diffuser destroy --expired sweeps it.",
			Subject: expr.Range().Ptr()}}
	}
	return d, nil
}

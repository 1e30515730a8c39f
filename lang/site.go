package lang

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// SiteFileName is the site file diffuser reads from the working
// directory when no -site is given. A recipe directory's file by that
// name is never part of the recipe (recipeFiles skips it): an operator
// who keeps the site file beside the recipe and runs `diffuser apply .`
// there has a site file and a recipe, as Terraform's terraform.tfvars
// sits beside the configuration.
const SiteFileName = "diffuser.hcl"

// Site is a workspace's site file: provider settings and variable values.
// Recipes stay provider-free; the site says where hosts come from.
type Site struct {
	Filename        string
	DefaultProvider string
	// DefaultProviderRange is where default_provider is written.
	DefaultProviderRange hcl.Range
	// KeepRuns is the site's keep_runs: how many runs each workspace keeps
	// (0 = all); nil when the site file does not say.
	KeepRuns *int
	// Limits are the site's max_connects, max_uploads and
	// max_sessions_per_host (0 = no limit); nil when not said.
	MaxConnects, MaxUploads, MaxSessionsPerHost *int
	// Providers are keyed by name, or by "NAME.ALIAS" for a block with
	// an alias ("aws.east").
	Providers map[string]*ProviderBlock
	// Groups are the top-level `hosts "GROUP" { provider = ... }` blocks:
	// which provider each named host group runs on (sitegroups.go).
	Groups map[string]*GroupProvider
	// TTL is the site's ttl (0 when unset): how long an apply's cluster
	// lives before it is due for destroy.
	TTL time.Duration
	// Backend is the site's backend block: where workspaces keep state;
	// nil: the local data directory.
	Backend *Backend
	Vars    hcl.Attributes
	Files   map[string]*hcl.File
	funcs   map[string]function.Function
}

// ProviderBlock is `provider "NAME" { ... hosts "GROUP" { ... } }`.
type ProviderBlock struct {
	Name string
	// Alias is the block's alias ("" for none); Key is how hosts blocks
	// name it: Name, or "Name.Alias".
	Alias  string
	Key    string
	Body   hcl.Body
	Groups map[string]hcl.Body
	// GroupRanges are the `hosts "GROUP"` blocks' header ranges.
	GroupRanges map[string]hcl.Range
	DeclRange   hcl.Range
	funcs       map[string]function.Function
}

var siteSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "default_provider"}, {Name: "keep_runs"}, {Name: "ttl"},
		{Name: "max_connects"}, {Name: "max_uploads"}, {Name: "max_sessions_per_host"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "provider", LabelNames: []string{"name"}},
		{Type: "hosts", LabelNames: []string{"group"}},
		{Type: "variables"},
		{Type: "backend", LabelNames: []string{"type"}},
	},
}

// LoadSite reads a site file. A missing file is an error: callers decide
// whether the file is optional.
func LoadSite(path string) (*Site, hcl.Diagnostics) {
	b, size, err := readOSText(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read site file",
			Detail: fmt.Sprintf("%v. Pass an existing file with -site, or remove the flag.", err)}}
	}
	if d := checkText(path, b, size); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	p := hclparse.NewParser()
	f, diags := p.ParseHCL(unixNewlines(b), path)
	s := &Site{Filename: path, Providers: map[string]*ProviderBlock{}, Groups: map[string]*GroupProvider{}, Files: p.Files()}
	if diags.HasErrors() {
		return s, diags
	}
	dir := filepath.Dir(path)
	s.funcs = functions(fileRoot{fsys: os.DirFS(dir), dir: "."})
	if body, ok := f.Body.(*hclsyntax.Body); ok {
		if d := capExprs(body); d.HasErrors() {
			return s, d
		}
	}
	if d := recipeAsSite(f.Body, path); d != nil {
		return s, hcl.Diagnostics{d} // not one "Unsupported block type" per block
	}
	content, d := bodyContent(f.Body, siteSchema)
	diags = append(diags, d...)
	if a := content.Attributes["default_provider"]; a != nil {
		diags = append(diags, constString(a.Expr, &s.DefaultProvider)...)
		s.DefaultProviderRange = a.Expr.Range()
	}
	if a := content.Attributes["keep_runs"]; a != nil {
		n, d := keepRuns(a.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			s.KeepRuns = &n
		}
	}
	for _, l := range []struct {
		name, what string
		dst        **int
	}{
		{"max_connects", "how many SSH connections apply and destroy make at once (key exchanges, and retries while hosts boot)", &s.MaxConnects},
		{"max_uploads", "how many file uploads run at once over all hosts", &s.MaxUploads},
		{"max_sessions_per_host", "how many commands and uploads run at once on one host (sshd's MaxSessions is 10 by default)", &s.MaxSessionsPerHost},
	} {
		if a := content.Attributes[l.name]; a != nil {
			n, d := siteCount(a.Expr, l.name, l.what+": a whole number, 0 for no limit.")
			diags = append(diags, d...)
			if !d.HasErrors() {
				*l.dst = &n
			}
		}
	}
	if a := content.Attributes["ttl"]; a != nil {
		d, ds := siteTTL(a.Expr)
		diags = append(diags, ds...)
		s.TTL = d
	}
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "hosts":
			diags = append(diags, s.addGroup(blk)...)
		case "variables":
			if s.Vars != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate variables block",
					Detail: "Put every variable value in one variables block.", Subject: blk.DefRange.Ptr()})
				continue
			}
			attrs, d := blk.Body.JustAttributes()
			diags = append(diags, d...)
			s.Vars = attrs
		case "provider":
			name := blk.Labels[0]
			pc, rest, d := blk.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "alias"}},
				Blocks: []hcl.BlockHeaderSchema{{Type: "hosts", LabelNames: []string{"group"}}}})
			diags = append(diags, d...)
			alias, d := providerAlias(pc.Attributes["alias"])
			diags = append(diags, d...)
			key := name
			if alias != "" {
				key = name + "." + alias
			}
			if prev := s.Providers[key]; prev != nil {
				diags = append(diags, duplicate("provider block", key, prev.DeclRange, blk.DefRange))
				continue
			}
			pb := &ProviderBlock{Name: name, Alias: alias, Key: key, Body: rest, Groups: map[string]hcl.Body{}, GroupRanges: map[string]hcl.Range{},
				DeclRange: blk.DefRange, funcs: s.funcs}
			seen := map[string]hcl.Range{}
			for _, g := range pc.Blocks {
				if prev, ok := seen[g.Labels[0]]; ok {
					diags = append(diags, duplicate("hosts block", g.Labels[0], prev, g.DefRange))
					continue
				}
				seen[g.Labels[0]] = g.DefRange
				pb.Groups[g.Labels[0]] = g.Body
				pb.GroupRanges[g.Labels[0]] = g.DefRange
			}
			s.Providers[key] = pb
		case "backend":
			diags = append(diags, s.decodeBackend(blk)...)
		}
	}
	diags = append(diags, s.checkGroups()...)
	return s, diags
}

// recipeAsSite is the error for a recipe given as the site file (-site
// main.hcl), nil for anything else.
func recipeAsSite(body hcl.Body, path string) *hcl.Diagnostic {
	c, _, _ := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "recipe", LabelNames: []string{"name"}}}})
	if c == nil || len(c.Blocks) == 0 {
		return nil
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Recipe given as the site file",
		Detail: fmt.Sprintf("%s is a recipe, not a site file: give it as the command's RECIPE argument; -site takes a file of provider blocks, "+
			"a variables { } block and settings such as default_provider (docs/providers).", path),
		Subject: c.Blocks[0].DefRange.Ptr()}
}

// Settings decodes the provider's settings with spec, with the overrides
// of a host group's `hosts "GROUP"` block (non-null attributes) merged in.
// group may be "" for the provider-wide settings. A nil ProviderBlock
// decodes as all defaults. With errors, the value still holds every
// setting that could be read, and an unknown value for each that could
// not (a value of the wrong type), so that a check of the rest can report
// their mistakes too.
func (p *ProviderBlock) Settings(spec hcldec.ObjectSpec, group string) (cty.Value, hcl.Diagnostics) {
	ctx := &hcl.EvalContext{}
	var body hcl.Body = hcl.EmptyBody()
	if p != nil {
		ctx.Functions = p.funcs
		body = p.Body
	}
	ctx = withForBudget(ctx)
	base, diags := hcldec.Decode(body, spec, ctx)
	diags = misspeltNotMissing(diags)
	if p == nil || group == "" || p.Groups[group] == nil || base.IsNull() || !base.Type().IsObjectType() {
		return base, diags
	}
	over, d := hcldec.Decode(p.Groups[group], overrideSpec(spec), ctx)
	diags = append(diags, d...)
	if over.IsNull() || !over.Type().IsObjectType() {
		return base, diags
	}
	merged := base.AsValueMap()
	for k, v := range over.AsValueMap() {
		if !v.IsNull() {
			merged[k] = v
		}
	}
	return cty.ObjectVal(merged), diags
}

// overrideSpec is spec with every attribute optional and without default,
// for a `hosts "GROUP"` block: it sets only what differs for the group, so
// an attribute it leaves out must decode as null (keep the provider-wide
// value), not as missing or as the spec's default.
func overrideSpec(spec hcldec.ObjectSpec) hcldec.ObjectSpec {
	out := make(hcldec.ObjectSpec, len(spec))
	for k, v := range spec {
		if d, ok := v.(*hcldec.DefaultSpec); ok {
			v = d.Primary
		}
		if a, ok := v.(*hcldec.AttrSpec); ok && a.Required {
			c := *a
			c.Required = false
			v = &c
		}
		out[k] = v
	}
	return out
}

// keepRuns reads keep_runs: a whole number, 0 or more.
func keepRuns(expr hcl.Expression) (int, hcl.Diagnostics) {
	return siteCount(expr, "keep_runs", "how many runs (apply or destroy, with their logs and timeline) each workspace keeps: a whole number, 0 to keep them all.")
}

// siteCount reads a site attribute that is a whole number from 0 to a
// million; what says what it is, for the error.
func siteCount(expr hcl.Expression, name, what string) (int, hcl.Diagnostics) {
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return 0, diags
	}
	bad := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid " + name,
		Detail:  name + " is " + what,
		Subject: expr.Range().Ptr()}}
	n, err := convert.Convert(v, cty.Number)
	if err != nil || n.IsNull() || !n.IsKnown() {
		return 0, bad
	}
	bf := n.AsBigFloat()
	i, acc := bf.Int64()
	if !bf.IsInt() || acc != big.Exact || i < 0 || i > 1_000_000 {
		return 0, bad
	}
	return int(i), nil
}

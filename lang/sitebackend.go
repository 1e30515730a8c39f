package lang

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
)

// Backend is a site file's `backend "TYPE" { ... }` block: where every
// workspace of the site keeps its state. Values are literal strings (as
// in Terraform, a backend is settled before anything is evaluated). lang
// checks the block's shape; the workspace layer checks the values
// (CheckBackend there) and reports at Ranges.
type Backend struct {
	Type      string // "s3"
	Bucket    string
	Key       string // prefix under which each workspace has its own
	Endpoint  string
	Region    string
	Profile   string
	PathStyle bool
	DeclRange hcl.Range
	// Ranges are the attributes' value ranges, by attribute name.
	Ranges map[string]hcl.Range
}

// BackendTypes are the backend types a site may name.
var BackendTypes = []string{"s3"}

var s3BackendSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "bucket", Required: true}, {Name: "key"}, {Name: "endpoint"}, {Name: "region"},
	{Name: "profile"}, {Name: "path_style"},
}}

// Range is where attribute name is set, else the block's header.
func (b *Backend) Range(name string) hcl.Range {
	if r, ok := b.Ranges[name]; ok {
		return r
	}
	return b.DeclRange
}

func (s *Site) decodeBackend(blk *hcl.Block) hcl.Diagnostics {
	if s.Backend != nil {
		return hcl.Diagnostics{duplicate("backend block", blk.Labels[0], s.Backend.DeclRange, blk.DefRange)}
	}
	typ := blk.Labels[0]
	if typ != "s3" {
		detail := fmt.Sprintf("Known backend types: %v. State stays in the local data directory without a backend block.", BackendTypes)
		if typ == "local" {
			detail = "The local data directory is the default: remove the backend block to keep state there."
		}
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: fmt.Sprintf("Unknown backend type %q", typ),
			Detail: detail, Subject: blk.LabelRanges[0].Ptr()}}
	}
	b := &Backend{Type: typ, DeclRange: blk.DefRange, Ranges: map[string]hcl.Range{}}
	content, diags := bodyContent(blk.Body, s3BackendSchema)
	names := make([]string, 0, len(content.Attributes))
	for n := range content.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := content.Attributes[n]
		b.Ranges[n] = a.Expr.Range()
		switch n {
		case "path_style":
			diags = append(diags, constBool(a.Expr, &b.PathStyle)...)
			continue
		}
		dst := map[string]*string{"bucket": &b.Bucket, "key": &b.Key, "endpoint": &b.Endpoint,
			"region": &b.Region, "profile": &b.Profile}[n]
		if len(a.Expr.Variables()) > 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Backend settings are literal",
				Detail:  "A backend is chosen before variables are read: write the value itself here (credentials come from the environment or the profile, never from this file).",
				Subject: a.Expr.Range().Ptr()})
			continue
		}
		diags = append(diags, constString(a.Expr, dst)...)
	}
	s.Backend = b
	return diags
}

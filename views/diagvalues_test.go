package views

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// TestClipWithLines: a diagnostic whose with lines would quote a long
// string prints, through HCL's text writer, exactly what the writer
// printed before but for that string, cut; others are left as they are.
func TestClipWithLines(t *testing.T) {
	src := []byte("x = length(var.long) + var.n + length(var.list) + length(var.short) + var.obj.a + var.none[\"k\"] + var.nothing\n")
	f, d := hclsyntax.ParseConfig(src, "m.hcl", hcl.InitialPos)
	if d.HasErrors() {
		t.Fatal(d)
	}
	attrs, _ := f.Body.JustAttributes()
	expr := attrs["x"].Expr
	write := func(diags hcl.Diagnostics) string {
		var b bytes.Buffer
		w := hcl.NewDiagnosticTextWriter(&b, map[string]*hcl.File{"m.hcl": f}, 0, false)
		if err := w.WriteDiagnostics(diags); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	diag := func(long string, detail string) *hcl.Diagnostic {
		ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{
			"long":    cty.StringVal(long),
			"n":       cty.NumberIntVal(3),
			"list":    cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
			"short":   cty.StringVal("tab\there"),
			"obj":     cty.ObjectVal(map[string]cty.Value{"a": cty.NumberIntVal(1)}),
			"none":    cty.NullVal(cty.Map(cty.String)),
			"nothing": cty.NullVal(cty.String),
		})}}
		rng := expr.Range()
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Broken", Detail: detail, Subject: &rng, Expression: expr, EvalContext: ctx}
	}
	for _, detail := range []string{"It is broken.", ""} {
		short := hcl.Diagnostics{diag(strings.Repeat("a", 100), detail)}
		if got := ClipWithLines(short); got[0] != short[0] {
			t.Errorf("a diagnostic without long values was copied")
		}
		long := strings.Repeat("é", 500) // 1000 bytes: cut on a character boundary
		orig := hcl.Diagnostics{diag(long, detail)}
		want := strings.Replace(write(orig), fmt.Sprintf("%q", long), `"`+strings.Repeat("é", 50)+`"… (1000 bytes in all)`, 1)
		if got := write(ClipWithLines(orig)); got != want {
			t.Errorf("detail %q: got\n%s\nwant\n%s", detail, got, want)
		}
		if orig[0].EvalContext == nil {
			t.Error("ClipWithLines changed the diagnostic it was given")
		}
	}
}

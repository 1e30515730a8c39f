package recipes

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// commandAttrs are the step attributes that a shell runs. (creates is
// not one: the run kind quotes it itself, test -e PATH, so a shellquote
// there would put quotes into the path.)
var commandAttrs = map[string]bool{"run": true, "unless": true, "destroy": true, "drain": true}

// TestCapturesQuotedInCommands: a capture (step.X.outputs.Y, or through
// hosts["H"]) is output of a command on a host, so untrusted: every one a
// built-in recipe pastes into a command is inside shellquote(...).
// (Captures pasted into a file's content are data, not commands; the
// recipe checks their shape in the capture itself, see ceph's fsid.)
func TestCapturesQuotedInCommands(t *testing.T) {
	var checked int
	eachStep(t, func(name string, _ []byte, b *hclsyntax.Block) {
		var exprs []hclsyntax.Expression
		for n, a := range b.Body.Attributes {
			if commandAttrs[n] {
				exprs = append(exprs, a.Expr)
			}
		}
		for _, nb := range b.Body.Blocks {
			if nb.Type == "capture" {
				for _, a := range nb.Body.Attributes {
					exprs = append(exprs, a.Expr)
				}
			}
		}
		for _, e := range exprs {
			for _, bad := range unquotedCaptures(e) {
				t.Errorf("%s:%d: %s is pasted into a command without shellquote(...)", name, bad.Start.Line, bad)
			}
			checked++
		}
	})
	if checked < 50 {
		t.Fatalf("only %d command expressions found: the walk is broken", checked)
	}
}

// eachStep calls f with every step block of every built-in recipe and
// module file (the standard library's too, modules/NAME), its name and
// source.
func eachStep(t *testing.T, f func(name string, src []byte, b *hclsyntax.Block)) {
	t.Helper()
	all := allHCL(t)
	err := fs.WalkDir(all, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".hcl") {
			return err
		}
		src, err := fs.ReadFile(all, name)
		if err != nil {
			return err
		}
		file, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			return diags
		}
		for _, b := range file.Body.(*hclsyntax.Body).Blocks {
			if b.Type == "step" {
				f(name, src, b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// unquotedCaptures finds step.*.outputs references in e that are not
// inside a shellquote call.
func unquotedCaptures(e hclsyntax.Expression) []hcl.Range {
	w := &captureWalker{}
	_ = hclsyntax.Walk(e, w)
	return w.bad
}

type captureWalker struct {
	quoted int
	bad    []hcl.Range
}

func (w *captureWalker) Enter(n hclsyntax.Node) hcl.Diagnostics {
	switch n := n.(type) {
	case *hclsyntax.FunctionCallExpr:
		if n.Name == "shellquote" {
			w.quoted++
		}
	case *hclsyntax.ScopeTraversalExpr:
		if w.quoted == 0 && n.Traversal.RootName() == "step" && strings.Contains(fmt.Sprint(traversalNames(n.Traversal)), "outputs") {
			w.bad = append(w.bad, n.SrcRange)
		}
	}
	return nil
}

func (w *captureWalker) Exit(n hclsyntax.Node) hcl.Diagnostics {
	if f, ok := n.(*hclsyntax.FunctionCallExpr); ok && f.Name == "shellquote" {
		w.quoted--
	}
	return nil
}

func traversalNames(tr hcl.Traversal) []string {
	var out []string
	for _, s := range tr {
		switch s := s.(type) {
		case hcl.TraverseRoot:
			out = append(out, s.Name)
		case hcl.TraverseAttr:
			out = append(out, s.Name)
		}
	}
	return out
}

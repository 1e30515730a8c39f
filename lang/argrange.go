package lang

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// ArgRange is where a step writes its kind's argument name, for a
// diagnostic about its value: the attribute's expression in the kind block
// or, for the shorthands, the command and guards of `run = "..."` and the
// list of `package = [...]`. It is the kind block (or the shorthand) when
// the argument is not written, or name is "" (a problem of the whole block).
func (st *Step) ArgRange(name string) hcl.Range {
	if e := st.argExpr(name); e != nil {
		return e.Range()
	}
	return st.KindRange
}

// argExpr is the expression ArgRange points at, nil for the kind block.
func (st *Step) argExpr(name string) hcl.Expression {
	if name != "" && st.KindBody != nil {
		content, _, _ := st.KindBody.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: name}}})
		if a := content.Attributes[name]; a != nil {
			return a.Expr
		}
	}
	if st.Shorthand != nil {
		e := st.Shorthand
		switch name {
		case "creates":
			e = orExpr(st.Creates, e)
		case "unless":
			e = orExpr(st.Unless, e)
		case "env":
			e = orExpr(st.Env, e)
		}
		return e
	}
	return nil
}

// UserArgRange is ArgRange where the user can change the value: for a step
// of a built-in module (whose files are not the user's to edit), the
// call's input the argument is (`target = var.target`: the call's
// `target = ...`), followed out through built-in modules calling each
// other, else the call that brought the module in.
func (st *Step) UserArgRange(name string) hcl.Range {
	e, rng := st.argExpr(name), st.ArgRange(name)
	for m := st.Module; m != nil && BuiltinFile(rng.Filename); m = m.Parent {
		if in := m.Inputs[bareVar(e)]; in != nil {
			e, rng = in.Expr, in.Expr.Range()
			continue
		}
		e, rng = nil, m.CallRange
	}
	return rng
}

// BuiltinFile says whether a file is of a module built into the binary,
// not the user's to edit.
func BuiltinFile(name string) bool { return strings.HasPrefix(name, "builtin/") }

// bareVar is NAME when e is just `var.NAME`, else "".
func bareVar(e hcl.Expression) string {
	if e == nil {
		return ""
	}
	tr, d := hcl.AbsTraversalForExpr(e)
	if d.HasErrors() || len(tr) != 2 || tr.RootName() != "var" {
		return ""
	}
	if a, ok := tr[1].(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

func orExpr(e, or hcl.Expression) hcl.Expression {
	if e != nil {
		return e
	}
	return or
}

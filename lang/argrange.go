package lang

import "github.com/hashicorp/hcl/v2"

// ArgRange is where a step writes its kind's argument name, for a
// diagnostic about its value: the attribute's expression in the kind block
// or, for the shorthands, the command and guards of `run = "..."` and the
// list of `package = [...]`. It is the kind block (or the shorthand) when
// the argument is not written, or name is "" (a problem of the whole block).
func (st *Step) ArgRange(name string) hcl.Range {
	if name != "" && st.KindBody != nil {
		content, _, _ := st.KindBody.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: name}}})
		if a := content.Attributes[name]; a != nil {
			return a.Expr.Range()
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
		return e.Range()
	}
	return st.KindRange
}

func orExpr(e, or hcl.Expression) hcl.Expression {
	if e != nil {
		return e
	}
	return or
}

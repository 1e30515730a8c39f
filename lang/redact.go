package lang

import (
	"errors"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// hideSensitiveErrors wraps every function of the table but try and can
// (which take expressions, not values) so that an error raised on a
// sensitive argument does not quote it: stdlib's errors say what they were
// given ("cannot convert \"hunter2\" to number"), and HCL copies them into
// the diagnostic's detail. The error keeps its argument index, so the
// diagnostic still points at the argument.
func hideSensitiveErrors(funcs map[string]function.Function) {
	for name, f := range funcs {
		if name == "try" || name == "can" {
			continue
		}
		funcs[name] = hidingErrors(f)
	}
}

func hidingErrors(f function.Function) function.Function {
	params := f.Params()
	wrapped := make([]function.Parameter, len(params))
	for i, p := range params {
		p.AllowMarked = true
		wrapped[i] = p
	}
	var vp *function.Parameter
	if v := f.VarParam(); v != nil {
		c := *v
		c.AllowMarked = true
		vp = &c
	}
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      wrapped,
		VarParam:    vp,
		Type: func(args []cty.Value) (cty.Type, error) {
			plain, _, sensitive := unmarkArgs(args)
			t, err := f.ReturnTypeForValues(plain)
			return t, hideError(err, sensitive)
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			plain, marks, sensitive := unmarkArgs(args)
			v, err := f.Call(plain)
			if err != nil {
				return cty.NilVal, hideError(err, sensitive)
			}
			return v.WithMarks(marks), nil
		},
	})
}

// unmarkArgs removes the top-level marks of args, as cty does for a
// parameter that does not allow marks (nested marks stay and are the
// function's to carry), and reports whether any argument holds a
// sensitive value at any depth.
func unmarkArgs(args []cty.Value) ([]cty.Value, cty.ValueMarks, bool) {
	plain := make([]cty.Value, len(args))
	marks := make(cty.ValueMarks)
	sensitive := false
	for i, a := range args {
		if !sensitive && a.ContainsMarked() {
			_, pvm := a.UnmarkDeepWithPaths()
			for _, pm := range pvm {
				if _, ok := pm.Marks[Sensitive]; ok {
					sensitive = true
				}
			}
		}
		v, m := a.Unmark()
		for k := range m {
			marks[k] = struct{}{}
		}
		plain[i] = v
	}
	return plain, marks, sensitive
}

// errSensitiveCall is what a failed call on a sensitive value says.
var errSensitiveCall = errors.New("the call failed on a sensitive value, which is not shown")

func hideError(err error, sensitive bool) error {
	if err == nil || !sensitive {
		return err
	}
	var ae function.ArgError
	if errors.As(err, &ae) {
		return function.NewArgErrorf(ae.Index, "this sensitive value is not valid here (the value is not shown)")
	}
	return errSensitiveCall
}

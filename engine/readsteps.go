package engine

import (
	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
)

// readSteps says, per step index, whether any expression reads `step.<name>`
// (steps, locals, outputs, verify blocks). Only those steps need a value in
// evaluation scopes; building `step.x` for a 10,000-instance step is not free.
func readSteps(r *lang.Recipe, steps []*lang.Step) []bool {
	names := map[string]bool{}
	for _, s := range steps {
		for _, ref := range s.RefSteps {
			names[ref.Name] = true
		}
	}
	scan := func(e hcl.Expression) {
		if e == nil {
			return
		}
		for _, tr := range e.Variables() {
			if tr.RootName() == "step" && len(tr) >= 2 {
				if a, ok := tr[1].(hcl.TraverseAttr); ok {
					names[a.Name] = true
				}
			}
		}
	}
	for _, l := range r.Locals {
		scan(l.Expr)
	}
	for _, o := range r.Outputs {
		scan(o.Value)
	}
	for _, v := range r.Verifies {
		if v.S3 != nil {
			for _, e := range v.S3.Exprs() {
				scan(e)
			}
			continue
		}
		scan(v.On)
		scan(v.Path)
		if v.Enabled != nil {
			scan(v.Enabled)
		}
	}
	out := make([]bool, len(steps))
	for i, s := range steps {
		out[i] = names[s.Name] || r.ReadsStep(s.Name)
	}
	return out
}

package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// decodeRestart reads `restart_on = [step.conf]` and `reload_on = [...]`:
// the steps whose change in an apply restarts (reloads) this service step.
// Each named step is also added to After (waiting for it is implied), so
// the graph needs nothing else; the engine checks that the step is a
// service step and plans the restarts.
func (s *Step) decodeRestart(n *namespace, at hcl.Attributes) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var d hcl.Diagnostics
	s.RestartOn, d = n.stepRefs(at["restart_on"], false)
	diags = append(diags, d...)
	s.ReloadOn, d = n.stepRefs(at["reload_on"], false)
	diags = append(diags, d...)
	// A step and a module call may have the same name: step.a and
	// module.a are two references.
	seen := map[string]bool{}
	for _, ref := range s.After {
		seen[ref.written()] = true
	}
	restart := map[string]bool{}
	for _, ref := range s.RestartOn {
		restart[ref.written()] = true
	}
	for _, ref := range append(append([]Ref{}, s.RestartOn...), s.ReloadOn...) {
		if seen[ref.written()] {
			continue
		}
		seen[ref.written()] = true
		s.After = append(s.After, ref)
	}
	for _, ref := range s.ReloadOn {
		if restart[ref.written()] {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step both restarts and reloads",
				Detail:  fmt.Sprintf("Step %q lists %s in restart_on and in reload_on; a restart includes a reload, keep it in one.", s.Name, ref.written()),
				Subject: ref.Range.Ptr()})
		}
	}
	return diags
}

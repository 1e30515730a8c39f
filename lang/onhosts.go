package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// onNoHosts reports a step whose on (in namespace n) names no hosts. In a
// module, on usually reads an input (on = var.clients): the mistake is then
// the value at the call, so it is reported there, once per input however
// many of the module's steps run on it, and the advice is for the caller.
func (r *Recipe) onNoHosts(s *Step, n *namespace, call *Module) hcl.Diagnostics {
	// The on of a call, inherited by each of its steps that sets none:
	// one mistake, reported for the first of them.
	if call != nil && !r.an.firstReport("on names no hosts@"+call.Addr) {
		return nil
	}
	if n.mod == nil {
		if call != nil {
			return hcl.Diagnostics{callOnNoHosts(s, call, "write `on = hosts.<group>`, a single host `hosts.<group>[0]`, or a list of them")}
		}
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "on names no hosts",
			Detail:  fmt.Sprintf("Step %q must run on hosts: write `on = hosts.<group>`, a single host `hosts.<group>[0]`, or a list of them.", s.Name),
			Subject: s.On.Range().Ptr()}}
	}
	diags, fromInput, missing := r.inputsWithoutHosts(n, s.On, "the module's steps run on it ("+s.Name)
	if !fromInput && missing {
		return nil
	}
	if !fromInput && call != nil {
		return hcl.Diagnostics{callOnNoHosts(s, call, "write `on = var.<input>` and pass hosts.<group> (or a list of hosts) as that input where the module around it is called")}
	}
	if !fromInput {
		// on reads no input (a literal, a local): the mistake is in the
		// module's file.
		diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "on names no hosts",
			Detail:  fmt.Sprintf("Step %q must run on hosts: write `on = var.<input>` and pass hosts.<group> (or a list of hosts) as that input at the module call.", s.Name),
			Subject: s.On.Range().Ptr()}}
	}
	return diags
}

// inputsWithoutHosts reports the inputs of the call of module namespace n
// that on (an expression of the module, naming no hosts) reads, as holding
// no hosts: the mistake is the value at the call, reported there once per
// input however many of the module's steps and verify blocks run on it.
// user says what runs on it ("the module's steps run on it (STEP"). fromInput:
// on reads an input the call gives, or one it leaves at a default of [];
// missing: one it does not give (and must: reported at the call as missing).
func (r *Recipe) inputsWithoutHosts(n *namespace, on hcl.Expression, user string) (diags hcl.Diagnostics, fromInput, missing bool) {
	m := n.mod
	for _, tr := range on.Variables() {
		if tr.RootName() != "var" || len(tr) < 2 {
			continue
		}
		name := attrName(tr[1])
		in := m.Inputs[name]
		if in == nil {
			// A required input not given is reported at the call
			// (Missing module input), once for every step on it. One
			// whose default is [] is an optional part of the module
			// that the call leaves out, as if it wrote the input as [].
			if v := n.vars[name]; v != nil && v.Default == cty.NilVal {
				missing = true
			} else if v != nil && emptyListValue(v.Default) {
				fromInput = true
			}
			continue
		}
		fromInput = true
		if emptyList(in.Expr) {
			continue // hosts = [] at the call: the module deploys nothing
		}
		if r.an != nil {
			if r.an.onReported == nil {
				r.an.onReported = map[*hcl.Attribute]bool{}
			}
			if r.an.onReported[in] {
				continue
			}
			r.an.onReported[in] = true
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Module input holds no hosts",
			Detail: fmt.Sprintf("Input %s of %s (%s) holds no hosts, and %s, at %s). Pass hosts: %s = hosts.<group>, a single host hosts.<group>[0], or a list of them.",
				name, m.Addr, m.Source, user, rangeString(on.Range()), name),
			Subject: in.Expr.Range().Ptr()})
	}
	return diags, fromInput, missing
}

// callOnNoHosts is the error for the on of call, which names no hosts,
// inherited by step s (the first of the call's steps that set no on).
func callOnNoHosts(s *Step, call *Module, how string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "on names no hosts",
		Detail: fmt.Sprintf("The on of %s names no hosts, and its steps that set no on of their own (%s among them) run on it: %s.",
			call.Addr, s.Name, how),
		Subject: call.On.Range().Ptr()}
}

// emptyList says whether e is a literal empty list (`[]`): a caller's way
// to say "on no hosts" to a module whose steps run on that input.
func emptyList(e hcl.Expression) bool {
	if len(e.Variables()) > 0 {
		return false
	}
	v, diags := e.Value(nil)
	return !diags.HasErrors() && emptyListValue(v)
}

// emptyListValue says whether v is a known, empty list, tuple or set.
func emptyListValue(v cty.Value) bool {
	if v == cty.NilVal || !v.IsKnown() || v.IsNull() {
		return false
	}
	t := v.Type()
	return (t.IsTupleType() || t.IsListType() || t.IsSetType()) && v.LengthInt() == 0
}

// missingOn reports a module step with no `on` under calls that have none
// either. That is one mistake however many such steps the module and the
// modules it calls have, so it is reported once per outermost call: at
// the first such step, or at the call when that step is in a built-in
// module (a file the user cannot change), naming the call that fixes all.
func (r *Recipe) missingOn(s *Step) hcl.Diagnostics {
	top := s.Module
	for top.Parent != nil {
		top = top.Parent
	}
	if !r.an.firstReport("missing on@" + top.Addr) {
		return nil
	}
	subject := s.DeclRange
	if s.Module.ns != nil && s.Module.ns.builtin {
		subject = top.CallRange
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Missing on",
		Detail: fmt.Sprintf("Step %q must say where it runs, and %s, called at %s, has no `on` either: add `on = hosts.<group>` to that call "+
			"(it is then the `on` of every step of the module, and of the modules it calls, that sets none), or set `on` in the step (e.g. on = var.servers).",
			s.Name, top.Addr, rangeString(top.CallRange)),
		Subject: subject.Ptr()}}
}

// runsOnInput says whether a step of module m (not of modules it calls)
// runs on its input name by its own on (on = var.NAME): a caller that
// gives on but not that input has put its hosts in the wrong place.
func (r *Recipe) runsOnInput(m *Module, name string) bool {
	for _, s := range r.Steps {
		if s.Module != m || s.On == nil || s.onNS != nil {
			continue
		}
		for _, tr := range s.On.Variables() {
			if tr.RootName() == "var" && len(tr) >= 2 && attrName(tr[1]) == name {
				return true
			}
		}
	}
	return false
}

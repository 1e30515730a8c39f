package lang

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// refSet is what an expression (or a local, transitively) reads.
type refSet struct {
	groups map[string]hcl.Range
	steps  map[string]hcl.Range
	host   bool
}

func newRefSet() *refSet {
	return &refSet{groups: map[string]hcl.Range{}, steps: map[string]hcl.Range{}}
}

func (s *refSet) merge(o *refSet) {
	for k, v := range o.groups {
		if _, ok := s.groups[k]; !ok {
			s.groups[k] = v
		}
	}
	for k, v := range o.steps {
		if _, ok := s.steps[k]; !ok {
			s.steps[k] = v
		}
	}
	s.host = s.host || o.host
}

func sortedRefs(m map[string]hcl.Range) []Ref {
	out := make([]Ref, 0, len(m))
	for k, v := range m {
		out = append(out, Ref{Name: k, Range: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// where says which roots an expression may use.
type where struct {
	what  string // for messages: "a step", "a host count"
	host  bool   // `host` is in scope
	hosts bool   // `hosts` is in scope
	steps bool   // `step` is in scope
}

// analyze checks every reference and records each step's implicit dependencies.
func (r *Recipe) analyze() hcl.Diagnostics {
	var diags hcl.Diagnostics
	localRefs, d := r.analyzeLocals()
	diags = append(diags, d...)

	for _, g := range r.Groups {
		if g.Count == nil {
			continue
		}
		set, d := r.check(g.Count.Variables(), where{what: "a host count"}, localRefs)
		diags = append(diags, d...)
		// check already refuses hosts and steps here, and says so for locals
		// that read them; this catches anything it lets through.
		if !d.HasErrors() && (len(set.groups) > 0 || len(set.steps) > 0) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Host count depends on apply",
				Detail:  fmt.Sprintf("The count of hosts %q must be known before anything runs: use variables and locals, not hosts or step outputs.", g.Name),
				Subject: g.Count.Range().Ptr()})
		}
		for _, v := range g.Volumes {
			_, d := r.check(v.SizeGB.Variables(), where{what: "a volume size"}, localRefs)
			diags = append(diags, d...)
		}
	}
	stepScope := where{what: "a step", host: true, hosts: true, steps: true}
	for _, s := range r.Steps {
		var onGroups []string
		if s.On != nil {
			set, d := r.check(s.On.Variables(), where{what: "on", hosts: true}, localRefs)
			diags = append(diags, d...)
			onGroups = keys(set.groups)
			if len(set.groups) == 0 && !d.HasErrors() {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "on names no hosts",
					Detail:  fmt.Sprintf("Step %q must run on hosts: write `on = hosts.<group>`, a single host `hosts.<group>[0]`, or a list of them.", s.Name),
					Subject: s.On.Range().Ptr()})
			}
		}
		var trs []hcl.Traversal
		for _, e := range []hcl.Expression{s.Shorthand, s.Creates, s.Unless, s.Env, s.Timeout, s.Retries, s.Sensitive, s.Destroy} {
			if e != nil {
				trs = append(trs, e.Variables()...)
			}
		}
		for _, a := range s.Capture {
			trs = append(trs, a.Expr.Variables()...)
		}
		if s.KindBody != nil {
			spec := r.kinds[s.Kind]
			trs = append(trs, kindSpecVariables(s.KindBody, spec)...)
			if spec != nil {
				// Decoding once with no context surfaces unknown or missing
				// attributes now, before anything runs.
				_, d := r.decodeSchemaOnly(s.KindBody, spec)
				diags = append(diags, d...)
			}
		}
		set, d := r.check(trs, stepScope, localRefs)
		diags = append(diags, d...)
		if !d.HasErrors() {
			diags = append(diags, r.checkRefs(trs, onGroups)...)
			diags = append(diags, r.checkStepValues(s)...)
		}
		if rng, ok := set.steps[s.Name]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step refers to itself",
				Detail: fmt.Sprintf("Step %q reads its own outputs; a step cannot depend on itself.", s.Name), Subject: rng.Ptr()})
			delete(set.steps, s.Name)
		}
		s.RefSteps, s.RefGroups, s.UsesHost = sortedRefs(set.steps), sortedRefs(set.groups), set.host
		s.UsesHostName = readsHostName(trs)
		s.ReadsFacts = readsFacts(trs)
		for _, ref := range append(append([]Ref{}, s.After...), s.AfterAll...) {
			switch {
			case ref.Name == s.Name:
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step waits for itself",
					Detail: fmt.Sprintf("Step %q lists itself in after; remove it.", s.Name), Subject: ref.Range.Ptr()})
			case r.stepIdx[ref.Name] == nil:
				diags = append(diags, unknownRef("step", ref.Name, ref.Range, r.stepNames()))
			}
		}
	}
	for _, v := range r.Verifies {
		exprs := []hcl.Expression{v.Path}
		ons := []hcl.Expression{v.On}
		if f := v.Failover; f != nil {
			exprs = append(exprs, f.Stop, f.Start)
			ons = append(ons, f.On)
		}
		for _, e := range exprs {
			_, d := r.check(e.Variables(), where{what: "verify", hosts: true, steps: true}, localRefs)
			diags = append(diags, d...)
			if !d.HasErrors() {
				diags = append(diags, r.checkRefs(e.Variables(), nil)...)
			}
		}
		for _, e := range ons {
			set, d := r.check(e.Variables(), where{what: "on", hosts: true}, localRefs)
			diags = append(diags, d...)
			if len(set.groups) == 0 && !d.HasErrors() {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "on names no hosts",
					Detail:  fmt.Sprintf("Verify %q must run on hosts: write `on = hosts.<group>`, a single host `hosts.<group>[0]`, or a list of them.", v.Name),
					Subject: e.Range().Ptr()})
			}
		}
	}
	for _, o := range r.Outputs {
		_, d := r.check(o.Value.Variables(), where{what: "an output", hosts: true, steps: true}, localRefs)
		diags = append(diags, d...)
		if !d.HasErrors() {
			diags = append(diags, r.checkRefs(o.Value.Variables(), nil)...)
		}
	}
	diags = append(diags, r.analyzePreconditions(localRefs)...)
	return diags
}

// analyzeLocals returns, per local, everything it reads transitively, and
// reports cycles among locals.
func (r *Recipe) analyzeLocals() (map[string]*refSet, hcl.Diagnostics) {
	out := map[string]*refSet{}
	var diags hcl.Diagnostics
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var visit func(l *Local, stack []string)
	visit = func(l *Local, stack []string) {
		switch state[l.Name] {
		case 2:
			return
		case 1:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle in locals",
				Detail:  fmt.Sprintf("These locals refer to each other: %s -> %s. Break the cycle.", strings.Join(stack, " -> "), l.Name),
				Subject: l.DeclRange.Ptr()})
			out[l.Name] = newRefSet()
			return
		}
		state[l.Name] = 1
		set := newRefSet()
		for _, tr := range l.Expr.Variables() {
			if tr.RootName() == "local" && len(tr) >= 2 {
				if dep := r.localIdx[attrName(tr[1])]; dep != nil {
					visit(dep, append(stack, l.Name))
					if o := out[dep.Name]; o != nil {
						set.merge(o)
					}
				}
				continue
			}
			r.direct(tr, set)
		}
		state[l.Name] = 2
		out[l.Name] = set
	}
	for _, l := range r.Locals {
		visit(l, nil)
		_, d := r.check(l.Expr.Variables(), where{what: "a local", hosts: true, steps: true}, nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			diags = append(diags, r.checkRefs(l.Expr.Variables(), nil)...)
		}
	}
	return out, diags
}

// direct records what one traversal reads, without following locals.
func (r *Recipe) direct(tr hcl.Traversal, set *refSet) {
	switch tr.RootName() {
	case "hosts":
		if len(tr) >= 2 {
			set.groups[attrName(tr[1])] = tr.SourceRange()
		}
	case "step":
		if len(tr) >= 2 {
			set.steps[attrName(tr[1])] = tr.SourceRange()
		}
	case "host":
		set.host = true
	}
}

// check validates traversals for a scope and returns what they read,
// following locals when localRefs is given.
func (r *Recipe) check(trs []hcl.Traversal, w where, localRefs map[string]*refSet) (*refSet, hcl.Diagnostics) {
	set := newRefSet()
	var diags hcl.Diagnostics
	for _, tr := range trs {
		root := tr.RootName()
		rng := tr.SourceRange()
		second := ""
		if len(tr) >= 2 {
			second = attrName(tr[1])
		}
		needName := func(kind string) bool {
			if second == "" {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Incomplete reference",
					Detail: fmt.Sprintf("Write %s.<name>.", kind), Subject: rng.Ptr()})
				return false
			}
			return true
		}
		switch root {
		case "var":
			if needName("var") && r.varIdx[second] == nil {
				diags = append(diags, unknownRef("variable", second, rng, r.varNames()))
			}
		case "local":
			if needName("local") {
				if r.localIdx[second] == nil {
					diags = append(diags, unknownRef("local value", second, rng, r.localNames()))
				} else if localRefs != nil && localRefs[second] != nil {
					lr := localRefs[second]
					if (len(lr.groups) > 0 && !w.hosts) || (len(lr.steps) > 0 && !w.steps) {
						diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value not known yet",
							Detail:  fmt.Sprintf("local.%s reads hosts or step outputs, which %s cannot use.", second, w.what),
							Subject: rng.Ptr()})
					}
					set.merge(lr)
				}
			}
		case "hosts":
			if !w.hosts {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "hosts not available here",
					Detail: fmt.Sprintf("%s must be known before hosts exist; use variables.", w.what), Subject: rng.Ptr()})
			} else if needName("hosts") {
				if r.groupIdx[second] == nil {
					diags = append(diags, unknownRef("host group", second, rng, r.groupNames()))
				} else {
					set.groups[second] = rng
				}
			}
		case "host":
			if !w.host {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "host not available here",
					Detail: fmt.Sprintf("`host` is the host a step instance runs on; %s has none. Use hosts.<group>[i].", w.what), Subject: rng.Ptr()})
			}
			set.host = true
		case "step":
			if !w.steps {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "step outputs not available here",
					Detail: fmt.Sprintf("%s must be known before any step runs.", w.what), Subject: rng.Ptr()})
			} else if needName("step") {
				if r.stepIdx[second] == nil {
					diags = append(diags, unknownRef("step", second, rng, r.stepNames()))
				} else {
					set.steps[second] = rng
				}
			}
		default:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown reference",
				Detail:  fmt.Sprintf("%q is not something a recipe can refer to. Valid roots: var, local, hosts, host, step.", root),
				Subject: rng.Ptr()})
		}
	}
	return set, diags
}

func unknownRef(kind, name string, rng hcl.Range, known []string) *hcl.Diagnostic {
	detail := fmt.Sprintf("There is no %s named %q.", kind, name)
	if s := suggest(name, known); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
	} else if len(known) > 0 {
		detail += fmt.Sprintf(" Known: %s.", strings.Join(known, ", "))
	} else {
		detail += " Declare it first."
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown " + kind, Detail: detail, Subject: rng.Ptr()}
}

func suggest(name string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := levenshtein(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func (r *Recipe) varNames() []string   { return keys(r.varIdx) }
func (r *Recipe) localNames() []string { return keys(r.localIdx) }
func (r *Recipe) groupNames() []string { return keys(r.groupIdx) }
func (r *Recipe) stepNames() []string  { return keys(r.stepIdx) }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// unknownCtx is an evaluation context where every root is unknown: what
// evaluates to an error in it is wrong whatever the values turn out to be.
func (r *Recipe) unknownCtx() *hcl.EvalContext {
	return withForBudget(&hcl.EvalContext{Functions: r.funcs, Variables: map[string]cty.Value{
		"var": cty.DynamicVal, "local": cty.DynamicVal, "hosts": cty.DynamicVal,
		"host": cty.DynamicVal, "step": cty.DynamicVal,
	}})
}

// decodeSchemaOnly decodes a kind body with every variable unknown, so that
// unknown attributes, missing required ones and wrong literal types are
// reported at load time.
func (r *Recipe) decodeSchemaOnly(body hcl.Body, spec hcldec.Spec) (cty.Value, hcl.Diagnostics) {
	return hcldec.Decode(body, spec, r.unknownCtx())
}

// checkStepValues does for a step's shorthand (run = "...", package = [...])
// and generic attributes what decodeSchemaOnly does for kind blocks: values
// of the wrong type, unknown functions and bad literals (timeout = "soon")
// are reported at load time rather than at plan or apply.
func (r *Recipe) checkStepValues(s *Step) hcl.Diagnostics {
	ctx := r.unknownCtx()
	var diags hcl.Diagnostics
	if s.Shorthand != nil {
		if spec := r.kinds[s.Kind]; spec != nil {
			_, d := shorthandArgs(s, spec, ctx)
			diags = append(diags, d...)
		}
	}
	if s.Timeout != nil {
		v, d := s.Timeout.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() && v.IsWhollyKnown() {
			if _, err := duration(v); err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid timeout",
					Detail: err.Error() + ".", Subject: s.Timeout.Range().Ptr()})
			}
		}
	}
	if s.Retries != nil {
		v, d := s.Retries.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() && v.IsWhollyKnown() {
			_, d := (&Scope{Recipe: r}).intValue(hcl.StaticExpr(v, s.Retries.Range()), "retries", 0, 100)
			diags = append(diags, d...)
		}
	}
	if s.Sensitive != nil {
		var b bool
		diags = append(diags, constBool(s.Sensitive, &b)...)
	}
	if s.Destroy != nil {
		v, d := s.Destroy.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if _, err := convert.Convert(v, cty.String); err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid destroy",
					Detail: fmt.Sprintf("destroy is a shell command run when the step leaves the recipe: %s.", err), Subject: s.Destroy.Range().Ptr()})
			}
		}
	}
	return diags
}

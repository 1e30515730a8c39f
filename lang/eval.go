package lang

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

type mark string

// Sensitive marks values that must never be printed: sensitive variables,
// outputs of sensitive steps and everything computed from them.
const Sensitive = mark("sensitive")

// MaxHosts bounds a host group's count, and the hosts of a recipe in all
// (100,000: ten times the 10,000-host plan BenchmarkPlan10kHosts keeps
// under a second; the plan of 100,000 hosts × 10 steps holds about 2 GB);
// larger counts are almost surely a
// mistake (and would exhaust memory before anything useful happens).
const MaxHosts = 100000

// HostInfo is what is known about one host. Unknown addresses and devices
// are cty.UnknownVal(cty.String).
type HostInfo struct {
	Name      string // "server[1]"
	Group     string
	Index     int
	Hostname  string // "server-1"
	PrivateIP cty.Value
	PublicIP  cty.Value
	// Provider is the provider key the host runs on ("docker", "aws.east");
	// NilVal (unknown) before it is launched.
	Provider cty.Value
	Volumes  map[string]VolumeInfo
	Facts    cty.Value // FactsVal; cty.NilVal while not known
}

// VolumeInfo is one volume of a host.
type VolumeInfo struct {
	Device cty.Value
	SizeGB int
}

// unknownString is an address, device or capture not known yet: a
// string, never null once known, so that a kind's rules can tell an
// argument given such a value from one left out.
var unknownString = cty.UnknownVal(cty.String).RefineNotNull()

// HostName is the name of host index i of a group: "server[1]".
func HostName(group string, i int) string { return fmt.Sprintf("%s[%d]", group, i) }

// Hostname is the DNS-safe form of a host name: "server-1".
func Hostname(group string, i int) string { return fmt.Sprintf("%s-%d", group, i) }

// Val is the host object recipes see as `host` and in `hosts.<group>`.
func (h HostInfo) Val(volNames []string) cty.Value {
	vols := map[string]cty.Value{}
	for _, n := range volNames {
		v, ok := h.Volumes[n]
		dev := unknownString
		size := cty.UnknownVal(cty.Number)
		if ok {
			dev, size = v.Device, cty.NumberIntVal(int64(v.SizeGB))
		}
		vols[n] = cty.ObjectVal(map[string]cty.Value{"device": dev, "size_gb": size})
	}
	str := func(v cty.Value) cty.Value {
		if v == cty.NilVal {
			return unknownString
		}
		return v
	}
	facts := h.Facts
	if facts == cty.NilVal {
		facts = unknownFacts
	}
	return cty.ObjectVal(map[string]cty.Value{
		"name": cty.StringVal(h.Name), "group": cty.StringVal(h.Group),
		"index": cty.NumberIntVal(int64(h.Index)), "hostname": cty.StringVal(h.Hostname),
		"private_ip": str(h.PrivateIP), "public_ip": str(h.PublicIP), "provider": str(h.Provider),
		"volume": cty.ObjectVal(vols),
		"facts":  facts,
	})
}

// VolumeNames lists a group's volume names in declaration order.
func (g *Group) VolumeNames() []string {
	out := make([]string, len(g.Volumes))
	for i, v := range g.Volumes {
		out[i] = v.Name
	}
	return out
}

// GroupVal builds `hosts.<group>` from its hosts, in index order.
func (g *Group) GroupVal(hosts []HostInfo) cty.Value {
	names := g.VolumeNames()
	vals := make([]cty.Value, len(hosts))
	for i, h := range hosts {
		vals[i] = h.Val(names)
	}
	return g.ListVal(vals)
}

// ListVal builds `hosts.<group>` from host values already made with
// HostInfo.Val, in index order.
func (g *Group) ListVal(vals []cty.Value) cty.Value {
	if len(vals) == 0 {
		proto := HostInfo{Volumes: map[string]VolumeInfo{}}
		return cty.ListValEmpty(proto.Val(g.VolumeNames()).Type())
	}
	return cty.ListVal(vals)
}

// Scope evaluates a recipe's expressions with what is known now. Hosts and
// Steps may hold unknown values; Locals is computed by EvalLocals.
type Scope struct {
	Recipe *Recipe
	Vars   map[string]cty.Value
	Hosts  map[string]cty.Value // group -> list of host objects
	Steps  map[string]cty.Value // step -> StepVal
	Locals map[string]cty.Value
	// VarSources says where each variable's value came from (Resolve),
	// so that a module input refusing var.X given with -var says so;
	// nil: not said.
	VarSources map[string]VarSource

	base *hcl.EvalContext // cached context without `host`; nil after Changed
	// mvals holds the values of every module namespace (inputs, locals,
	// outputs), computed by EvalLocals; mbase their cached contexts,
	// built with base.
	mvals map[*namespace]*nsVals
	mbase map[*namespace]*hcl.EvalContext
	// failed names the locals whose evaluation failed (reported then):
	// what reads them is not reported again.
	failed map[string]bool
	// inputErrs holds the errors of module inputs (not read from `host`)
	// whose value broke the variable's type, constraints or validations:
	// such an input is unknown, and a step of its module is refused with
	// them (StepArgs), at apply too, when the value came from a capture.
	inputErrs map[nodeKey]hcl.Diagnostics
	// raw holds the values of module inputs (not read from `host`) with
	// their types and constraints met, before their validations: what a
	// validation of another input of the module reads. Unknown when refused.
	raw map[nodeKey]cty.Value
}

// readsFailedLocal says whether expr reads a local whose evaluation failed.
func (s *Scope) readsFailedLocal(expr hcl.Expression) bool {
	for _, tr := range expr.Variables() {
		if tr.RootName() == "local" && len(tr) >= 2 && s.failed[attrName(tr[1])] {
			return true
		}
	}
	return false
}

// Changed must be called after Vars, Hosts, Steps or Locals change: the
// cached evaluation context is rebuilt on next use.
func (s *Scope) Changed() { s.base = nil }

// Ctx is the evaluation context of the root recipe for one host (host
// may be cty.NilVal). The shared part is built once and reused: per-host
// contexts are children holding only `host`. A Scope is safe for
// concurrent Ctx calls only once its context is built (call Ctx once
// before sharing it: that builds every module's context too).
func (s *Scope) Ctx(host cty.Value) *hcl.EvalContext {
	if s.base == nil {
		s.base = s.nsCtx(s.Recipe.root)
		s.mbase = map[*namespace]*hcl.EvalContext{}
		for _, m := range s.Recipe.AllModules() {
			s.mbase[m.ns] = s.nsCtx(m.ns)
		}
	}
	child := withForBudget(s.base)
	if host != cty.NilVal {
		child.Variables = map[string]cty.Value{"host": host}
	}
	return child
}

// StepCtx is the evaluation context of a step's own expressions for one
// host: the root's, or its module's.
func (s *Scope) StepCtx(st *Step, host cty.Value) *hcl.EvalContext {
	return s.ctxIn(s.Recipe.nsOf(st), host)
}

// ctxIn is the context of namespace n for one host. A module input set
// from `host` at the call is evaluated here, for that host.
func (s *Scope) ctxIn(n *namespace, host cty.Value) *hcl.EvalContext {
	if n == nil || n.mod == nil {
		return s.Ctx(host)
	}
	s.Ctx(cty.NilVal)
	child := withForBudget(s.mbase[n])
	if host == cty.NilVal {
		return child
	}
	vars := map[string]cty.Value{"host": host}
	if s.Recipe.hostVars(n) {
		vals := map[string]cty.Value{}
		for _, v := range n.varList {
			if s.Recipe.hostVar(n, v.Name) {
				val, d := s.inputValue(n, v, host)
				if d.HasErrors() { // refused by StepArgs (moduleInputErrs)
					val = markSensitive(cty.UnknownVal(v.Type), v.Sensitive)
				}
				vals[v.Name] = val
			} else {
				vals[v.Name] = s.modVal(n).get("v", v.Name)
			}
		}
		vars["var"] = objOrEmpty(vals)
	}
	child.Variables = vars
	return child
}

// nsVals are the values of one module namespace.
type nsVals struct {
	vars, locals, outputs map[string]cty.Value
	// off: the call's lifecycle enabled (or a caller's) is false. Its
	// inputs, locals and outputs are then unknown and never evaluated.
	off bool
}

func (v *nsVals) get(kind, name string) cty.Value {
	if v == nil {
		return cty.DynamicVal
	}
	m := map[string]map[string]cty.Value{"v": v.vars, "l": v.locals, "o": v.outputs}[kind]
	if x, ok := m[name]; ok {
		return x
	}
	return cty.DynamicVal
}

func (s *Scope) modVal(n *namespace) *nsVals {
	if s.mvals == nil {
		return nil
	}
	return s.mvals[n]
}

// nsCtx builds the context of namespace n without `host` from what is
// known now.
func (s *Scope) nsCtx(n *namespace) *hcl.EvalContext { return s.nsCtxReading(n, nil) }

// nsCtxReading is nsCtx holding, when want is not nil, only the
// variables, locals, steps and modules want names (what one expression
// reads). The evaluator builds a context for every value it
// computes: with all of them, a namespace of a thousand module calls
// built a thousand outputs for each of its thousand inputs.
func (s *Scope) nsCtxReading(n *namespace, want names) *hcl.EvalContext {
	vars := map[string]cty.Value{}
	if n.mod == nil {
		vars["var"] = objOrEmpty(pick(s.Vars, want, "var"))
		vars["local"] = objOrEmpty(pick(s.Locals, want, "local"))
		vars["hosts"] = objOrUnknown(s.Hosts)
	} else {
		mv := s.modVal(n)
		vv := map[string]cty.Value{}
		want.each("var", func(yield func(string)) {
			for _, v := range n.varList {
				yield(v.Name)
			}
		}, func(name string) {
			if n.vars[name] != nil {
				vv[name] = mv.get("v", name)
			}
		})
		lv := map[string]cty.Value{}
		want.each("local", func(yield func(string)) {
			for _, l := range n.localList {
				yield(l.Name)
			}
		}, func(name string) {
			if n.locals[name] != nil {
				lv[name] = mv.get("l", name)
			}
		})
		vars["var"], vars["local"] = objOrEmpty(vv), objOrEmpty(lv)
	}
	if s.Steps == nil {
		vars["step"] = cty.DynamicVal
	} else {
		sv := map[string]cty.Value{}
		want.each("step", func(yield func(string)) {
			for _, st := range n.stepList {
				yield(st.BaseName)
			}
		}, func(name string) {
			if st := n.steps[name]; st != nil {
				if v, ok := s.Steps[st.Name]; ok {
					sv[name] = v
				}
			}
		})
		vars["step"] = objOrEmpty(sv)
	}
	mods := map[string]cty.Value{}
	want.each("module", func(yield func(string)) {
		for _, m := range n.modList {
			yield(m.Name)
		}
	}, func(name string) {
		m := n.mods[name]
		if m == nil || m.ns == nil {
			return
		}
		mv := s.modVal(m.ns)
		if mv == nil {
			mods[name] = cty.DynamicVal
			return
		}
		if mv.off {
			mods[name] = cty.NullVal(cty.DynamicPseudoType) // OpenTofu's disabled module
			return
		}
		ov := map[string]cty.Value{}
		for _, o := range m.ns.outList {
			ov[o.Name] = mv.get("o", o.Name)
		}
		mods[name] = objOrEmpty(ov)
	})
	vars["module"] = objOrEmpty(mods)
	return &hcl.EvalContext{Functions: n.funcs, Variables: vars}
}

// names are the names an expression reads under each root (var, local,
// step, module); a nil names means every name. A root read whole
// (`local`) has a nil set: every name under it.
type names map[string]map[string]bool

// readNames are the names traversals reads read (never nil).
func readNames(reads []hcl.Traversal) names {
	want := names{}
	for _, tr := range reads {
		root := tr.RootName()
		set, seen := want[root]
		if seen && set == nil {
			continue // read whole already
		}
		name := ""
		if len(tr) > 1 {
			name = attrName(tr[1])
			if name == "" {
				if ix, ok := tr[1].(hcl.TraverseIndex); ok && ix.Key.Type() == cty.String && ix.Key.IsKnown() && !ix.Key.IsNull() {
					name = ix.Key.AsString() // local["x"]
				}
			}
		}
		if name == "" {
			want[root] = nil
			continue
		}
		if set == nil {
			set = map[string]bool{}
			want[root] = set
		}
		set[name] = true
	}
	return want
}

// each calls f for every name under root that w holds: the names it
// lists (so that the work is what one expression reads, not what the
// namespace declares), or those all yields when it holds them all.
func (w names) each(root string, all func(yield func(string)), f func(string)) {
	if w != nil {
		set, ok := w[root]
		if !ok {
			return
		}
		if set != nil {
			for name := range set {
				f(name)
			}
			return
		}
	}
	all(f)
}

// pick is the part of all that want holds under root.
func pick(all map[string]cty.Value, want names, root string) map[string]cty.Value {
	if want == nil {
		return all
	}
	out := map[string]cty.Value{}
	want.each(root, func(yield func(string)) {
		for k := range all {
			yield(k)
		}
	}, func(k string) {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	})
	return out
}

// hostVar says whether module input name of n is set from `host` at the
// call (directly or through the caller's own inputs).
func (r *Recipe) hostVar(n *namespace, name string) bool {
	if r.an == nil {
		return false
	}
	set := r.an.memo[nodeKey{n, 'v', name}]
	return set != nil && set.host
}

func (r *Recipe) hostVars(n *namespace) bool {
	for _, v := range n.varList {
		if r.hostVar(n, v.Name) {
			return true
		}
	}
	return false
}

// inputValue evaluates the input of module variable v of n at the call,
// for host (cty.NilVal: none), converted to the variable's type, and
// runs its validations. The other inputs a validation reads are those of
// the scope's evaluation (Scope.raw), or, set from host, for host.
func (s *Scope) inputValue(n *namespace, v *Variable, host cty.Value) (cty.Value, hcl.Diagnostics) {
	cv, diags := s.inputRaw(n, v, host)
	if diags.HasErrors() || n.mod.Inputs[v.Name] == nil && v.Default == cty.NilVal {
		return cv, diags
	}
	return cv, append(diags, s.validateInput(n, v, cv, host, false)...)
}

// inputRaw is the input of module variable v of n at the call, for host
// (cty.NilVal: none), converted to the variable's type and held to its
// constraints, before its validations: unknown when refused.
func (s *Scope) inputRaw(n *namespace, v *Variable, host cty.Value) (cty.Value, hcl.Diagnostics) {
	m := n.mod
	in := m.Inputs[v.Name]
	if in == nil {
		if v.Default == cty.NilVal {
			return cty.DynamicVal, nil // Missing module input, reported by analysis
		}
		return markSensitive(v.Default, v.Sensitive), nil
	}
	var ctx *hcl.EvalContext
	if host == cty.NilVal {
		ctx = s.evalCtx(m.caller, in.Expr) // while the evaluator computes values
	} else {
		ctx = s.ctxIn(m.caller, host)
	}
	val, diags := in.Expr.Value(ctx)
	if diags.HasErrors() {
		return cty.UnknownVal(v.Type), diags
	}
	cv, err := convert.Convert(val, v.Type)
	if err != nil {
		return cty.UnknownVal(v.Type), hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for module input",
			Detail: fmt.Sprintf("Variable %q of module %s (%s, declared at %s) must be %s: %v.%s%s%s", v.Name, m.Addr, m.Source, rangeString(v.DeclRange), typeexpr.TypeString(v.Type), err,
				attrTypoHint(val, v.Type), oneForListHint(val, v.Type), s.givenHint(m, in.Expr)),
			Subject: in.Expr.Range().Ptr()}}
	}
	if v.Sensitive {
		cv = cv.Mark(Sensitive)
	}
	if msg := v.Constraints.Check(fmt.Sprintf("%s input %s", m.Addr, v.Name), cv); msg != "" {
		// Unknown from here on: what reads it is not refused again for the same mistake.
		return markSensitive(cty.UnknownVal(v.Type), v.Sensitive), append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for module input",
			Detail:  fmt.Sprintf("%s (variable %q of %s, constrained at %s).%s", msg, v.Name, m.Source, rangeString(v.Constraints.Range), s.givenHint(m, in.Expr)),
			Subject: in.Expr.Range().Ptr()})
	}
	return cv, diags
}

// givenHint says, for expressions of the recipe (m nil) or inputs of
// a call in the recipe that read
// variables given from outside (-var, -var-file, the site file, the
// workspace's remembered inputs), where their values came from: the
// mistake is there, not on the line the error points at.
func (s *Scope) givenHint(m *Module, es ...hcl.Expression) string {
	if (m != nil && m.Parent != nil) || s.VarSources == nil {
		return ""
	}
	var from []string
	seen := map[string]bool{}
	var trs []hcl.Traversal
	for _, e := range es {
		trs = append(trs, e.Variables()...)
	}
	for _, tr := range trs {
		if tr.RootName() != "var" || len(tr) < 2 {
			continue
		}
		a, ok := tr[1].(hcl.TraverseAttr)
		if !ok || seen[a.Name] {
			continue
		}
		seen[a.Name] = true
		if where := s.VarSources[a.Name].given(); where != "" {
			from = append(from, fmt.Sprintf("var.%s is %s", a.Name, where))
		}
	}
	if len(from) == 0 {
		return ""
	}
	return " The value comes from outside the recipe: " + strings.Join(from, ", ") + "; change it there."
}

// given says where a value from outside the recipe was given ("" for
// the recipe's default).
func (src VarSource) given() string {
	switch src {
	case FromSite:
		return "set in the site file's variables block"
	case FromRemembered:
		return "remembered from the workspace's last apply (diffuser vars; -var to change it)"
	case FromVarFile:
		return "given with -var-file"
	case FromVar:
		return "given with -var"
	}
	return ""
}

// oneForListHint says to write a list of one where one object (a host)
// is given for a list or set.
func oneForListHint(val cty.Value, want cty.Type) string {
	if (want.IsListType() || want.IsSetType()) && val.Type().IsObjectType() {
		return " One value was given (a host?): write [VALUE] for a list of one."
	}
	return ""
}

// objOrUnknown is unknown while nothing is known yet (nil map): values that
// read it come out unknown instead of failing.
func objOrUnknown(m map[string]cty.Value) cty.Value {
	if m == nil {
		return cty.DynamicVal
	}
	return objOrEmpty(m)
}

func objOrEmpty(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// EvalLocals computes every local, and every module's inputs, locals
// and outputs, in dependency order. Values that read what is not known
// yet come out unknown.
func (s *Scope) EvalLocals() hcl.Diagnostics {
	return s.EvalLocalsSince(nil, nil, nil)
}

// EvalLocalsSince is EvalLocals for a scope of the same recipe and
// variables as prev (whose locals were evaluated), whose Hosts and Steps
// differ from prev's only in the groups and the steps (full names) named
// in groups and steps. A local, module input or module output that reads
// none of them, directly or through others, keeps prev's value without
// being evaluated again; the rest are evaluated. Diagnostics are those of
// the values evaluated again. A nil prev evaluates everything.
//
// An apply rebuilds its scope whenever a step other expressions read
// finishes: a thousand hosts' values in a local (a conditional over
// hosts.client) cost milliseconds to evaluate again, and every step
// instance waits for the rebuild.
func (s *Scope) EvalLocalsSince(prev *Scope, groups, steps map[string]bool) hcl.Diagnostics {
	s.Locals = map[string]cty.Value{}
	s.failed = map[string]bool{}
	s.inputErrs = map[nodeKey]hcl.Diagnostics{}
	s.raw = map[nodeKey]cty.Value{}
	s.mvals = map[*namespace]*nsVals{}
	s.Changed()
	defer s.Changed()
	e := &evaluator{s: s, state: map[nodeKey]bool{}, rawState: map[nodeKey]bool{}, rawDiags: map[nodeKey]hcl.Diagnostics{}}
	if prev != nil && prev.Recipe == s.Recipe && prev.mvals != nil && s.Recipe.an != nil {
		e.prev, e.groups, e.steps = prev, groups, steps
	}
	for _, n := range s.Recipe.namespaces() {
		if n.mod != nil {
			s.mvals[n] = &nsVals{vars: map[string]cty.Value{}, locals: map[string]cty.Value{}, outputs: map[string]cty.Value{}}
		}
	}
	for _, n := range s.Recipe.namespaces() {
		for _, l := range n.localList {
			e.get(nodeKey{n, 'l', l.Name})
		}
		if n.mod != nil {
			e.get(enabledKey(n))
			for _, v := range n.varList {
				e.get(nodeKey{n, 'v', v.Name})
			}
			for _, o := range n.outList {
				e.get(nodeKey{n, 'o', o.Name})
			}
		}
	}
	return e.diags
}

// evaluator computes locals, module inputs and outputs, each after what
// it reads.
type evaluator struct {
	s     *Scope
	state map[nodeKey]bool // started
	diags hcl.Diagnostics
	// rawState: the raw value of a module input (Scope.raw) was started;
	// rawDiags are its errors, reported with the input's own value.
	rawState map[nodeKey]bool
	rawDiags map[nodeKey]hcl.Diagnostics
	// prev, when set, holds values still current unless they read one of
	// groups or steps (EvalLocalsSince).
	prev          *Scope
	groups, steps map[string]bool
}

// reuse copies k's value from e.prev if it reads nothing that changed,
// and says whether it did.
func (e *evaluator) reuse(k nodeKey) bool {
	if e.prev == nil {
		return false
	}
	if !e.unchanged(k) {
		return false
	}
	if k.kind == 'v' {
		// Its validations read these inputs' values too.
		for _, o := range validationInputs(k) {
			if !e.unchanged(o) {
				return false
			}
		}
	}
	s, p := e.s, e.prev
	var v cty.Value
	var ok bool
	if k.n.mod == nil {
		if k.kind != 'l' {
			return false
		}
		if v, ok = p.Locals[k.name]; !ok {
			return false
		}
		s.Locals[k.name] = v
		if p.failed[k.name] {
			s.failed[k.name] = true
		}
		return true
	}
	pv, dst := p.mvals[k.n], s.mvals[k.n]
	if pv == nil || dst == nil {
		return false
	}
	if k.kind == 'e' {
		dst.off = pv.off
		return true
	}
	if v, ok = pv.of(k.kind)[k.name]; !ok {
		return false
	}
	dst.of(k.kind)[k.name] = v
	if d := p.inputErrs[k]; k.kind == 'v' && d != nil {
		s.inputErrs[k] = d
	}
	if raw, ok := p.raw[k]; k.kind == 'v' && ok {
		s.raw[k] = raw
	}
	return true
}

// unchanged says whether k reads none of the groups and steps that
// changed since e.prev.
func (e *evaluator) unchanged(k nodeKey) bool {
	set := e.s.Recipe.an.memo[k]
	if set == nil {
		return false
	}
	for g := range set.groups {
		if e.groups[g] {
			return false
		}
	}
	for st := range set.steps {
		if e.steps[st] {
			return false
		}
	}
	return true
}

// of is the map of one kind of node: 'l' locals, 'v' inputs, 'o' outputs.
func (v *nsVals) of(kind byte) map[string]cty.Value {
	switch kind {
	case 'l':
		return v.locals
	case 'v':
		return v.vars
	}
	return v.outputs
}

func (e *evaluator) get(k nodeKey) {
	if e.state[k] {
		return // done, or a cycle analysis reported
	}
	e.state[k] = true
	if e.reuse(k) {
		return
	}
	s := e.s
	if k.kind == 'e' {
		e.enabled(k)
		return
	}
	if k.n.mod != nil {
		if e.get(enabledKey(k.n)); s.mvals[k.n].off {
			e.offValue(k)
			return
		}
	}
	ns := k.n
	var expr hcl.Expression
	switch k.kind {
	case 'l':
		expr = k.n.locals[k.name].Expr
	case 'v':
		if in := k.n.mod.Inputs[k.name]; in != nil {
			expr, ns = in.Expr, k.n.mod.caller
		}
	case 'o':
		expr = k.n.outputs[k.name].Value
	}
	if expr != nil {
		for _, tr := range expr.Variables() {
			e.dep(ns, tr)
		}
	}
	s.Changed()
	switch k.kind {
	case 'l':
		l := k.n.locals[k.name]
		v, d := l.Expr.Value(s.evalCtx(k.n, l.Expr))
		if !d.HasErrors() {
			if err := checkValueSize(v); err != nil {
				d = append(d, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value too large",
					Detail: fmt.Sprintf("local.%s %s.", l.Name, err), Subject: l.Expr.Range().Ptr()})
			}
		}
		e.diags = append(e.diags, annotate(Explain(d), k.n.mod)...)
		if d.HasErrors() {
			v = cty.DynamicVal
			if k.n.mod == nil {
				s.failed[l.Name] = true
			}
		}
		if k.n.mod == nil {
			s.Locals[l.Name] = v
		} else {
			s.mvals[k.n].locals[l.Name] = v
		}
	case 'v':
		v := k.n.vars[k.name]
		val := cty.DynamicVal
		if !s.Recipe.hostVar(k.n, k.name) {
			var d hcl.Diagnostics
			val, d = e.input(k)
			d = annotate(Explain(d), k.n.mod.Parent)
			e.diags = append(e.diags, d...)
			if d.HasErrors() {
				// Never the refused value: what reads it is unknown, and
				// the module's steps are refused with d.
				val = markSensitive(cty.UnknownVal(v.Type), v.Sensitive)
				s.inputErrs[k] = d
			}
		}
		s.mvals[k.n].vars[k.name] = val
	case 'o':
		o := k.n.outputs[k.name]
		v, d := o.Value.Value(s.evalCtx(k.n, o.Value))
		e.diags = append(e.diags, annotate(Explain(d), k.n.mod)...)
		if d.HasErrors() {
			v = cty.DynamicVal
		}
		if o.Sensitive {
			v = v.Mark(Sensitive)
		}
		s.mvals[k.n].outputs[o.Name] = v
	}
	s.Changed()
}

// input is the value of module input k (not read from `host`) and its
// errors: its raw value (Scope.raw), then, once the raw values of the
// other inputs its validations read are known, its validations. A
// validation reads raw values, never validated ones, so that validations
// reading each other's variables are no cycle.
func (e *evaluator) input(k nodeKey) (cty.Value, hcl.Diagnostics) {
	s, v := e.s, k.n.vars[k.name]
	val, d := e.raw(k)
	if d.HasErrors() || k.n.mod.Inputs[k.name] == nil && v.Default == cty.NilVal {
		return val, d
	}
	for _, o := range validationInputs(k) {
		if !s.Recipe.hostVar(o.n, o.name) {
			e.raw(o)
		}
	}
	return val, append(d, s.validateInput(k.n, v, val, cty.NilVal, false)...)
}

// raw computes the raw value of module input k (not read from `host`)
// once, after what its expression reads, into Scope.raw.
func (e *evaluator) raw(k nodeKey) (cty.Value, hcl.Diagnostics) {
	s, v := e.s, k.n.vars[k.name]
	if val, ok := s.raw[k]; ok {
		return val, e.rawDiags[k]
	}
	if e.rawState[k] {
		// A cycle through a validation, which analysis reported.
		return markSensitive(cty.UnknownVal(v.Type), v.Sensitive), nil
	}
	e.rawState[k] = true
	if in := k.n.mod.Inputs[k.name]; in != nil {
		for _, tr := range in.Expr.Variables() {
			e.dep(k.n.mod.caller, tr)
		}
	}
	s.Changed()
	val, d := s.inputRaw(k.n, v, cty.NilVal)
	s.Changed()
	if d.HasErrors() {
		val = markSensitive(cty.UnknownVal(v.Type), v.Sensitive)
	}
	s.raw[k], e.rawDiags[k] = val, d
	return val, d
}

// enabled decides whether the module call of namespace k.n is on: off
// when a call around it is off or its lifecycle enabled is false. An
// enabled not known yet (validate without the variables' values) counts
// as on, so everything in the module is checked.
func (e *evaluator) enabled(k nodeKey) {
	s, m := e.s, k.n.mod
	mv := s.mvals[k.n]
	if m.Parent != nil {
		if e.get(enabledKey(m.caller)); s.mvals[m.caller].off {
			mv.off = true
			return
		}
	}
	if m.Enabled == nil {
		return
	}
	for _, tr := range m.Enabled.Variables() {
		e.dep(m.caller, tr)
	}
	s.Changed()
	defer s.Changed()
	v, d := m.Enabled.Value(s.evalCtx(m.caller, m.Enabled))
	if !d.HasErrors() {
		v, _ = v.UnmarkDeep()
		switch {
		case !v.IsKnown():
		case v.IsNull() || v.Type() != cty.Bool:
			d = append(d, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid module enabled",
				Detail: fmt.Sprintf("The lifecycle enabled of %s (%s) must be true or false, not %s, e.g. enabled = var.package_repository != null.%s",
					m.Addr, m.Source, typeName(v), s.givenHint(m, m.Enabled)),
				Subject: m.Enabled.Range().Ptr()})
		default:
			mv.off = v.False()
		}
	}
	e.diags = append(e.diags, annotate(d, m.Parent)...)
}

// offValue is the value of a local, input or output of a module that is
// off: unknown, never evaluated (its inputs may be null or broken, which
// is why it is off), and read by nothing that runs.
func (e *evaluator) offValue(k nodeKey) {
	mv := e.s.mvals[k.n]
	switch k.kind {
	case 'l':
		mv.locals[k.name] = cty.DynamicVal
	case 'v':
		v := k.n.vars[k.name]
		mv.vars[k.name] = markSensitive(cty.UnknownVal(v.Type), v.Sensitive)
	case 'o':
		mv.outputs[k.name] = cty.DynamicVal
	}
}

// Off says whether module m is turned off: its lifecycle enabled, or a
// calling module's, is false. Known once the scope's locals are
// evaluated (EvalLocals); false before.
func (s *Scope) Off(m *Module) bool {
	if m == nil {
		return false
	}
	mv := s.modVal(m.ns)
	return mv != nil && mv.off
}

// evalCtx is a fresh context of n for evaluating expr while values
// change, holding what expr reads.
func (s *Scope) evalCtx(n *namespace, expr hcl.Expression) *hcl.EvalContext {
	return withForBudget(s.nsCtxReading(n, readNames(expr.Variables())))
}

// dep computes first what traversal tr of namespace n reads.
func (e *evaluator) dep(n *namespace, tr hcl.Traversal) {
	if len(tr) < 2 {
		return
	}
	name := attrName(tr[1])
	switch tr.RootName() {
	case "local":
		if n.locals[name] != nil {
			e.get(nodeKey{n, 'l', name})
		}
	case "var":
		if n.mod != nil && n.vars[name] != nil {
			e.get(nodeKey{n, 'v', name})
		}
	case "module":
		m := n.mods[name]
		if m == nil || m.ns == nil {
			return
		}
		e.get(enabledKey(m.ns))
		if len(tr) >= 3 {
			if out, _ := stepName(tr[2]); m.ns.outputs[out] != nil {
				e.get(nodeKey{m.ns, 'o', out})
				return
			}
		}
		for _, o := range m.ns.outList {
			e.get(nodeKey{m.ns, 'o', o.Name})
		}
	}
}

// Counts evaluates every host group's count (default 1) and volume sizes.
// Both must be known before apply.
func (r *Recipe) Counts(vars map[string]cty.Value) (map[string]int, map[string]map[string]int, hcl.Diagnostics) {
	return r.CountsOf(Resolved{Values: vars})
}

// CountsOf is Counts of resolved variables: an error about a value given
// from outside the recipe (a module input read from a -var) says so.
func (r *Recipe) CountsOf(res Resolved) (map[string]int, map[string]map[string]int, hcl.Diagnostics) {
	vars := res.Values
	s := &Scope{Recipe: r, Vars: vars, VarSources: res.Sources}
	diags := s.EvalLocals()
	counts := map[string]int{}
	sizes := map[string]map[string]int{}
	total := 0
	for _, g := range r.Groups {
		counts[g.Name] = 1
		switch {
		case g.Count != nil && s.readsFailedLocal(g.Count):
			counts[g.Name] = 0 // the local's error says what is wrong
		case g.Count != nil:
			n, d := s.intValue(g.Count, "count of hosts "+g.Name, 0, MaxHosts)
			diags = append(diags, d...)
			counts[g.Name] = n
			if !d.HasErrors() && total <= MaxHosts && total+n > MaxHosts {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Too many hosts",
					Detail: fmt.Sprintf("With %d hosts in %s, the recipe has %d hosts in all; a recipe may have at most %d (every host is a vertex of the plan, with one more per step that runs on it).",
						n, g.Name, total+n, MaxHosts),
					Subject: g.Count.Range().Ptr()})
			}
		}
		total += counts[g.Name]
		sizes[g.Name] = map[string]int{}
		for _, v := range g.Volumes {
			n, d := s.intValue(v.SizeGB, "size_gb of volume "+v.Name, 1, 64*1024)
			diags = append(diags, d...)
			sizes[g.Name][v.Name] = n
		}
	}
	return counts, sizes, diags
}

func (s *Scope) intValue(expr hcl.Expression, what string, lo, hi int) (int, hcl.Diagnostics) {
	v, diags := expr.Value(s.Ctx(cty.NilVal))
	if diags.HasErrors() {
		return 0, diags
	}
	v, _ = v.Unmark()
	if !v.IsKnown() {
		return 0, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Value not known before apply",
			Detail: fmt.Sprintf("The %s must be known before anything runs.", what), Subject: expr.Range().Ptr()}}
	}
	nv, err := convert.Convert(v, cty.Number)
	if err != nil || nv.IsNull() {
		return 0, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Expected a number",
			Detail: fmt.Sprintf("The %s must be a whole number.", what), Subject: expr.Range().Ptr()}}
	}
	bf := nv.AsBigFloat()
	if err := checkNumber(bf); err != nil {
		// Text such as "1e100000000" converts to a number the messages
		// below would take minutes to write.
		return 0, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Value out of range",
			Detail:  fmt.Sprintf("The %s: %s; it must be between %d and %d.", what, err, lo, hi),
			Subject: expr.Range().Ptr()}}
	}
	if !bf.IsInt() {
		return 0, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Expected a whole number",
			Detail: fmt.Sprintf("The %s must be a whole number, not %s.%s", what, bf.Text('g', 10), s.givenHint(nil, expr)), Subject: expr.Range().Ptr()}}
	}
	n, acc := bf.Int64()
	if acc != 0 || n < int64(lo) || n > int64(hi) {
		return 0, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Value out of range",
			Detail:  fmt.Sprintf("The %s is %s; it must be between %d and %d.%s", what, bf.Text('g', 10), lo, hi, s.givenHint(nil, expr)),
			Subject: expr.Range().Ptr()}}
	}
	return int(n), nil
}

// OnHosts evaluates a step's `on` and returns the names of its hosts in
// order, without duplicates.
func (s *Scope) OnHosts(expr hcl.Expression) ([]string, hcl.Diagnostics) {
	return s.onHostsIn(expr, s.Recipe.root)
}

// StepOnHosts evaluates a step's `on` where it was written: in the step's
// namespace, or at the module call it inherits `on` from.
func (s *Scope) StepOnHosts(st *Step) ([]string, hcl.Diagnostics) {
	if s.Off(st.Module) {
		return nil, nil // a step of a module that is off has no instances
	}
	n := s.Recipe.nsOf(st)
	if st.onNS != nil {
		n = st.onNS
	}
	if st.On == nil {
		return nil, nil // reported by analysis
	}
	return s.onHostsIn(st.On, n)
}

func (s *Scope) onHostsIn(expr hcl.Expression, n *namespace) ([]string, hcl.Diagnostics) {
	if n == nil || n.mod == nil {
		if names, ok := s.staticOn(expr); ok {
			return names, nil
		}
	}
	// An input on reads that was refused (one host for a list, a wrong
	// type) is unknown here: its own error says what is wrong, at the call.
	if n != nil && n.mod != nil {
		var inDiags hcl.Diagnostics
		for _, tr := range expr.Variables() {
			if tr.RootName() == "var" && len(tr) >= 2 {
				inDiags = append(inDiags, s.inputErrs[nodeKey{n, 'v', attrName(tr[1])}]...)
			}
		}
		if inDiags.HasErrors() {
			return nil, inDiags
		}
	}
	v, diags := expr.Value(s.ctxIn(n, cty.NilVal))
	if diags.HasErrors() {
		return nil, diags
	}
	bad := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid on",
		Detail:  "on must be a host (hosts.server[0]) or a list of hosts (hosts.server, concat(hosts.a, hosts.b)).",
		Subject: expr.Range().Ptr()}}
	v, _ = v.UnmarkDeep()
	if !v.IsKnown() {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "on not known before apply",
			Detail: "on decides which hosts a step runs on, so the plan must know it; this one depends on what is known only once hosts exist or steps ran " +
				"(host facts, a step's outputs). Choose the hosts from host groups and variables (hosts.server, slice(hosts.server, 0, var.n)); " +
				"to act on a fact, run the step on every host and branch on the fact in its arguments or command.",
			Subject: expr.Range().Ptr()}}
	}
	if v.IsNull() || !v.IsKnown() {
		return nil, bad
	}
	var elems []cty.Value
	ty := v.Type()
	switch {
	case ty.IsObjectType():
		elems = []cty.Value{v}
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		elems = v.AsValueSlice()
	default:
		return nil, bad
	}
	seen := map[string]bool{}
	var out []string
	for _, e := range elems {
		if !e.Type().IsObjectType() || !e.Type().HasAttribute("name") || !e.Type().HasAttribute("private_ip") {
			return nil, bad
		}
		n := e.GetAttr("name")
		if !n.IsKnown() || n.IsNull() || n.Type() != cty.String {
			return nil, bad // e.g. on = [hosts.a[0], { name = 1, private_ip = "" }]
		}
		if name := n.AsString(); !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, nil
}

// Generic holds the attributes every step may carry, evaluated for one instance.
type Generic struct {
	Timeout   time.Duration
	Retries   int
	Sensitive bool
	Destroy   cty.Value // string, or null; may be unknown or marked
	Drain     cty.Value // string, or null (drain of a replacement step)
}

// StepArgs evaluates a step's kind arguments and generic attributes for one
// host. args may contain unknown values while upstream work is pending.
func (s *Scope) StepArgs(st *Step, host cty.Value) (cty.Value, Generic, hcl.Diagnostics) {
	if d := s.moduleInputErrs(s.Recipe.nsOf(st), host); d.HasErrors() {
		return cty.DynamicVal, Generic{Destroy: cty.NullVal(cty.String), Drain: cty.NullVal(cty.String)}, d
	}
	ctx := s.StepCtx(st, host)
	// Preconditions first: a false one stops the instance before anything
	// else of it is evaluated, as it stops it before it runs.
	if d := st.checkPreconditions(ctx); d.HasErrors() {
		return cty.DynamicVal, Generic{Destroy: cty.NullVal(cty.String), Drain: cty.NullVal(cty.String)}, d
	}
	var diags hcl.Diagnostics
	spec := s.Recipe.kinds[st.Kind]
	var args cty.Value
	if st.KindBody != nil {
		args, diags = hcldec.Decode(st.KindBody, spec, ctx)
	} else {
		args, diags = shorthandArgs(st, spec, ctx)
	}
	if err := checkNumbers(args); err != nil && !diags.HasErrors() {
		// A kind's number argument given as text ("1e100000000").
		return cty.DynamicVal, Generic{Destroy: cty.NullVal(cty.String), Drain: cty.NullVal(cty.String)}, hcl.Diagnostics{{
			Severity: hcl.DiagError, Summary: "Value out of range",
			Detail: fmt.Sprintf("An argument of %s: %s.", st.Addr(), err), Subject: st.DeclRange.Ptr()}}
	}
	var g Generic
	g.Destroy = commandValue(st.Destroy, ctx, "destroy", &diags)
	g.Drain = commandValue(st.Drain, ctx, "drain", &diags)
	if st.Timeout != nil {
		v, d := st.Timeout.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			dur, err := duration(v)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid timeout",
					Detail: err.Error(), Subject: st.Timeout.Range().Ptr()})
			}
			g.Timeout = dur
		}
	}
	if st.Retries != nil {
		n, d := s.intValueCtx(st.Retries, ctx, "retries", 0, 100)
		diags = append(diags, d...)
		g.Retries = n
	}
	if st.Sensitive != nil {
		var b bool
		diags = append(diags, constBool(st.Sensitive, &b)...)
		g.Sensitive = b
	}
	return args, g, diags
}

// moduleInputErrs are the errors of the inputs of module namespace n and
// of the calls around it, for host: a value known only now (a capture, a
// host's address or facts) that breaks a variable's type, constraints or
// validations stops the module's steps, as it stops validate and plan when
// it is known then.
//
// Each comes back marked as the call's (CallInputOf): every step of the
// call meets the same one, and reports it only through the call.
func (s *Scope) moduleInputErrs(n *namespace, host cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for ; n != nil && n.mod != nil; n = n.mod.caller {
		for _, v := range n.varList {
			if !s.Recipe.hostVar(n, v.Name) {
				errs := s.inputErrs[nodeKey{n, 'v', v.Name}]
				diags = append(diags, callInput(errs, n.mod, false)...)
				if raw, ok := s.raw[nodeKey{n, 'v', v.Name}]; ok && host != cty.NilVal && !errs.HasErrors() {
					// Its validations that read an input set from host.
					diags = append(diags, callInput(annotate(s.validateInput(n, v, raw, host, true), n.mod.Parent), n.mod, true)...)
				}
			} else if host != cty.NilVal {
				if _, d := s.inputValue(n, v, host); d.HasErrors() {
					diags = append(diags, callInput(annotate(d, n.mod.Parent), n.mod, true)...)
				}
			}
		}
	}
	return diags
}

// CallInput is the Extra of a diagnostic StepArgs returns for an input
// of a module call around the step (its type, constraints or
// validations), rather than for the step itself: every step of the call
// meets the same mistake, so what gathers the steps' diagnostics reports
// it once, for the call (CallInputOf).
type CallInput struct {
	Call *Module // the call whose input it is
	// PerHost: found for the step's host (the input, or an input its
	// validation reads, is set from `host`). Otherwise it is the error
	// the evaluator reported for the input (EvalLocals), the same
	// diagnostic, returned again to refuse the step.
	PerHost bool
	wrapped any // the Extra it replaced
}

// UnwrapDiagnosticExtra is hcl.DiagnosticExtraUnwrapper's.
func (c *CallInput) UnwrapDiagnosticExtra() any { return c.wrapped }

// CallInputOf is d's CallInput, or nil when d is not a call input's.
func CallInputOf(d *hcl.Diagnostic) *CallInput {
	for x := d.Extra; x != nil; {
		if c, ok := x.(*CallInput); ok {
			return c
		}
		u, ok := x.(hcl.DiagnosticExtraUnwrapper)
		if !ok {
			return nil
		}
		x = u.UnwrapDiagnosticExtra()
	}
	return nil
}

// callInput marks copies of diags as errors of an input of call m.
func callInput(diags hcl.Diagnostics, m *Module, perHost bool) hcl.Diagnostics {
	if len(diags) == 0 {
		return nil
	}
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		cp := *d
		cp.Extra = &CallInput{Call: m, PerHost: perHost, wrapped: d.Extra}
		out[i] = &cp
	}
	return out
}

func (s *Scope) intValueCtx(expr hcl.Expression, ctx *hcl.EvalContext, what string, lo, hi int) (int, hcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return 0, diags
	}
	st := &Scope{Recipe: s.Recipe}
	return st.intValue(hcl.StaticExpr(v, expr.Range()), what, lo, hi)
}

func duration(v cty.Value) (time.Duration, error) {
	v, _ = v.Unmark()
	if v.IsNull() {
		return 0, nil
	}
	sv, err := convert.Convert(v, cty.String)
	if err != nil || !sv.IsKnown() {
		return 0, fmt.Errorf("a duration is a string such as \"90s\" or \"5m\"")
	}
	d, err := time.ParseDuration(sv.AsString())
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration; write e.g. \"90s\" or \"5m\"", sv.AsString())
	}
	return d, nil
}

func sortedAttrNames(a hcl.Attributes) []string {
	out := make([]string, 0, len(a))
	for k := range a {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// shorthandArgs builds the argument object of a run or package step
// written as shorthand (run = "...", package = [...]) from the shorthand
// and the run guards, as if they had been written in a kind block.
func shorthandArgs(st *Step, spec hcldec.Spec, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var set [5]setAttr // at most command, creates, unless, env, capture
	n := 0
	eval := func(name string, e hcl.Expression) {
		if e == nil {
			return
		}
		v, d := e.Value(ctx)
		diags = append(diags, d...)
		set[n] = setAttr{name: name, val: v, rng: e.Range()}
		if e == st.Shorthand {
			set[n].shorthand = st.Kind
		}
		n++
	}
	switch st.Kind {
	case "run":
		eval("command", st.Shorthand)
		eval("creates", st.Creates)
		eval("unless", st.Unless)
		eval("env", st.Env)
		if len(st.Capture) > 0 {
			capture := map[string]cty.Value{}
			for _, k := range sortedAttrNames(st.Capture) {
				v, d := st.Capture[k].Expr.Value(ctx)
				diags = append(diags, d...)
				capture[k] = v
			}
			set[n] = setAttr{name: "capture", val: cty.ObjectVal(capture), rng: st.Shorthand.Range()}
			n++
		}
	case "package":
		eval("names", st.Shorthand)
	}
	ty, names := st.impliedType(spec)
	args, d := objectForSpec(ty, names, set[:n], st.Shorthand.Range())
	return args, append(diags, d...)
}

// setAttr is one attribute given a value, and where it was written.
// shorthand is the attribute the recipe wrote ("run", "package") when the
// value is a shorthand's: a mistake in it is named as written.
type setAttr struct {
	name      string
	val       cty.Value
	rng       hcl.Range
	shorthand string
}

// shorthandTypeHint says what a run or package shorthand takes, in the
// recipe's own terms.
var shorthandTypeHint = map[string]string{
	"run":     `run must be a shell command, a string (a heredoc, <<-EOT ... EOT, for several lines)`,
	"package": `package must be a list of package names, e.g. package = ["rsync", "xfsprogs"], even for one package`,
}

// objectForSpec builds a kind's argument object (type ty, attribute names
// sorted in names) from the attributes set, as if they had been written in
// a block: missing attributes are null. A value of the wrong type is
// reported where it was written.
func objectForSpec(ty cty.Type, names []string, set []setAttr, rng hcl.Range) (cty.Value, hcl.Diagnostics) {
	if !ty.IsObjectType() {
		return cty.DynamicVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Kind has no object spec", Subject: rng.Ptr()}}
	}
	out := make(map[string]cty.Value, len(names))
	var diags hcl.Diagnostics
	for _, name := range names {
		aty := ty.AttributeType(name)
		out[name] = cty.NullVal(aty)
		for _, a := range set {
			if a.name != name || a.val.IsNull() {
				continue
			}
			cv, err := convert.Convert(a.val, aty)
			if err != nil {
				summary, detail := "Invalid value for "+name, fmt.Sprintf("%s must be %s: %s.", name, typeexpr.TypeString(aty), err)
				if hint := shorthandTypeHint[a.shorthand]; hint != "" {
					summary, detail = "Invalid value for "+a.shorthand, fmt.Sprintf("%s: %s.", hint, err)
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: a.rng.Ptr()})
				cv = cty.UnknownVal(aty)
			}
			out[name] = cv
		}
	}
	return cty.ObjectVal(out), diags
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// CaptureKeys lists the outputs a step produces.
func (st *Step) CaptureKeys() []string { return sortedAttrNames(st.Capture) }

// StepVal builds `step.<name>` from per-host outputs (nil map = not known
// yet). outputs is `step.x.outputs` when the step has one instance;
// `step.x.hosts["server[1]"].outputs` always works.
func (st *Step) StepVal(hostOrder []string, outputs map[string]map[string]string, sensitive bool) cty.Value {
	keys := st.CaptureKeys()
	objFor := func(m map[string]string) cty.Value {
		if len(keys) == 0 {
			return cty.EmptyObjectVal
		}
		vals := map[string]cty.Value{}
		for _, k := range keys {
			v := unknownString
			if m != nil {
				if s, ok := m[k]; ok {
					v = cty.StringVal(s)
				}
			}
			if sensitive {
				v = v.Mark(Sensitive)
			}
			vals[k] = v
		}
		return cty.ObjectVal(vals)
	}
	hosts := map[string]cty.Value{}
	for _, h := range hostOrder {
		hosts[h] = cty.ObjectVal(map[string]cty.Value{"outputs": objFor(outputs[h])})
	}
	single := cty.NullVal(objFor(nil).Type())
	if len(hostOrder) == 1 {
		single = objFor(outputs[hostOrder[0]])
	}
	hv := cty.EmptyObjectVal
	if len(hosts) > 0 {
		hv = cty.ObjectVal(hosts)
	}
	return cty.ObjectVal(map[string]cty.Value{"outputs": single, "hosts": hv})
}

// staticOn resolves the common forms `hosts.G` and `hosts.G[N]` without
// materializing host objects: with 10,000 hosts that is most of the cost.
func (s *Scope) staticOn(expr hcl.Expression) ([]string, bool) {
	tr, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() || len(tr) < 2 || len(tr) > 3 || tr.RootName() != "hosts" {
		return nil, false
	}
	group := attrName(tr[1])
	list, ok := s.Hosts[group]
	if !ok || !list.IsKnown() || list.IsNull() || !list.Type().IsListType() {
		return nil, false
	}
	n := list.LengthInt()
	if len(tr) == 2 {
		names := make([]string, n)
		for i := range names {
			names[i] = HostName(group, i)
		}
		return names, true
	}
	idx, ok := tr[2].(hcl.TraverseIndex)
	if !ok || idx.Key.Type() != cty.Number {
		return nil, false
	}
	i, acc := idx.Key.AsBigFloat().Int64()
	if acc != 0 || i < 0 || int(i) >= n {
		return nil, false // let evaluation report the error
	}
	return []string{HostName(group, int(i))}, true
}

// impliedType is the object type of the step's kind spec, computed once:
// hcldec.ImpliedType walks the whole spec and shows up at 100,000 instances.
func (st *Step) impliedType(spec hcldec.Spec) (cty.Type, []string) {
	st.impliedOnce.Do(func() {
		st.implied = hcldec.ImpliedType(spec)
		if st.implied.IsObjectType() {
			st.impliedNames = sortedKeys(st.implied.AttributeTypes())
		}
	})
	return st.implied, st.impliedNames
}

// VolumeTypes evaluates each volume's optional `type` (a provider's volume
// type, e.g. "gp3"): group -> volume -> type, "" when unset.
func (r *Recipe) VolumeTypes(vars map[string]cty.Value) (map[string]map[string]string, hcl.Diagnostics) {
	s := &Scope{Recipe: r, Vars: vars}
	diags := s.EvalLocals()
	out := map[string]map[string]string{}
	for _, g := range r.Groups {
		out[g.Name] = map[string]string{}
		for _, v := range g.Volumes {
			if v.Type == nil {
				continue
			}
			val, d := v.Type.Value(s.Ctx(cty.NilVal))
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			val, _ = val.Unmark()
			sv, err := convert.Convert(val, cty.String)
			if err != nil || sv.IsNull() || !sv.IsKnown() {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid volume type",
					Detail: fmt.Sprintf("The type of volume %q must be a string known before apply, e.g. \"gp3\".", v.Name), Subject: v.Type.Range().Ptr()})
				continue
			}
			out[g.Name][v.Name] = sv.AsString()
		}
	}
	return out, diags
}

// VerifyCtx is the evaluation context of a verify block's expressions:
// the root recipe's, or its module's.
func (s *Scope) VerifyCtx(v *Verify) *hcl.EvalContext {
	if v.Module == nil {
		return s.Ctx(cty.NilVal)
	}
	return s.ctxIn(v.Module.ns, cty.NilVal)
}

// VerifyHosts evaluates an `on` of verify block v (its own, or its
// failover's) where the block was written.
func (s *Scope) VerifyHosts(v *Verify, expr hcl.Expression) ([]string, hcl.Diagnostics) {
	if v.Module == nil {
		return s.OnHosts(expr)
	}
	return s.onHostsIn(expr, v.Module.ns)
}

// VerifyEnabled evaluates a verify block's `enabled` (true when absent). It
// must be a known bool: anything else is an error naming the attribute.
func (s *Scope) VerifyEnabled(v *Verify) (bool, hcl.Diagnostics) {
	if s.Off(v.Module) {
		return false, nil
	}
	if v.Enabled == nil {
		return true, nil
	}
	val, diags := v.Enabled.Value(s.VerifyCtx(v))
	if diags.HasErrors() {
		return false, diags
	}
	val, _ = val.UnmarkDeep()
	if !val.IsKnown() {
		return true, nil // decided at verify, once the hosts exist
	}
	if val.IsNull() || val.Type() != cty.Bool {
		r := v.Enabled.Range()
		return false, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid verify enabled",
			Detail: fmt.Sprintf("enabled must be true or false (got %s), e.g. enabled = var.gateways > 0.", val.Type().FriendlyName()), Subject: &r}}
	}
	return val.True(), nil
}

// commandValue evaluates a step's destroy or drain command (attr; null
// when expr is nil) as a string, marks kept: a number or bool (a
// variable without a type given -var undo=true) is converted as
// Terraform converts, anything else is an error at the expression (it
// reached the engine as a bool and crashed it).
func commandValue(expr hcl.Expression, ctx *hcl.EvalContext, attr string, diags *hcl.Diagnostics) cty.Value {
	if expr == nil {
		return cty.NullVal(cty.String)
	}
	v, d := expr.Value(ctx)
	*diags = append(*diags, d...)
	if d.HasErrors() {
		return cty.NullVal(cty.String)
	}
	plain, marks := v.UnmarkDeep()
	if plain.Type() == cty.String || !plain.IsKnown() && plain.Type() == cty.DynamicPseudoType {
		return v
	}
	str, err := convert.Convert(plain, cty.String)
	if err != nil {
		*diags = append(*diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + attr,
			Detail:  fmt.Sprintf("%s is a shell command: a string is required, not %s.", attr, plain.Type().FriendlyName()),
			Subject: expr.Range().Ptr(), Expression: expr, EvalContext: ctx})
		return cty.NullVal(cty.String)
	}
	return str.WithMarks(marks)
}

package lang

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// refSet is what an expression (or a local, input or output,
// transitively) reads. Step names are full names (Step.Name).
type refSet struct {
	groups   map[string]hcl.Range
	steps    map[string]hcl.Range
	host     bool
	hostName bool // reads what identifies the host (readsHostName)
	facts    bool // may read host facts (readsFacts), also through a local, input or output
	// broken: a local, input or output it reads had an error, already
	// reported; checks of what it holds would only repeat it.
	broken bool
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
	s.hostName = s.hostName || o.hostName
	s.facts = s.facts || o.facts
	s.broken = s.broken || o.broken
}

// mergeOrder adds what o waits for (its steps and host groups) to s, not
// what o reads of the host: a value that must be known before s is, not
// one s is made from.
func (s *refSet) mergeOrder(o *refSet) {
	s.merge(&refSet{groups: o.groups, steps: o.steps})
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
	// hostInputs: inputs set from `host` at the call may be read, and
	// make the value one that differs per host (a module's output: the
	// error is where the output is read, so that an output of a built-in
	// module nobody reads never stops a call whose input reads host).
	hostInputs bool
	// hint is said after a refused hosts, host or step reference: what
	// to write instead where the rule is not the usual one.
	hint string
}

// enabledHint says where a choice per host goes, since a call's
// lifecycle enabled turns the whole call on or off before hosts exist.
const enabledHint = " It turns the whole call on or off, for all its hosts. A choice per host belongs in the module's steps: " +
	"branch on host.facts in a step's arguments, require it with a precondition block of a step (condition = host.facts.os.id == \"debian\"), " +
	"or pass the call only the hosts its steps should run on (its on, or the input its steps run on)."

// nodeKey names a value other expressions read by name: a local, a
// module's input variable, or a module's output.
type nodeKey struct {
	n    *namespace
	kind byte // 'l' local, 'v' module input, 'o' output, 'e' a call's enabled,
	// 'c' module input name as a validation of another reads it (only on
	// the analyzer's stack, to name a cycle through a validation)
	name string
}

// enabledKey is the node of module namespace n's lifecycle enabled ("" name).
func enabledKey(n *namespace) nodeKey { return nodeKey{n, 'e', ""} }

func (k nodeKey) String() string {
	prefix := ""
	if k.n.mod != nil {
		prefix = k.n.mod.Addr + "."
	}
	switch k.kind {
	case 'l':
		return prefix + "local." + k.name
	case 'v':
		return prefix + "var." + k.name
	case 'e':
		return k.n.mod.Addr + ".lifecycle.enabled"
	case 'c':
		return prefix + "var." + k.name + " (read by its validation)"
	}
	return prefix + "output." + k.name
}

// firstReport says whether the mistake key is reported for the first
// time in this analysis, and marks it reported. Without an analysis
// (nil), every report is the first.
func (a *analyzer) firstReport(key string) bool {
	if a == nil {
		return true
	}
	if a.reported[key] {
		return false
	}
	if a.reported == nil {
		a.reported = map[string]bool{}
	}
	a.reported[key] = true
	return true
}

// analyzer resolves, once each, what locals, inputs and outputs read,
// following them through modules, and finds cycles among them.
type analyzer struct {
	r     *Recipe
	memo  map[nodeKey]*refSet
	state map[nodeKey]int // 1 visiting, 2 done
	stack []nodeKey
	diags hcl.Diagnostics
	// onReported: module inputs already reported as holding no hosts.
	onReported map[*hcl.Attribute]bool
	// reported: diagnostics about module inputs already reported (by
	// summary and subject, or a mistake's key), which several steps of a
	// module may find: firstReport.
	reported map[string]bool
	tooLong  bool // a chain longer than MaxValueChain was reported
	// enabledCycle: modules whose enabled was reported in a cycle.
	enabledCycle map[*namespace]bool
}

// MaxValueChain bounds how many locals, module inputs and outputs one
// value may be read through, each reading the next. Analysis and
// evaluation follow such a chain by recursion: a few files of
// `l2 = local.l1 + 1` lines made it take minutes and gigabytes.
const MaxValueChain = 1000

func (a *analyzer) node(k nodeKey) *refSet {
	switch a.state[k] {
	case 2:
		return a.memo[k]
	case 1:
		a.cycle(k)
		return newRefSet()
	}
	if len(a.stack) >= MaxValueChain {
		if !a.tooLong {
			a.tooLong = true
			a.diags = append(a.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Chain of values too long",
				Detail: fmt.Sprintf("%s is read through a chain of more than %d locals, module inputs and outputs, each reading the next (%s -> %s -> ... -> %s); "+
					"diffuser follows at most %d. Compute the value from fewer intermediate values.%s",
					a.stack[0], MaxValueChain, a.stack[0], a.stack[1], k, MaxValueChain, k.n.mod.calledAt()),
				Subject: a.r.nodeRange(k).Ptr()})
		}
		a.state[k] = 2
		a.memo[k] = newRefSet()
		return a.memo[k]
	}
	a.state[k] = 1
	a.stack = append(a.stack, k)
	set := newRefSet()
	r := a.r
	switch k.kind {
	case 'l':
		l := k.n.locals[k.name]
		trs := l.Expr.Variables()
		s, d := r.check(trs, where{what: "a local", hosts: true, steps: true}, k.n)
		a.diags = append(a.diags, annotate(d, k.n.mod)...)
		if !d.HasErrors() {
			a.diags = append(a.diags, annotate(r.checkRefs(trs, nil, k.n), k.n.mod)...)
		}
		set = s
		set.broken = set.broken || d.HasErrors()
	case 'v':
		m := k.n.mod
		if in := m.Inputs[k.name]; in != nil {
			trs := in.Expr.Variables()
			s, d := r.check(trs, where{what: "a module input", host: true, hosts: true, steps: true}, m.caller)
			a.diags = append(a.diags, annotate(d, m.caller.mod)...)
			if !d.HasErrors() {
				a.diags = append(a.diags, annotate(r.checkRefs(trs, nil, m.caller), m.caller.mod)...)
			}
			set = s
			set.broken = set.broken || d.HasErrors()
			set.hostName = set.hostName || readsHostName(trs)
		}
		// Decided before what reads k runs, whether k is one value or
		// one per host (read from host: decided per instance at apply).
		set.mergeOrder(a.validationReads(k))
	case 'o':
		o := k.n.outputs[k.name]
		trs := o.Value.Variables()
		s, d := r.check(trs, where{what: "an output", hosts: true, steps: true, hostInputs: k.n.mod != nil}, k.n)
		a.diags = append(a.diags, annotate(d, k.n.mod)...)
		if !d.HasErrors() {
			a.diags = append(a.diags, annotate(r.checkRefs(trs, nil, k.n), k.n.mod)...)
		}
		set = s
		set.broken = set.broken || d.HasErrors()
	case 'e':
		m := k.n.mod
		if m.Enabled != nil {
			trs := m.Enabled.Variables()
			// Like a host count: decided before anything runs, from
			// variables and locals (check refuses hosts, steps and host).
			s, d := r.check(trs, where{what: "a module's lifecycle enabled", hint: enabledHint}, m.caller)
			a.diags = append(a.diags, annotate(d, m.caller.mod)...)
			if !d.HasErrors() {
				a.diags = append(a.diags, annotate(r.checkRefs(trs, nil, m.caller), m.caller.mod)...)
			}
			set = s
			set.broken = set.broken || d.HasErrors()
		}
		if m.Parent != nil {
			set.merge(a.node(enabledKey(m.caller)))
		}
	}
	if k.kind != 'e' && k.n.mod != nil {
		// Every value of a module depends on whether its call is on: an
		// enabled that reads the module's own outputs is a cycle.
		set.merge(a.node(enabledKey(k.n)))
	}
	a.stack = a.stack[:len(a.stack)-1]
	a.state[k] = 2
	a.memo[k] = set
	return set
}

// validationReads follows, for module input k (one value for every
// host, or one per host when k reads host), what the inputs its
// validations read are made from: the evaluator computes those before
// it decides k. One of them that needs k's value is a cycle. As in
// Terraform, what they read orders what reads k: the steps and host
// groups those inputs read are returned, so that a step reading k waits
// for them and k's validations are decided before it runs (an input
// made from a capture is known only then).
func (a *analyzer) validationReads(k nodeKey) *refSet {
	order := newRefSet()
	for _, o := range validationInputs(k) {
		in := k.n.mod.Inputs[o.name]
		if in == nil {
			continue
		}
		a.stack = append(a.stack, nodeKey{k.n, 'c', o.name})
		// Its mistakes are reported where the input itself is analyzed.
		s, d := a.r.check(in.Expr.Variables(), where{what: "a module input", host: true, hosts: true, steps: true}, k.n.mod.caller)
		a.stack = a.stack[:len(a.stack)-1]
		if !d.HasErrors() {
			order.mergeOrder(s)
		}
	}
	return order
}

// cycle reports the cycle that reaches k again. A module's enabled is
// read by every value of the module: a cycle through it is reported once.
func (a *analyzer) cycle(k nodeKey) {
	if k.kind == 'e' {
		if a.enabledCycle[k.n] {
			return
		}
		if a.enabledCycle == nil {
			a.enabledCycle = map[*namespace]bool{}
		}
		a.enabledCycle[k.n] = true
	}
	i := len(a.stack) - 1
	for i > 0 && a.stack[i] != k {
		i--
	}
	cyc := a.stack[i:]
	names := make([]string, 0, len(cyc)+1)
	sameLocals := true
	for _, c := range cyc {
		names = append(names, c.String())
		sameLocals = sameLocals && c.kind == 'l' && c.n == k.n
	}
	names = append(names, k.String())
	rng := a.r.nodeRange(k)
	if sameLocals {
		short := make([]string, len(cyc)+1)
		for j, c := range cyc {
			short[j] = c.name
		}
		short[len(cyc)] = k.name
		a.diags = append(a.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle in locals",
			Detail:  fmt.Sprintf("These locals refer to each other: %s. Break the cycle.%s", strings.Join(short, " -> "), k.n.mod.calledAt()),
			Subject: rng.Ptr()})
		return
	}
	a.diags = append(a.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle through modules",
		Detail:  fmt.Sprintf("These values read each other through module inputs and outputs: %s. Break the cycle.", strings.Join(names, " -> ")),
		Subject: rng.Ptr()})
}

func (r *Recipe) nodeRange(k nodeKey) hcl.Range {
	switch k.kind {
	case 'l':
		return k.n.locals[k.name].DeclRange
	case 'v':
		if in := k.n.mod.Inputs[k.name]; in != nil {
			return in.Range
		}
		return k.n.mod.CallRange
	case 'e':
		if k.n.mod.Enabled != nil {
			return k.n.mod.Enabled.Range()
		}
		return k.n.mod.CallRange
	}
	return k.n.outputs[k.name].DeclRange
}

// namespaces lists the root's namespace and every loaded module's.
func (r *Recipe) namespaces() []*namespace {
	out := []*namespace{r.root}
	for _, m := range r.AllModules() {
		out = append(out, m.ns)
	}
	return out
}

// nsOf is the namespace a step is declared in.
func (r *Recipe) nsOf(st *Step) *namespace {
	if st.Module == nil {
		return r.root
	}
	return st.Module.ns
}

// analyze checks every reference and records each step's implicit dependencies.
func (r *Recipe) analyze() hcl.Diagnostics {
	var diags hcl.Diagnostics
	r.readSteps = map[string]bool{}
	r.an = &analyzer{r: r, memo: map[nodeKey]*refSet{}, state: map[nodeKey]int{}}
	diags = append(diags, r.checkModuleCalls()...)
	for _, n := range r.namespaces() {
		for _, l := range n.localList {
			r.an.node(nodeKey{n, 'l', l.Name})
		}
		if n.mod != nil {
			r.an.node(enabledKey(n))
			for _, v := range n.varList {
				r.an.node(nodeKey{n, 'v', v.Name})
			}
			for _, o := range n.outList {
				r.an.node(nodeKey{n, 'o', o.Name})
			}
		}
	}

	for _, g := range r.Groups {
		// A group without count has one host: its volumes are checked too.
		for _, v := range g.Volumes {
			_, d := r.check(v.SizeGB.Variables(), where{what: "a volume size"}, r.root)
			diags = append(diags, d...)
		}
		if g.Count == nil {
			continue
		}
		set, d := r.check(g.Count.Variables(), where{what: "a host count"}, r.root)
		diags = append(diags, d...)
		// check already refuses hosts and steps here, and says so for locals
		// that read them; this catches anything it lets through.
		if !d.HasErrors() && (len(set.groups) > 0 || len(set.steps) > 0) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Host count depends on apply",
				Detail:  fmt.Sprintf("The count of hosts %q must be known before anything runs: use variables and locals, not hosts or step outputs.", g.Name),
				Subject: g.Count.Range().Ptr()})
		}
	}
	for _, s := range r.Steps {
		own, call := r.analyzeStep(s)
		diags = append(diags, annotate(own, s.Module)...)
		diags = append(diags, call...)
	}
	for _, v := range r.Verifies {
		diags = append(diags, annotate(r.analyzeVerify(v), v.Module)...)
	}
	for _, o := range r.Outputs {
		set, d := r.check(o.Value.Variables(), where{what: "an output", hosts: true, steps: true}, r.root)
		diags = append(diags, d...)
		if !d.HasErrors() {
			diags = append(diags, r.checkRefs(o.Value.Variables(), nil, r.root)...)
		}
		o.RefSteps, o.RefGroups = sortedRefs(set.steps), sortedRefs(set.groups)
	}
	diags = append(diags, r.analyzePreconditions(r.root)...)
	diags = append(diags, r.checkValidationRefs()...)
	diags = append(diags, r.analyzeReplaceNotes()...)
	diags = append(diags, r.an.diags...)
	diags = append(diags, r.checkMoved()...)
	if !diags.HasErrors() {
		// Follows every value into the commands: a recipe with a broken
		// reference or a cycle has its errors to fix first.
		diags = append(diags, r.analyzeShell()...)
	}
	return diags
}

// readsHostsInputs says whether every input of module namespace n that e
// reads is declared with a type that may hold hosts (a collection, an
// object or any), so that no hosts in it is the value at the call, not
// the module's use of a string or a number as hosts.
func readsHostsInputs(n *namespace, e hcl.Expression) bool {
	read := false
	for _, tr := range e.Variables() {
		if tr.RootName() != "var" || len(tr) < 2 {
			continue
		}
		v := n.vars[attrName(tr[1])]
		if v == nil || v.Type.IsPrimitiveType() {
			return false
		}
		read = true
	}
	return read
}

// analyzeVerify checks a verify block's references where it was written:
// in the root recipe, or in its module.
func (r *Recipe) analyzeVerify(v *Verify) hcl.Diagnostics {
	var diags hcl.Diagnostics
	n := r.root
	if v.Module != nil {
		n = v.Module.ns
	}
	var exprs, ons []hcl.Expression
	if v.S3 != nil {
		exprs = v.S3.Exprs()
	} else {
		exprs, ons = []hcl.Expression{v.Path}, []hcl.Expression{v.On}
	}
	if v.Enabled != nil {
		exprs = append(exprs, v.Enabled)
	}
	if f := v.Failover; f != nil {
		exprs = append(exprs, f.Stop, f.Start)
		ons = append(ons, f.On)
	}
	for _, e := range exprs {
		_, d := r.check(e.Variables(), where{what: "verify", hosts: true, steps: true}, n)
		diags = append(diags, d...)
		if !d.HasErrors() {
			diags = append(diags, r.checkRefs(e.Variables(), nil, n)...)
		}
	}
	for _, e := range ons {
		set, d := r.check(e.Variables(), where{what: "on", hosts: true}, n)
		diags = append(diags, d...)
		if len(set.groups) == 0 && !d.HasErrors() && v.Module != nil && readsHostsInputs(n, e) {
			// on reads inputs that may hold hosts, and the call gives
			// none: the caller's mistake, as for the module's steps.
			inDiags, fromInput, missing := r.inputsWithoutHosts(n, e, "the module's verify blocks run on it ("+v.Name)
			if fromInput || missing {
				diags = append(diags, inDiags...)
				continue
			}
		}
		if len(set.groups) == 0 && !d.HasErrors() {
			how := "write `on = hosts.<group>`, a single host `hosts.<group>[0]`, or a list of them"
			if v.Module != nil {
				how = "pass the hosts in as an input (e.g. clients = hosts.client at the module call) and write `on = var.clients`"
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "on names no hosts",
				Detail: fmt.Sprintf("Verify %q must run on hosts: %s.", v.Name, how), Subject: e.Range().Ptr()})
		}
	}
	return diags
}

// analyzeStep checks one step's references and records what it reads.
// own are the step's mistakes (in its module); call those of the module
// calls around it (their after), each already naming where it is.
func (r *Recipe) analyzeStep(s *Step) (own, call hcl.Diagnostics) {
	var diags hcl.Diagnostics
	n := r.nsOf(s)
	var onCall *Module // the call whose on the step inherits
	if s.On == nil && s.Module != nil {
		m := s.Module
		for m != nil && m.On == nil {
			m = m.Parent
		}
		if m == nil {
			diags = append(diags, r.missingOn(s)...)
		} else {
			s.On, s.onNS, onCall = m.On, m.caller, m
		}
	}
	var onGroups []string
	if s.On != nil {
		onNS := n
		if s.onNS != nil {
			onNS = s.onNS
		}
		set, d := r.check(s.On.Variables(), where{what: "on", hosts: true}, onNS)
		diags = append(diags, d...)
		onGroups = keys(set.groups)
		s.OnGroups = onGroups
		if len(set.groups) == 0 && !d.HasErrors() && !set.broken {
			diags = append(diags, r.onNoHosts(s, onNS, onCall)...)
		}
	}
	var trs []hcl.Traversal
	for _, e := range []hcl.Expression{s.Shorthand, s.Creates, s.Unless, s.Env, s.Timeout, s.Retries, s.Sensitive, s.Destroy, s.Drain} {
		if e != nil {
			trs = append(trs, e.Variables()...)
		}
	}
	for _, a := range s.Capture {
		trs = append(trs, a.Expr.Variables()...)
	}
	for _, p := range s.Preconditions {
		for _, e := range p.Exprs() {
			trs = append(trs, e.Variables()...)
		}
	}
	if s.KindBody != nil {
		spec := r.kinds[s.Kind]
		trs = append(trs, kindSpecVariables(s.KindBody, spec)...)
		if spec != nil {
			// Decoding once with no context surfaces unknown or missing
			// attributes now, before anything runs.
			_, d := r.decodeSchemaOnly(s.KindBody, spec, n)
			diags = append(diags, d...)
		}
	}
	set, d := r.check(trs, where{what: "a step", host: true, hosts: true, steps: true}, n)
	diags = append(diags, d...)
	if !d.HasErrors() {
		diags = append(diags, r.checkRefs(trs, onGroups, n)...)
		diags = append(diags, r.checkInputHostRefs(trs, onGroups, n)...)
		diags = append(diags, r.checkStepValues(s, n)...)
	}
	if rng, ok := set.steps[s.Name]; ok {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step refers to itself",
			Detail: fmt.Sprintf("Step %q reads its own outputs; a step cannot depend on itself.", s.BaseName), Subject: rng.Ptr()})
		delete(set.steps, s.Name)
	}
	s.RefSteps, s.RefGroups, s.UsesHost = sortedRefs(set.steps), sortedRefs(set.groups), set.host
	diags = append(diags, r.analyzeWhenReplaced(s)...)
	s.UsesHostName = readsHostName(trs) || set.hostName
	s.ReadsFacts = readsFacts(trs) || set.facts
	for n := n; n != nil && n.mod != nil; n = n.mod.caller {
		for _, v := range n.varList {
			if in := r.an.memo[nodeKey{n, 'v', v.Name}]; in != nil && in.host {
				s.HostInputs = true
				s.UsesHostName = s.UsesHostName || in.hostName
			}
		}
	}
	var d2 hcl.Diagnostics
	s.After, d2 = r.resolveAfter(s, s.After, n)
	diags = append(diags, d2...)
	s.AfterAll, d2 = r.resolveAfter(s, s.AfterAll, n)
	diags = append(diags, d2...)
	// restart_on and reload_on name steps as after does (each is in After
	// too); resolved here so the engine finds them by full address. Errors
	// were reported once, through After.
	s.RestartOn, _ = r.resolveAfter(s, s.RestartOn, n)
	s.ReloadOn, _ = r.resolveAfter(s, s.ReloadOn, n)
	// A module call's after applies to every step inside it. Its mistakes
	// are the caller's: they name the module around the call, if any,
	// not the one called.
	var callDiags hcl.Diagnostics
	for m := s.Module; m != nil; m = m.Parent {
		refs, d := r.resolveAfter(s, m.After, m.caller)
		if len(m.Steps) > 0 && s == m.Steps[0] {
			callDiags = append(callDiags, annotate(d, m.Parent)...) // once per call, not per step
		}
		s.After = append(s.After, refs...)
		// The call's restart_on and reload_on are its service steps'.
		if s.Kind == "service" {
			restart, d := r.resolveAfter(s, m.RestartOn, m.caller)
			reload, d2 := r.resolveAfter(s, m.ReloadOn, m.caller)
			if s == m.firstService() {
				callDiags = append(callDiags, annotate(append(d, d2...), m.Parent)...)
			}
			s.RestartOn = append(s.RestartOn, restart...)
			s.ReloadOn = append(s.ReloadOn, reload...)
			s.After = append(append(s.After, restart...), reload...)
		}
	}
	return diags, callDiags
}

// selfRefHint says why a step cannot name itself in attr.
func selfRefHint(attr string) string {
	switch attr {
	case "restart_on", "reload_on":
		return fmt.Sprintf(" A step in %s runs before the service it restarts; a service restarts on its own change by itself.", attr)
	}
	return ""
}

// resolveAfter turns after entries as written in namespace n into full
// step names: module.X stands for every step of module X, nested too.
func (r *Recipe) resolveAfter(s *Step, refs []Ref, n *namespace) ([]Ref, hcl.Diagnostics) {
	var out []Ref
	var diags hcl.Diagnostics
	for _, ref := range refs {
		if !ref.Module && ref.Name == s.Name && n == r.nsOf(s) || !ref.Module && n == r.nsOf(s) && ref.Name == s.BaseName && s.Module != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step waits for itself",
				Detail: fmt.Sprintf("Step %q lists itself in %s; remove it.%s", s.BaseName, ref.Attr, selfRefHint(ref.Attr)), Subject: ref.Range.Ptr()})
			continue
		}
		if ref.Module {
			m := n.mods[ref.Name]
			if m == nil {
				diags = append(diags, unknownRef("module", ref.Name, ref.Range, keys(n.mods)))
				continue
			}
			for _, st := range r.Steps {
				if st != s && st.Module != nil && (st.Module == m || strings.HasPrefix(st.Module.Addr, m.Addr+".")) {
					out = append(out, Ref{Name: st.Name, Range: ref.Range, Attr: ref.Attr})
				}
			}
			continue
		}
		st := n.steps[ref.Name]
		if st == nil {
			d := unknownRef("step", ref.Name, ref.Range, keys(n.steps))
			d.Detail += callerStepHint(n, ref)
			diags = append(diags, d)
			continue
		}
		out = append(out, Ref{Name: st.Name, Range: ref.Range, Attr: ref.Attr})
	}
	return out, diags
}

// callerStepHint says, for ref naming no step of module namespace n, that
// a module cannot see the steps of the namespaces around it when one of
// them has a step of that name, and that the call is where it is named
// (a call's after, restart_on and reload_on are its steps'). "" otherwise.
// It names no call, so that the mistake in a module called twice reads
// the same through both calls and is one error naming them (the "(In
// ...)" note that follows).
func callerStepHint(n *namespace, ref Ref) string {
	st := callerStep(n, ref.Name)
	if st == nil {
		return ""
	}
	attr, does := "after", "a call's after orders every step in it"
	switch ref.Attr {
	case "restart_on":
		attr, does = "restart_on", "a call's restart_on is that of every service step in it, nested calls included"
	case "reload_on":
		attr, does = "reload_on", "a call's reload_on is that of every service step in it, nested calls included"
	}
	return fmt.Sprintf(" A module cannot see its caller's steps: step.%s is declared at %s, outside the module. Name it in the %s of the call instead (%s = [step.%s] in the module block that calls this module; the calls are named below): %s.",
		ref.Name, rangeString(st.DeclRange), attr, attr, ref.Name, does)
}

// callerReadHint is callerStepHint for an expression reading
// step.NAME.outputs.KEY (key: "" when it reads no key): what the module
// needs from the caller's step comes in as an input.
func callerReadHint(n *namespace, name, key string) string {
	st := callerStep(n, name)
	if st == nil {
		return ""
	}
	eg := fmt.Sprintf("%s = step.%s.outputs.KEY", name, name)
	if key != "" {
		eg = fmt.Sprintf("%s_%s = step.%s.outputs.%s", name, key, name, key)
	}
	return fmt.Sprintf(" A module cannot see its caller's steps: step.%s is declared at %s, outside the module. Pass what the module needs in as an input instead: a variable of the module, set in the module block that calls it (e.g. %s; the calls are named below).",
		name, rangeString(st.DeclRange), eg)
}

// callerStep is the step called name of the nearest namespace around
// module namespace n that declares one; nil when none does (or n is the
// root).
func callerStep(n *namespace, name string) *Step {
	for m := n.mod; m != nil; m = m.caller.mod {
		if st := m.caller.steps[name]; st != nil {
			return st
		}
	}
	return nil
}

// checkModuleCalls checks each call's inputs against the module's
// variables: unknown inputs and missing required ones.
func (r *Recipe) checkModuleCalls() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, m := range r.AllModules() {
		if len(m.RestartOn)+len(m.ReloadOn) > 0 && m.firstService() == nil {
			rng := m.ReloadOn
			if len(m.RestartOn) > 0 {
				rng = m.RestartOn
			}
			diags = append(diags, annotate(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Module call restarts nothing",
				Detail: fmt.Sprintf("A call's restart_on and reload_on are its service steps', and %s (%s) has none. Name the step in restart_on of the step that should run again "+
					"(a service step, or a run step to run its command again).", m.written(), m.Source),
				Subject: rng[0].Range.Ptr()}}, m.Parent)...)
		}
		// A misspelt input is one mistake: the variable it was meant for
		// is not reported missing too.
		meant := map[string]bool{}
		for _, k := range sortedAttrNames(m.Inputs) {
			if m.ns.vars[k] == nil {
				a := m.Inputs[k]
				d := unknownRef("module input", k, a.NameRange, keys(m.ns.vars))
				d.Detail = fmt.Sprintf("Module %s (%s) has no variable %q.", m.written(), m.Source, k)
				if hint := unknownInputHint[k]; hint != "" {
					d.Detail += " " + hint
				} else if s := suggest(k, keys(m.ns.vars)); s != "" {
					meant[s] = true
					d.Detail += fmt.Sprintf(" Did you mean %q?", s)
				} else if s := suggest(k, callArguments); s != "" {
					d.Detail += fmt.Sprintf(" Did you mean %s, the call's own argument (%s)?", s, callArgumentHelp[s])
				} else if len(m.ns.vars) > 0 {
					d.Detail += " Its inputs: " + strings.Join(keys(m.ns.vars), ", ") + "."
				} else {
					d.Detail += " It takes no inputs."
				}
				diags = append(diags, annotate(hcl.Diagnostics{d}, m.Parent)...)
			}
		}
		for _, v := range m.ns.varList {
			if d := oneHostForList(m, v); d != nil {
				diags = append(diags, annotate(hcl.Diagnostics{d}, m.Parent)...)
			}
			if m.Inputs[v.Name] == nil && v.Default == cty.NilVal && !meant[v.Name] {
				d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing module input",
					Detail: fmt.Sprintf("Module %s (%s) needs input %q (declared at %s%s): add %s = ... to the module block.",
						m.written(), m.Source, v.Name, rangeString(v.DeclRange), describe(v.Description), v.Name),
					Subject: m.CallRange.Ptr()}
				if m.On != nil && r.runsOnInput(m, v.Name) {
					d.Detail += fmt.Sprintf(" The module's steps run on var.%s, not on the call's on: write %s = <the hosts> in place of on.", v.Name, v.Name)
				}
				diags = append(diags, annotate(hcl.Diagnostics{d}, m.Parent)...)
			}
		}
	}
	return diags
}

// oneHostForList reports an input of a list type given one host
// (hosts.G[i]): before apply a host's addresses are unknown, so the value
// would pass as unknown and the module's steps on it would be "not known
// before apply" inside the module, far from the mistake.
func oneHostForList(m *Module, v *Variable) *hcl.Diagnostic {
	in := m.Inputs[v.Name]
	if in == nil || !(v.Type.IsListType() || v.Type.IsSetType()) {
		return nil
	}
	tr, d := hcl.AbsTraversalForExpr(in.Expr)
	if d.HasErrors() || len(tr) != 3 || tr.RootName() != "hosts" {
		return nil
	}
	idx, ok := tr[2].(hcl.TraverseIndex)
	if !ok {
		return nil
	}
	key := "..."
	if k := idx.Key; k.IsKnown() && !k.IsNull() && k.Type() == cty.Number {
		key = k.AsBigFloat().Text('f', -1)
	}
	one := fmt.Sprintf("hosts.%s[%s]", attrName(tr[1]), key)
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for module input",
		Detail: fmt.Sprintf("%s is one host, and input %s of %s (%s) is a %s: write %s = [%s].",
			one, v.Name, m.Addr, m.Source, typeexpr.TypeString(v.Type), v.Name, one),
		Subject: in.Expr.Range().Ptr()}
}

func describe(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// check validates traversals for a scope of namespace n and returns what
// they read, following locals, module inputs and outputs.
func (r *Recipe) check(trs []hcl.Traversal, w where, n *namespace) (*refSet, hcl.Diagnostics) {
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
		// mergeNode adds what a local, input or output reads, if this
		// scope may read it.
		mergeNode := func(what string, lr *refSet) {
			if lr.broken { // its own error is reported: not again through what reads it
				set.merge(lr)
				return
			}
			if (len(lr.groups) > 0 && !w.hosts) || (len(lr.steps) > 0 && !w.steps) {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value not known yet",
					Detail:  fmt.Sprintf("%s reads hosts or step outputs, which %s cannot use.", what, w.what),
					Subject: rng.Ptr()})
				return
			}
			if lr.host && !w.host && !w.hostInputs {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value differs per host",
					Detail:  fmt.Sprintf("%s is set from `host` at the module call, and `host` differs per step instance; %s has no host. Read it in a step's arguments instead.", what, w.what),
					Subject: rng.Ptr()})
				return
			}
			set.merge(lr)
		}
		switch root {
		case "var":
			if !needName("var") {
				break
			}
			if n.vars[second] == nil {
				diags = append(diags, unknownRef("variable", second, rng, keys(n.vars)))
			} else if n.mod != nil && r.an != nil {
				mergeNode("var."+second, r.an.node(nodeKey{n, 'v', second}))
			}
		case "local":
			if needName("local") {
				if n.locals[second] == nil {
					diags = append(diags, unknownRef("local value", second, rng, keys(n.locals)))
				} else if r.an != nil {
					mergeNode("local."+second, r.an.node(nodeKey{n, 'l', second}))
				}
			}
		case "hosts":
			switch {
			case n.mod != nil:
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "hosts not available in a module",
					Detail: "Host groups belong to the root recipe: pass the hosts in as an input (e.g. servers = hosts.server at the module call) and read var.servers here.", Subject: rng.Ptr()})
			case !w.hosts:
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "hosts not available here",
					Detail: fmt.Sprintf("%s must be known before hosts exist: use variables and locals.%s", w.what, w.hint), Subject: rng.Ptr()})
			case needName("hosts"):
				if r.groupIdx[second] == nil {
					diags = append(diags, unknownRef("host group", second, rng, r.groupNames()))
				} else {
					set.groups[second] = rng
				}
			}
			set.facts = set.facts || readsFacts([]hcl.Traversal{tr})
		case "host":
			if !w.host {
				// What to name instead: where hosts are refused too (a
				// count, a precondition, enabled) or in a module (hosts
				// belong to the root), hosts.<group>[i] would be refused next.
				instead := " Use hosts.<group>[i]."
				switch {
				case !w.hosts:
					instead = " It is decided before hosts exist: use variables and locals."
				case n.mod != nil:
					instead = " A module cannot read hosts either: name a host of an input that holds hosts (var.servers[i], with servers = hosts.server at the module call)."
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "host not available here",
					Detail: fmt.Sprintf("`host` is the host a step instance runs on; %s has none.%s%s", w.what, instead, w.hint), Subject: rng.Ptr()})
			}
			set.host = true
			set.facts = set.facts || readsFacts([]hcl.Traversal{tr})
		case "step":
			if !w.steps {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "step outputs not available here",
					Detail: fmt.Sprintf("%s must be known before any step runs.%s", w.what, w.hint), Subject: rng.Ptr()})
			} else if needName("step") {
				if st := n.steps[second]; st == nil {
					d := unknownRef("step", second, rng, keys(n.steps))
					key := ""
					if len(tr) > 3 && attrName(tr[2]) == "outputs" {
						key = attrName(tr[3])
					}
					d.Detail += callerReadHint(n, second, key)
					diags = append(diags, d)
				} else {
					set.steps[st.Name] = rng
					if r.readSteps != nil {
						r.readSteps[st.Name] = true
					}
				}
			}
		case "module":
			if !needName("module") {
				break
			}
			m := n.mods[second]
			if m == nil {
				diags = append(diags, unknownRef("module", second, rng, keys(n.mods)))
				break
			}
			if m.ns == nil || r.an == nil {
				break // its loading failed, and said why
			}
			// readOutput adds what output o of m reads; one made from an
			// input the call sets from host has no single value to read.
			readOutput := func(o string) {
				lr := r.an.node(nodeKey{m.ns, 'o', o})
				if lr.host && !lr.broken {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value differs per host",
						Detail: fmt.Sprintf("%s.%s is made from an input that the module call sets from `host` (at %s), and `host` differs per step instance, "+
							"while an output has one value for all hosts. Compute the value here from host instead, or give that input one value for every host.",
							m.Addr, o, rangeString(m.CallRange)),
						Subject: rng.Ptr()})
					return
				}
				mergeNode(m.Addr+"."+o, lr)
			}
			if len(tr) < 3 {
				for _, o := range m.ns.outList {
					readOutput(o.Name)
				}
				break
			}
			out, _ := stepName(tr[2])
			if m.ns.outputs[out] == nil {
				d := unknownRef("module output", out, tr[2].SourceRange(), keys(m.ns.outputs))
				d.Detail = fmt.Sprintf("Module %s (%s) has no output %q.", m.written(), m.Source, out)
				switch {
				case out == "step" || out == "local" || out == "module" || out == "var":
					d.Detail += fmt.Sprintf(" A caller reads a module only through its output blocks (module.%s.NAME), not its steps, locals or inputs (module.%s.%s…): an output block of the module exports what callers need.", m.Name, m.Name, out)
				case m.ns.vars[out] != nil && m.Inputs[out] != nil:
					d.Detail += fmt.Sprintf(" %s is an input of the module, set at %s: read that value where the call gets it, or have the module export it in an output block.", out, rangeString(m.Inputs[out].Expr.Range()))
				}
				if s := suggest(out, keys(m.ns.outputs)); s != "" {
					d.Detail += fmt.Sprintf(" Did you mean %q?", s)
				} else if len(m.ns.outputs) > 0 {
					d.Detail += " Its outputs: " + strings.Join(keys(m.ns.outputs), ", ") + "."
				} else {
					d.Detail += " It declares no output blocks."
				}
				diags = append(diags, d)
				break
			}
			readOutput(out)
		default:
			detail := fmt.Sprintf("%q is not something a recipe can refer to. Valid roots: var, local, hosts, host, step, module.", root)
			if src := r.source(rng); src != "" && r.interpolated(rng) {
				detail += fmt.Sprintf(" If ${%s} is for the shell (or systemd, or whatever reads the string), write $${%s}: HCL reads $${ as a literal ${ ($%s without braces needs no escape).", src, src, root)
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown reference",
				Detail: detail, Subject: rng.Ptr()})
		}
	}
	return set, diags
}

// source is the text of rng in its file, "" when the file is not known.
func (r *Recipe) source(rng hcl.Range) string {
	b := r.fileBytes(rng.Filename)
	if rng.Start.Byte < 0 || rng.End.Byte > len(b) || rng.Start.Byte >= rng.End.Byte {
		return ""
	}
	return string(b[rng.Start.Byte:rng.End.Byte])
}

// interpolated says whether rng is the first thing inside a template
// interpolation, ${NAME} (or ${~ NAME}): what a shell or systemd variable
// written in a string looks like to HCL.
func (r *Recipe) interpolated(rng hcl.Range) bool {
	b := r.fileBytes(rng.Filename)
	if rng.Start.Byte > len(b) {
		return false
	}
	before := strings.TrimRight(string(b[:rng.Start.Byte]), " \t")
	before = strings.TrimSuffix(before, "~")
	return strings.HasSuffix(before, "${") && !strings.HasSuffix(before, "$${")
}

// fileBytes is the source of a parsed recipe or module file.
func (r *Recipe) fileBytes(name string) []byte {
	if r.parser == nil {
		return nil
	}
	if f := r.parser.Files()[name]; f != nil {
		return f.Bytes
	}
	return nil
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
	if len(name) > maxSuggestLen {
		return "" // no one mistypes that much; comparing costs len²
	}
	best, bestD := "", 3
	for _, k := range known {
		if abs(len(k)-len(name)) >= bestD {
			continue // at least that many insertions or deletions
		}
		if d := levenshteinBelow(name, k, bestD); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" && len(name) >= 3 {
		// A name without its suffix (memory for memory_mb): the one known
		// name it begins.
		for _, k := range known {
			if strings.HasPrefix(k, name) {
				if best != "" {
					return ""
				}
				best = k
			}
		}
	}
	return best
}

// maxSuggestLen bounds the names suggest looks for neighbours of: it
// runs for every unknown name a recipe writes, against every known one.
const maxSuggestLen = 100

func abs(n int) int { return max(n, -n) }

// levenshteinBelow is the edit distance between a and b when it is below
// limit, else limit (it stops once every path costs that much).
func levenshteinBelow(a, b string, limit int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

func (r *Recipe) groupNames() []string { return keys(r.groupIdx) }

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
func (r *Recipe) unknownCtx(n *namespace) *hcl.EvalContext {
	return withForBudget(&hcl.EvalContext{Functions: n.funcs, Variables: map[string]cty.Value{
		"var": cty.DynamicVal, "local": cty.DynamicVal, "hosts": cty.DynamicVal,
		"host": cty.DynamicVal, "step": cty.DynamicVal, "module": cty.DynamicVal,
	}})
}

// decodeSchemaOnly decodes a kind body with every variable unknown, so that
// unknown attributes, missing required ones and wrong literal types are
// reported at load time.
func (r *Recipe) decodeSchemaOnly(body hcl.Body, spec hcldec.Spec, n *namespace) (cty.Value, hcl.Diagnostics) {
	v, diags := hcldec.Decode(body, spec, r.unknownCtx(n))
	return v, misspeltNotMissing(diags)
}

// bodyContent is body.Content(schema) with a misspelt required argument
// reported once (misspeltNotMissing).
func bodyContent(body hcl.Body, schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	content, diags := body.Content(schema)
	return content, misspeltNotMissing(diags)
}

// misspeltNotMissing drops HCL's "Missing required argument" for an
// argument that an "Unsupported argument" of the same body was meant to be
// (its "Did you mean"): a misspelt argument is one mistake, reported where
// it is written, as a misspelt module input is.
func misspeltNotMissing(diags hcl.Diagnostics) hcl.Diagnostics {
	out := diags[:0:0]
	for _, d := range diags {
		if d.Summary == "Missing required argument" {
			if _, after, ok := strings.Cut(d.Detail, "The argument \""); ok {
				if name, _, ok := strings.Cut(after, "\""); ok && misspelt(diags, name) {
					continue
				}
			}
		}
		out = append(out, d)
	}
	return out
}

// checkStepValues does for a step's shorthand (run = "...", package = [...])
// and generic attributes what decodeSchemaOnly does for kind blocks: values
// of the wrong type, unknown functions and bad literals (timeout = "soon")
// are reported at load time rather than at plan or apply.
func (r *Recipe) checkStepValues(s *Step, n *namespace) hcl.Diagnostics {
	ctx := r.unknownCtx(n)
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
	if s.Drain != nil {
		if len(s.WhenReplaced) == 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "drain without when_replaced",
				Detail:  "drain runs on the old machine of a replaced host before it is destroyed: only a replacement step (when_replaced = hosts.GROUP, on those same hosts) has one.",
				Subject: s.Drain.Range().Ptr()})
		}
		v, d := s.Drain.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if _, err := convert.Convert(v, cty.String); err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid drain",
					Detail: fmt.Sprintf("drain is a shell command run on the old machine before it is destroyed: %s.", err), Subject: s.Drain.Range().Ptr()})
			}
		}
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

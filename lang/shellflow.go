package lang

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// This file is a static taint analysis of a loaded recipe: which values
// reach a place a shell (or systemd, for a unit file) reads, and whether
// each is quoted there or held by its declaration to characters no shell
// treats specially. Each one that is neither is a warning: nothing a user
// types should become shell code unless the recipe says so, but a recipe
// may mean to paste a command, so it is not an error.
//
// Shell-read places (sinks): a step's run, unless, destroy and drain,
// its capture commands, a wait block's command, a verify failover's stop
// and start, and the content of a file step whose file is executed (a
// path under a bin or sbin directory, a systemd unit or drop-in, or an
// executable mode). Not sinks: the arguments of the declarative kinds
// (mount source, target and options, service names, package names,
// format labels, file paths, owners and modes, a wait's host, a run's
// creates and env), which steps quotes itself (steps
// TestHostileValuesStayData).
//
// Sources: var.X of the recipe (what a user types: -var, var files, site
// and workspace settings) unless its declaration holds it (shellsafe.go);
// var.X of a module the same, else whatever its call passes for it,
// traced back into the caller; local.X and module.X.OUT through their
// expressions; step.X.outputs (a capture) and host.facts (what a host
// printed). host.private_ip, hostname, index, volume devices and the
// like are checked where they enter (state.Check*, the providers'
// setting checks) and pass; host.name is a glob to a shell but no user
// types it, so it is listed (HostNames), not warned of. shellquote(...)
// and functions whose result holds no character of their arguments
// (length, sha256, ...) stop a value; a conditional's condition and an
// index's key are not part of the value. Each local, module input and
// output is followed once per path into it (memo), so a chain of values
// each read twice costs its length, not 2^length.

// ShellFlow is what the analysis found in a recipe (Recipe.ShellFlow).
type ShellFlow struct {
	// Warnings are the values that reach a shell unquoted and
	// unconstrained, one per source and command attribute; Load returns
	// them with its other diagnostics.
	Warnings hcl.Diagnostics
	// Sinks counts the shell-read expressions analysed (each module
	// instance's), Refs the references followed.
	Sinks, Refs int
	// Held are the variables ("DECLFILE var.NAME.PATH") that reach a
	// shell-read place and whose declaration holds them.
	Held []string
	// HostNames are where host.name (GROUP[INDEX]) reaches a shell-read
	// place unquoted: [ and ] make it a glob there, but no user types
	// it, so it is no warning. The built-in recipes have none (they
	// write host.hostname).
	HostNames []hcl.Range
}

// ShellFlow is the analysis of the recipe's shell-read places, made when
// it was loaded; nil when loading found errors (then it did not run).
func (r *Recipe) ShellFlow() *ShellFlow { return r.shell }

// seg is one step of a path into a value: an attribute, or an element
// (a list or map index, a for expression's item).
type seg struct {
	attr string // "" for an element
}

type pathSegs []seg

func (p pathSegs) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.attr == "" {
			b.WriteString("[*]")
		} else {
			b.WriteString("." + s.attr)
		}
	}
	return b.String()
}

// traversalSegs turns attribute and index steps into a path.
func traversalSegs(tr hcl.Traversal) pathSegs {
	var out pathSegs
	for _, s := range tr {
		switch s := s.(type) {
		case hcl.TraverseAttr:
			out = append(out, seg{attr: s.Name})
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
				out = append(out, seg{attr: s.Key.AsString()})
			} else {
				out = append(out, seg{})
			}
		case hcl.TraverseSplat:
			out = append(out, seg{})
		}
	}
	return out
}

// taintSource is where an unquoted value comes from.
type taintSource struct {
	key  string // identifies the source for reporting once
	what string // "var.name", "step.keys.outputs.admin"
	desc string // "a string any -var can set, declared at main.hcl:12"
	// why says why nothing holds it; advice what to do instead.
	why, advice string
}

// hop is one reference on the way from a sink to a source: the first is
// in the sink, the last is the source's own reference.
type hop struct {
	at      hcl.Range
	builtin bool   // in a built-in module's file
	via     string // what the reference leads through ("local.x (main.hcl:3)"), "" for the source
	next    *hop
}

// taint is one source and the way it reaches a sink.
type taint struct {
	src *taintSource
	way *hop
}

// taints are the sources an expression carries, each once (the first way
// found), in the order found.
type taints struct {
	list []taint
	seen map[string]bool
}

func (ts *taints) add(t taint) {
	if ts.seen == nil {
		ts.seen = map[string]bool{}
	}
	if ts.seen[t.src.key] {
		return
	}
	ts.seen[t.src.key] = true
	ts.list = append(ts.list, t)
}

// flowKey names a value the analysis memoizes: a local ('l'), a module
// input ('v'), a module output ('o') or a for expression's collection
// ('f', name its position), with the path into it.
type flowKey struct {
	n    *namespace
	kind byte
	name string
	path string
}

// binding is a for expression's iteration variable: what it iterates.
type binding struct {
	coll hclsyntax.Expression
	env  map[string]binding
	key  bool
}

// shellFlow carries the analysis over one recipe.
type shellFlow struct {
	r    *Recipe
	out  *ShellFlow
	memo map[flowKey][]taint
	busy map[flowKey]bool
	held map[string]bool
}

// nonString are functions whose result holds no character of their
// arguments' strings (numbers, bools, digests, collections' sizes), or
// only characters no shell reads specially (base64, addresses).
var nonString = map[string]bool{"length": true, "contains": true, "can": true, "min": true, "max": true, "floor": true,
	"ceil": true, "pow": true, "abs": true, "signum": true, "log": true, "range": true, "tonumber": true, "tobool": true,
	"index": true, "sha256": true, "sha1": true, "sha512": true, "md5": true, "alltrue": true, "anytrue": true,
	"parseint": true, "uuid": true, "startswith": true, "endswith": true, "strcontains": true, "base64encode": true,
	"cidrnetmask": true, "cidrhost": true, "cidrsubnet": true, "cidrsubnets": true, "reach_ip": true}

// analyzeShell runs the analysis over every sink of every step and verify
// block (each module instance's), and keeps the result in r.shell.
func (r *Recipe) analyzeShell() hcl.Diagnostics {
	f := &shellFlow{r: r, out: &ShellFlow{}, memo: map[flowKey][]taint{}, busy: map[flowKey]bool{}, held: map[string]bool{}}
	r.shell = f.out
	for _, s := range r.Steps {
		n := r.nsOf(s)
		addr := s.Addr()
		var d hcl.Diagnostics
		sink := func(what string, e hcl.Expression) {
			if e != nil {
				d = append(d, f.sink(n, e, what+" of "+addr, "")...)
			}
		}
		if s.Kind == "run" {
			sink("the run command", s.Shorthand)
		}
		sink("the unless guard", s.Unless)
		sink("the destroy command", s.Destroy)
		sink("the drain command", s.Drain)
		for _, k := range sortedAttrNames(s.Capture) {
			sink(fmt.Sprintf("the capture command %s", k), s.Capture[k].Expr)
		}
		if body, ok := s.KindBody.(*hclsyntax.Body); ok {
			switch s.Kind {
			case "wait":
				if a := body.Attributes["command"]; a != nil {
					sink("the wait command", a.Expr)
				}
			case "file":
				a := body.Attributes["content"]
				switch {
				case a == nil || !r.executed(body):
				case r.unitFile(body):
					d = append(d, f.sink(n, a.Expr, "the content of the systemd unit that "+addr+" writes",
						" In a unit, systemd expands $ and % even inside quotes: constrain the value rather than quote it.")...)
				default:
					d = append(d, f.sink(n, a.Expr, "the content of the executed file that "+addr+" writes", "")...)
				}
			}
		}
		r.shell.Warnings = append(r.shell.Warnings, annotate(d, s.Module)...)
	}
	for _, v := range r.Verifies {
		if v.Failover == nil {
			continue
		}
		n := r.root
		if v.Module != nil {
			n = v.Module.ns
		}
		name := "verify." + v.Name
		if v.Module != nil {
			name = v.Name
		}
		var d hcl.Diagnostics
		for _, x := range []struct {
			what string
			e    hcl.Expression
		}{{"the failover stop command", v.Failover.Stop}, {"the failover start command", v.Failover.Start}} {
			if x.e != nil {
				d = append(d, f.sink(n, x.e, x.what+" of "+name, "")...)
			}
		}
		r.shell.Warnings = append(r.shell.Warnings, annotate(d, v.Module)...)
	}
	for k := range f.held {
		f.out.Held = append(f.out.Held, k)
	}
	sort.Strings(f.out.Held)
	names := f.out.HostNames
	sort.Slice(names, func(i, j int) bool {
		if names[i].Filename != names[j].Filename {
			return names[i].Filename < names[j].Filename
		}
		return names[i].Start.Byte < names[j].Start.Byte
	})
	f.out.HostNames = slices.Compact(names)
	return r.shell.Warnings
}

// executed says whether a file step's file is run by a shell or read by
// systemd as a unit (whose Exec lines it splits into words and expands
// % and $ in).
func (r *Recipe) executed(file *hclsyntax.Body) bool {
	if a := file.Attributes["path"]; a != nil {
		p := r.source(a.Expr.Range())
		for _, s := range []string{"/bin/", "/sbin/", "/systemd/system/", "/libexec/", "/etc/init.d/", "/etc/cron"} {
			if strings.Contains(p, s) {
				return true
			}
		}
	}
	if a := file.Attributes["mode"]; a != nil {
		if v, d := a.Expr.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			m := v.AsString()
			return strings.ContainsAny(m[len(m)-min(len(m), 3):], "1357")
		}
		return true // not a literal: may be executable
	}
	return false
}

// unitFile says whether a file step writes a systemd unit or drop-in.
func (r *Recipe) unitFile(file *hclsyntax.Body) bool {
	a := file.Attributes["path"]
	return a != nil && strings.Contains(r.source(a.Expr.Range()), "/systemd/")
}

// sink analyses one shell-read expression e of namespace n; what names
// it ("the run command of step.x"), note is said after the advice. It
// returns a warning for each source not reported yet for this attribute.
func (f *shellFlow) sink(n *namespace, e hcl.Expression, what, note string) hcl.Diagnostics {
	f.out.Sinks++
	var ts taints
	f.expr(n, e, nil, nil, &ts)
	var diags hcl.Diagnostics
	for _, t := range ts.list {
		// The warning is at the reference in the command; when the
		// command is in a built-in module, which the user cannot edit, at
		// the first reference on the way that is in the user's files (a
		// call's input).
		subject, moved := t.way.at, false
		for h := t.way; h != nil; h = h.next {
			if !h.builtin {
				subject, moved = h.at, h != t.way
				break
			}
		}
		// Once per source and command attribute; per source and call
		// input for a command in a built-in module.
		at := e.Range()
		if moved {
			at = subject
		}
		if !f.r.an.firstReport(fmt.Sprintf("shell %s %s:%d:%d", t.src.key, at.Filename, at.Start.Line, at.Start.Column)) {
			continue
		}
		diags = append(diags, f.warning(t, what, note, e.Range(), subject))
	}
	return diags
}

// warning is the diagnostic for taint t reaching sink what (at rng).
func (f *shellFlow) warning(t taint, what, note string, rng hcl.Range, subject hcl.Range) *hcl.Diagnostic {
	var via []string
	for h := t.way; h != nil; h = h.next {
		if h.via != "" {
			via = append(via, h.via)
		}
	}
	if len(via) > 6 {
		// A long chain of locals: its ends say where to look.
		via = append(via[:4:4], fmt.Sprintf("%d more", len(via)-5), via[len(via)-1])
	}
	way := ""
	if len(via) > 0 {
		way = ", through " + strings.Join(via, ", ")
	}
	where := ""
	if subject.Filename != rng.Filename || subject.Start.Byte < rng.Start.Byte || subject.End.Byte > rng.End.Byte {
		where = " (" + rangeString(rng) + ")"
	}
	detail := fmt.Sprintf("%s (%s) is pasted unquoted into %s%s%s: %s. %s%s", t.src.what, t.src.desc, what, where, way, t.src.why, t.src.advice, note)
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unquoted value in a shell command", Detail: detail, Subject: subject.Ptr()}
}

// expr analyses what part p of e's value (nil: all of it) carries into a
// sink, adding the sources it finds to out; env binds the for
// expressions' variables in scope.
func (f *shellFlow) expr(n *namespace, e hcl.Expression, p pathSegs, env map[string]binding, out *taints) {
	x, ok := e.(hclsyntax.Expression)
	if !ok {
		f.refs(n, e, env, out)
		return
	}
	f.narrow(n, x, p, env, out)
}

// refs analyses every reference of e whole: for expressions the walk
// does not know.
func (f *shellFlow) refs(n *namespace, e hcl.Expression, env map[string]binding, out *taints) {
	for _, tr := range e.Variables() {
		f.ref(n, &hclsyntax.ScopeTraversalExpr{Traversal: tr, SrcRange: tr.SourceRange()}, traversalSegs(tr[1:]), env, out)
	}
}

func (f *shellFlow) narrow(n *namespace, e hclsyntax.Expression, p pathSegs, env map[string]binding, out *taints) {
	switch e := e.(type) {
	case *hclsyntax.LiteralValueExpr, *hclsyntax.AnonSymbolExpr:
	case *hclsyntax.TemplateExpr:
		for _, part := range e.Parts {
			f.narrow(n, part, nil, env, out)
		}
	case *hclsyntax.TemplateWrapExpr:
		f.narrow(n, e.Wrapped, p, env, out)
	case *hclsyntax.TemplateJoinExpr:
		f.narrow(n, e.Tuple, pathSegs{{}}, env, out)
	case *hclsyntax.ParenthesesExpr:
		f.narrow(n, e.Expression, p, env, out)
	case forColl:
		// A for expression's collection, wrapped by capExprs.
		f.narrow(n, e.Expression, p, env, out)
	case *hclsyntax.ConditionalExpr:
		// The condition picks a result; none of it is in the value.
		f.narrow(n, e.TrueResult, p, env, out)
		f.narrow(n, e.FalseResult, p, env, out)
	case *hclsyntax.BinaryOpExpr, *hclsyntax.UnaryOpExpr:
		// Numbers and bools.
	case *hclsyntax.FunctionCallExpr:
		if e.Name == "shellquote" || nonString[e.Name] {
			return
		}
		for _, a := range e.Args {
			f.narrow(n, a, p, env, out)
		}
	case *hclsyntax.TupleConsExpr:
		rest := p
		if len(p) > 0 && p[0].attr == "" {
			rest = p[1:]
		}
		for _, x := range e.Exprs {
			f.narrow(n, x, rest, env, out)
		}
	case *hclsyntax.ObjectConsExpr:
		if len(p) > 0 && p[0].attr != "" {
			for _, it := range e.Items {
				if k, ok := objectKey(it.KeyExpr); ok && k == p[0].attr {
					f.narrow(n, it.ValueExpr, p[1:], env, out)
					return
				}
			}
		}
		rest := p
		if len(p) > 0 {
			rest = p[1:]
		}
		for _, it := range e.Items {
			// The whole object's keys are in its value (jsonencode,
			// keys); a key the walk cannot name may be made from anything.
			if _, ok := objectKey(it.KeyExpr); !ok && len(p) == 0 {
				f.narrow(n, it.KeyExpr, nil, env, out)
			}
			f.narrow(n, it.ValueExpr, rest, env, out)
		}
	case *hclsyntax.ObjectConsKeyExpr:
		if hcl.ExprAsKeyword(e.Wrapped) == "" || e.ForceNonLiteral {
			f.narrow(n, e.Wrapped, p, env, out)
		}
	case *hclsyntax.ForExpr:
		inner := make(map[string]binding, len(env)+2)
		for k, v := range env {
			inner[k] = v
		}
		if e.KeyVar != "" {
			inner[e.KeyVar] = binding{coll: e.CollExpr, env: env, key: true}
		}
		inner[e.ValVar] = binding{coll: e.CollExpr, env: env}
		rest := p
		if len(p) > 0 {
			rest = p[1:]
		}
		if e.KeyExpr != nil {
			f.narrow(n, e.KeyExpr, nil, inner, out)
		}
		f.narrow(n, e.ValExpr, rest, inner, out)
	case *hclsyntax.IndexExpr:
		// The key picks an element; none of it is in the value.
		f.narrow(n, e.Collection, append(pathSegs{{}}, p...), env, out)
	case *hclsyntax.SplatExpr:
		var each pathSegs
		if rt, ok := e.Each.(*hclsyntax.RelativeTraversalExpr); ok {
			each = traversalSegs(rt.Traversal)
		}
		f.narrow(n, e.Source, append(append(pathSegs{{}}, each...), p...), env, out)
	case *hclsyntax.RelativeTraversalExpr:
		f.narrow(n, e.Source, append(traversalSegs(e.Traversal), p...), env, out)
	case *hclsyntax.ScopeTraversalExpr:
		f.ref(n, e, append(traversalSegs(e.Traversal[1:]), p...), env, out)
	default:
		// An expression the walk does not know: every reference in it,
		// whole.
		f.refs(n, e, env, out)
	}
}

// objectKey is an object constructor item's key when it is a name or a
// literal string.
func objectKey(k hclsyntax.Expression) (string, bool) {
	if ok, isOK := k.(*hclsyntax.ObjectConsKeyExpr); isOK {
		if name := hcl.ExprAsKeyword(ok.Wrapped); name != "" && !ok.ForceNonLiteral {
			return name, true
		}
		k = ok.Wrapped
	}
	if _, lit := k.(*hclsyntax.LiteralValueExpr); !lit {
		if t, ok := k.(*hclsyntax.TemplateExpr); !ok || !t.IsStringLiteral() {
			return "", false
		}
	}
	v, d := k.Value(nil)
	if d.HasErrors() || v.Type() != cty.String || !v.IsKnown() || v.IsNull() {
		return "", false
	}
	return v.AsString(), true
}

// node is what the value named by k carries, analysed once: walk adds
// its sources. A value being analysed (a cycle, refused by analysis
// before this runs) carries nothing more.
func (f *shellFlow) node(k flowKey, walk func(*taints)) []taint {
	if ts, ok := f.memo[k]; ok {
		return ts
	}
	if f.busy[k] {
		return nil
	}
	f.busy[k] = true
	var ts taints
	walk(&ts)
	delete(f.busy, k)
	f.memo[k] = ts.list
	return ts.list
}

// through adds the sources of a named value read at e, with the
// reference on their way.
func (f *shellFlow) through(n *namespace, e *hclsyntax.ScopeTraversalExpr, via string, ts []taint, out *taints) {
	for _, t := range ts {
		out.add(taint{src: t.src, way: &hop{at: e.SrcRange, builtin: n.builtin, via: via, next: t.way}})
	}
}

// source adds the source src read at e.
func (f *shellFlow) source(n *namespace, e *hclsyntax.ScopeTraversalExpr, src *taintSource, out *taints) {
	out.add(taint{src: src, way: &hop{at: e.SrcRange, builtin: n.builtin}})
}

// prefix is how a value of namespace n is named in messages: "" at the
// root, "module.x." in a module.
func (n *namespace) prefix() string {
	if n.mod == nil {
		return ""
	}
	return n.mod.Addr + "."
}

// ref analyses a reference whose root is e's and whose path is p.
func (f *shellFlow) ref(n *namespace, e *hclsyntax.ScopeTraversalExpr, p pathSegs, env map[string]binding, out *taints) {
	f.out.Refs++
	root := e.Traversal.RootName()
	if b, ok := env[root]; ok {
		k := flowKey{n, 'f', fmt.Sprintf("%s:%d %t", b.coll.Range().Filename, b.coll.Range().Start.Byte, b.key), p.String()}
		if b.key {
			k.path = "" // conservative: a key may be a string of the collection's
		}
		f.through(n, e, "", f.node(k, func(ts *taints) {
			if b.key {
				f.narrow(n, b.coll, nil, b.env, ts)
				return
			}
			f.narrow(n, b.coll, append(pathSegs{{}}, p...), b.env, ts)
		}), out)
		return
	}
	first := ""
	if len(p) > 0 {
		first = p[0].attr
	}
	switch root {
	case "var":
		f.variable(n, e, first, p[min(1, len(p)):], out)
	case "local":
		l := n.locals[first]
		if l == nil {
			return // refused by analysis
		}
		via := fmt.Sprintf("%slocal.%s (%s)", n.prefix(), first, rangeString(l.DeclRange))
		f.through(n, e, via, f.node(flowKey{n, 'l', first, p[1:].String()}, func(ts *taints) {
			f.expr(n, l.Expr, p[1:], nil, ts)
		}), out)
	case "module":
		m := n.mods[first]
		if m == nil || m.ns == nil {
			return
		}
		outs := m.ns.outList
		var rest pathSegs
		if len(p) >= 2 {
			o := m.ns.outputs[p[1].attr]
			if o == nil {
				return
			}
			outs, rest = []*Output{o}, p[2:]
		}
		for _, o := range outs {
			via := fmt.Sprintf("%s.%s (%s)", m.Addr, o.Name, rangeString(o.DeclRange))
			f.through(n, e, via, f.node(flowKey{m.ns, 'o', o.Name, rest.String()}, func(ts *taints) {
				f.expr(m.ns, o.Value, rest, nil, ts)
			}), out)
		}
	case "step":
		f.capture(n, e, first, p, out)
	case "host", "hosts":
		f.host(n, e, root, p, out)
	}
}

// variable analyses var.name (path p into its value) in n.
func (f *shellFlow) variable(n *namespace, e *hclsyntax.ScopeTraversalExpr, name string, p pathSegs, out *taints) {
	v := n.vars[name]
	if v == nil {
		return // refused by analysis
	}
	why := heldBy(v, p)
	if why == "" {
		f.held[fmt.Sprintf("%s var.%s%s", v.DeclRange.Filename, name, p)] = true
		return
	}
	if n.mod == nil {
		what := "var." + name + p.String()
		f.source(n, e, &taintSource{
			key:  "var " + what,
			what: what,
			desc: fmt.Sprintf("%s any -var can set, declared at %s", varKind(v, p), rangeString(v.DeclRange)),
			why:  "the shell reads what it holds (a space, a quote, ;, $(...)) as code",
			advice: fmt.Sprintf("Wrap it in shellquote(%s) there, or constrain the variable where it is declared: "+
				"a pattern of letters, digits and @+=:,./_- only (pattern = \"[a-zA-Z0-9_.-]+\"), one_of, format = \"identifier\" "+
				"(or absolute_path, host, cidr, sha256), a number or bool type, or a validation testing "+
				"contains([...], var.%s) or can(regex(\"^...$\", var.%s)). Its declaration does not hold it: %s.", what, name, name, why),
		}, out)
		return
	}
	in := n.mod.Inputs[name]
	if in == nil {
		return // the module's default: a literal of the module's
	}
	via := fmt.Sprintf("%s input %s (%s)", n.mod.Addr, name, rangeString(in.Expr.Range()))
	f.through(n, e, via, f.node(flowKey{n, 'v', name, p.String()}, func(ts *taints) {
		f.expr(n.mod.caller, in.Expr, p, nil, ts)
	}), out)
}

// varKind says what a value of variable v's part p is: "a string", "a
// sensitive list(string)".
func varKind(v *Variable, p pathSegs) string {
	ty := partType(v.Type, p)
	kind := "value"
	if ty != cty.DynamicPseudoType && ty != cty.NilType {
		kind = typeexpr.TypeString(ty)
	}
	if v.Sensitive {
		kind = "sensitive " + kind
	}
	if strings.IndexAny(kind, "aeiou") == 0 {
		return "an " + kind
	}
	return "a " + kind
}

// capture analyses step.NAME... (path p from NAME on): what a step
// printed, unless the path leads away from its outputs.
func (f *shellFlow) capture(n *namespace, e *hclsyntax.ScopeTraversalExpr, name string, p pathSegs, out *taints) {
	st := n.steps[name]
	if st == nil {
		return
	}
	if len(p) >= 3 && !strings.Contains(p.String(), ".outputs") {
		return
	}
	what := "step." + name + p[1:].String()
	at := st.DeclRange
	if len(p) >= 3 && p[1].attr == "outputs" && st.Capture[p[2].attr] != nil {
		at = st.Capture[p[2].attr].Range
	}
	f.source(n, e, &taintSource{
		key:  "capture " + n.prefix() + what,
		what: what,
		desc: fmt.Sprintf("a capture: what step %s printed on a host, captured at %s", name, rangeString(at)),
		why:  "a capture is untrusted: a damaged or compromised host can print anything, a quote, a newline or ; included, which the shell then runs",
		advice: "Wrap it in shellquote(...) there, and check its shape in the capture command itself " +
			"(Captures are untrusted, docs/writing-recipes.md).",
	}, out)
}

// host analyses host.F or hosts.G[i].F (path p after the root).
func (f *shellFlow) host(n *namespace, e *hclsyntax.ScopeTraversalExpr, root string, p pathSegs, out *taints) {
	field := p
	if root == "hosts" && len(field) > 0 {
		field = field[1:]
	}
	for len(field) > 0 && field[0].attr == "" {
		field = field[1:]
	}
	if len(field) == 0 {
		return // the whole object: a collection, not text
	}
	what := root + p.String()
	src := &taintSource{key: "host " + what, what: what}
	switch field[0].attr {
	case "private_ip", "public_ip", "volume":
		// Addresses and devices: checked where they enter (state
		// CheckAddress and CheckDevice, which the providers' setting
		// checks and state loading apply; state
		// TestCheckAddressIsOneShellWord).
		return
	case "hostname", "index", "group", "provider":
		// GROUP-INDEX, made of the recipe's own identifiers; a provider
		// key (aws, aws.east) is made of the site file's.
		return
	case "name":
		f.out.HostNames = append(f.out.HostNames, e.SrcRange)
		return
	case "facts":
		src.desc = "a host fact: what the host reported about itself"
		src.why = "a host can report anything (a changed tool or a compromised host), a quote, a newline or ; included, which the shell then runs"
		src.advice = "Wrap it in shellquote(...) there, or pick among literals by it (host.facts.os.id == \"debian\" ? \"apt-get\" : \"dnf\")."
	default:
		src.desc = "a host field diffuser does not check for characters a shell reads"
		src.why = "it is not known to be one plain word"
		src.advice = "Wrap it in shellquote(...) there."
	}
	f.source(n, e, src, out)
}

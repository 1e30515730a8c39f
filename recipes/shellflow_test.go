package recipes

import (
	"fmt"
	"io/fs"
	"path"
	"regexp/syntax"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// This file is a static taint analysis of recipe HCL for
// TestUserValuesQuotedInCommands: which values reach a place a shell (or
// systemd, for a unit file) reads, and whether each is quoted there or
// held by its declaration to characters no shell treats specially.
//
// Shell-read places (sinks): a step's run, unless, destroy and drain,
// its capture commands, a wait block's command, a verify failover's stop
// and start, and the content of a file step whose file is executed (a
// path under a bin or sbin directory, a systemd unit or drop-in, or an
// executable mode). Not sinks: the arguments of the declarative kinds
// (mount source, target and options, service names, package names,
// format labels, file paths, owners and modes, a wait's host, a run's
// creates and env), which steps quotes itself (steps TestHostileValuesStayData).
//
// Sources: var.X of a recipe (what a user types: -var, var files, site
// and workspace settings) unless its declaration holds it (a number or
// bool type, one_of, a named format or a pattern whose every character
// is one shell.Quote leaves alone); var.X of a module the same, else
// whatever each call passes for it, traced back into the caller; local.X
// and module.X.OUT through their expressions; step.X.outputs and
// host.facts (what a host printed). host.private_ip, hostname, index,
// volume devices and the like are checked where they enter (state.Check*,
// the providers' setting checks) and pass.

// scope is one directory of recipe HCL: a recipe or a module.
type scope struct {
	dir     string
	module  bool
	vars    map[string]*hclsyntax.Block
	locals  map[string]hclsyntax.Expression
	calls   map[string]*hclsyntax.Block
	outputs map[string]hclsyntax.Expression
	steps   []*hclsyntax.Block
	verify  []*hclsyntax.Block
}

// call is one module call: the calling scope and its block.
type call struct {
	from  *scope
	block *hclsyntax.Block
}

// seg is one step of a path into a value: an attribute, or an element
// (a list or map index, a for expression's item).
type seg struct {
	attr string // "" for an element
}

func (s seg) String() string {
	if s.attr == "" {
		return "[*]"
	}
	return "." + s.attr
}

type pathSegs []seg

func (p pathSegs) String() string {
	var b strings.Builder
	for _, s := range p {
		b.WriteString(s.String())
	}
	return b.String()
}

// binding is a for expression's iteration variable: what it iterates.
type binding struct {
	coll hclsyntax.Expression
	env  map[string]binding
	key  bool
}

// Hole is a value that reaches a shell unquoted and unconstrained.
type Hole struct {
	At    hcl.Range // the reference
	What  string    // "var.x of recipe nfs", "step.keys.outputs.admin"
	Sink  string    // "step \"x\" run (nfs/main.hcl:12)"
	Via   []string  // locals, module inputs on the way
	Cause string    // why the declaration does not hold it
}

func (h Hole) String() string {
	via := ""
	if len(h.Via) > 0 {
		via = " via " + strings.Join(h.Via, ", ")
	}
	return fmt.Sprintf("%s:%d: %s reaches %s%s unquoted (%s): wrap it in shellquote(...) where the shell reads it, or constrain the variable (a pattern of letters, digits and @+=:,./_- only, one_of, a safe format, or a number or bool type)",
		h.At.Filename, h.At.Start.Line, h.What, h.Sink, via, h.Cause)
}

// flow is the analysis over every scope of a file system of recipes.
type flow struct {
	scopes  map[string]*scope
	callers map[string][]call
	holes   map[string]Hole
	// busy guards against following a local or a module input into
	// itself.
	busy map[string]bool
	// Sinks counts the sink expressions analysed, Refs the references.
	Sinks, Refs int
	// held lists the variables (scope, var.NAME, path) that reach a sink
	// and whose declaration holds them.
	held map[string]bool
}

// loadFlow parses every .hcl file of fsys into scopes.
func loadFlow(fsys fs.FS) (*flow, error) {
	f := &flow{scopes: map[string]*scope{}, callers: map[string][]call{}, holes: map[string]Hole{}, busy: map[string]bool{}, held: map[string]bool{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".hcl") {
			return err
		}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		file, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			return diags
		}
		dir := path.Dir(name)
		sc := f.scopes[dir]
		if sc == nil {
			sc = &scope{dir: dir, vars: map[string]*hclsyntax.Block{}, locals: map[string]hclsyntax.Expression{},
				calls: map[string]*hclsyntax.Block{}, outputs: map[string]hclsyntax.Expression{}}
			f.scopes[dir] = sc
		}
		for _, b := range file.Body.(*hclsyntax.Body).Blocks {
			switch b.Type {
			case "module_info":
				sc.module = true
			case "variable":
				sc.vars[b.Labels[0]] = b
			case "locals":
				for n, a := range b.Body.Attributes {
					sc.locals[n] = a.Expr
				}
			case "module":
				sc.calls[b.Labels[0]] = b
			case "output":
				if a := b.Body.Attributes["value"]; a != nil {
					sc.outputs[b.Labels[0]] = a.Expr
				}
			case "step":
				sc.steps = append(sc.steps, b)
			case "verify":
				sc.verify = append(sc.verify, b)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, sc := range f.scopes {
		for _, b := range sc.calls {
			if dir := f.moduleDir(sc, b); dir != "" {
				f.callers[dir] = append(f.callers[dir], call{sc, b})
			}
		}
	}
	return f, nil
}

// moduleDir is the scope a module call's source names, "" when unknown.
func (f *flow) moduleDir(sc *scope, b *hclsyntax.Block) string {
	a := b.Body.Attributes["source"]
	if a == nil {
		return ""
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String {
		return ""
	}
	src := v.AsString()
	if name, ok := strings.CutPrefix(src, "builtin/"); ok {
		return "modules/" + name
	}
	return path.Join(sc.dir, src)
}

// moduleMeta are a module call's attributes that are not inputs.
var moduleMeta = map[string]bool{"source": true, "on": true, "after": true, "restart_on": true, "reload_on": true}

// sinkAttrs are the step attributes a shell runs. creates is not one: the
// run kind quotes it (test -e PATH).
var sinkAttrs = []string{"run", "unless", "destroy", "drain"}

// executed says whether a file step's file is run by a shell or read by
// systemd as a unit (whose Exec lines it splits into words and expands
// % and $ in).
func executed(src []byte, file *hclsyntax.Block) bool {
	if a := file.Body.Attributes["path"]; a != nil {
		p := string(a.Expr.Range().SliceBytes(src))
		for _, s := range []string{"/bin/", "/sbin/", "/systemd/system/", "/libexec/", "/etc/init.d/", "/etc/cron"} {
			if strings.Contains(p, s) {
				return true
			}
		}
	}
	if a := file.Body.Attributes["mode"]; a != nil {
		if v, d := a.Expr.Value(nil); !d.HasErrors() && v.Type() == cty.String {
			m := v.AsString()
			return strings.ContainsAny(m[len(m)-min(len(m), 3):], "1357")
		}
		return true // not a literal: may be executable
	}
	return false
}

// run analyses every sink of every scope; srcOf gives a file's source.
func (f *flow) run(srcOf func(string) []byte) {
	dirs := make([]string, 0, len(f.scopes))
	for d := range f.scopes {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		sc := f.scopes[d]
		for _, b := range sc.steps {
			where := func(what string, r hcl.Range) string {
				return fmt.Sprintf("step %q %s (%s:%d)", b.Labels[0], what, r.Filename, r.Start.Line)
			}
			for _, n := range sinkAttrs {
				if a := b.Body.Attributes[n]; a != nil {
					f.sink(sc, a.Expr, where(n, a.SrcRange))
				}
			}
			for _, nb := range b.Body.Blocks {
				switch nb.Type {
				case "capture":
					for n, a := range nb.Body.Attributes {
						f.sink(sc, a.Expr, where("capture "+n, a.SrcRange))
					}
				case "wait":
					if a := nb.Body.Attributes["command"]; a != nil {
						f.sink(sc, a.Expr, where("wait command", a.SrcRange))
					}
				case "file":
					if a := nb.Body.Attributes["content"]; a != nil && executed(srcOf(a.SrcRange.Filename), nb) {
						f.sink(sc, a.Expr, where("content of an executed file", a.SrcRange))
					}
				}
			}
		}
		for _, v := range sc.verify {
			for _, nb := range v.Body.Blocks {
				if nb.Type != "failover" {
					continue
				}
				for _, n := range []string{"stop", "start"} {
					if a := nb.Body.Attributes[n]; a != nil {
						f.sink(sc, a.Expr, fmt.Sprintf("verify %q failover %s (%s:%d)", v.Labels[0], n, a.SrcRange.Filename, a.SrcRange.Start.Line))
					}
				}
			}
		}
	}
}

// walker carries one sink's analysis through expressions.
type walker struct {
	f    *flow
	sink string
	via  []string
}

func (f *flow) sink(sc *scope, e hclsyntax.Expression, sink string) {
	f.Sinks++
	w := &walker{f: f, sink: sink}
	w.narrow(sc, e, nil, nil)
}

// nonString are functions whose result holds no character of their
// arguments' strings (numbers, bools, digests, collections' sizes).
var nonString = map[string]bool{"length": true, "contains": true, "can": true, "min": true, "max": true, "floor": true,
	"ceil": true, "pow": true, "abs": true, "signum": true, "range": true, "tonumber": true, "tobool": true, "index": true,
	"sha256": true, "sha1": true, "sha512": true, "md5": true, "alltrue": true, "anytrue": true, "parseint": true,
	"uuid": true, "cidrnetmask": true, "startswith": true, "endswith": true, "strcontains": true}

// narrow analyses what part p of e's value carries into the sink
// (nil: all of it); env binds the for expressions' variables in scope.
func (w *walker) narrow(sc *scope, e hclsyntax.Expression, p pathSegs, env map[string]binding) {
	switch e := e.(type) {
	case *hclsyntax.LiteralValueExpr, *hclsyntax.AnonSymbolExpr:
	case *hclsyntax.TemplateExpr:
		for _, part := range e.Parts {
			w.narrow(sc, part, nil, env)
		}
	case *hclsyntax.TemplateWrapExpr:
		w.narrow(sc, e.Wrapped, p, env)
	case *hclsyntax.TemplateJoinExpr:
		w.narrow(sc, e.Tuple, pathSegs{{}}, env)
	case *hclsyntax.ParenthesesExpr:
		w.narrow(sc, e.Expression, p, env)
	case *hclsyntax.ConditionalExpr:
		// The condition picks a result; none of it is in the value.
		w.narrow(sc, e.TrueResult, p, env)
		w.narrow(sc, e.FalseResult, p, env)
	case *hclsyntax.BinaryOpExpr, *hclsyntax.UnaryOpExpr:
		// Numbers and bools.
	case *hclsyntax.FunctionCallExpr:
		if e.Name == "shellquote" || nonString[e.Name] {
			return
		}
		for _, a := range e.Args {
			w.narrow(sc, a, p, env)
		}
	case *hclsyntax.TupleConsExpr:
		rest := p
		if len(p) > 0 && p[0].attr == "" {
			rest = p[1:]
		}
		for _, x := range e.Exprs {
			w.narrow(sc, x, rest, env)
		}
	case *hclsyntax.ObjectConsExpr:
		if len(p) > 0 && p[0].attr != "" {
			for _, it := range e.Items {
				if k, ok := objectKey(it.KeyExpr); ok && k == p[0].attr {
					w.narrow(sc, it.ValueExpr, p[1:], env)
					return
				}
			}
		}
		rest := p
		if len(p) > 0 {
			rest = p[1:]
		}
		for _, it := range e.Items {
			w.narrow(sc, it.ValueExpr, rest, env)
		}
	case *hclsyntax.ForExpr:
		inner := map[string]binding{}
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
			w.narrow(sc, e.KeyExpr, nil, inner)
		}
		w.narrow(sc, e.ValExpr, rest, inner)
	case *hclsyntax.IndexExpr:
		// The key picks an element; none of it is in the value.
		w.narrow(sc, e.Collection, append(pathSegs{{}}, p...), env)
	case *hclsyntax.SplatExpr:
		var each pathSegs
		if rt, ok := e.Each.(*hclsyntax.RelativeTraversalExpr); ok {
			each = traversalSegs(rt.Traversal)
		}
		w.narrow(sc, e.Source, append(append(pathSegs{{}}, each...), p...), env)
	case *hclsyntax.RelativeTraversalExpr:
		w.narrow(sc, e.Source, append(traversalSegs(e.Traversal), p...), env)
	case *hclsyntax.ScopeTraversalExpr:
		w.ref(sc, e, append(traversalSegs(e.Traversal[1:]), p...), env)
	default:
		w.hole(e.Range(), fmt.Sprintf("an expression of type %T", e), "the analysis does not know it")
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
	v, d := k.Value(nil)
	if d.HasErrors() || v.Type() != cty.String || !v.IsKnown() || v.IsNull() {
		return "", false
	}
	return v.AsString(), true
}

// traversalSegs turns attribute and index steps into a path.
func traversalSegs(tr hcl.Traversal) pathSegs {
	var out pathSegs
	for _, s := range tr {
		switch s := s.(type) {
		case hcl.TraverseAttr:
			out = append(out, seg{attr: s.Name})
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String {
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

func (w *walker) hole(at hcl.Range, what, cause string) {
	h := Hole{At: at, What: what, Sink: w.sink, Via: append([]string(nil), w.via...), Cause: cause}
	key := fmt.Sprintf("%s:%d:%d %s %s", at.Filename, at.Start.Line, at.Start.Column, what, w.sink)
	if _, dup := w.f.holes[key]; !dup {
		w.f.holes[key] = h
	}
}

// follow runs f with name pushed on the way and the busy guard set.
func (w *walker) follow(key, name string, f func()) {
	if w.f.busy[key] {
		return
	}
	w.f.busy[key] = true
	w.via = append(w.via, name)
	f()
	w.via = w.via[:len(w.via)-1]
	delete(w.f.busy, key)
}

// ref analyses a reference whose root is e's and whose path is p.
func (w *walker) ref(sc *scope, e *hclsyntax.ScopeTraversalExpr, p pathSegs, env map[string]binding) {
	w.f.Refs++
	root := e.Traversal.RootName()
	if b, ok := env[root]; ok {
		if b.key {
			w.narrow(sc, b.coll, nil, b.env) // conservative: a key may be a string of the collection's
			return
		}
		w.narrow(sc, b.coll, append(pathSegs{{}}, p...), b.env)
		return
	}
	first := ""
	if len(p) > 0 {
		first = p[0].attr
	}
	if first == "" && root != "host" && root != "hosts" && root != "step" {
		w.hole(e.SrcRange, root+p.String(), "a whole namespace")
		return
	}
	switch root {
	case "var":
		w.variable(sc, e, first, p[1:])
	case "local":
		x, ok := sc.locals[first]
		if !ok {
			w.hole(e.SrcRange, "local."+first, "no such local")
			return
		}
		key := fmt.Sprintf("%s local.%s%s", sc.dir, first, p[1:])
		w.follow(key, "local."+first, func() { w.narrow(sc, x, p[1:], nil) })
	case "module":
		b, ok := sc.calls[first]
		if !ok || len(p) < 2 {
			w.hole(e.SrcRange, "module."+first, "no such module call")
			return
		}
		m := w.f.scopes[w.f.moduleDir(sc, b)]
		var out hclsyntax.Expression
		if m != nil {
			out, ok = m.outputs[p[1].attr]
		}
		if m == nil || !ok {
			w.hole(e.SrcRange, "module."+first+p[1:].String(), "no such module output")
			return
		}
		key := fmt.Sprintf("%s output %s%s", m.dir, p[1].attr, p[2:])
		w.follow(key, fmt.Sprintf("module.%s.%s", first, p[1].attr), func() { w.narrow(m, out, p[2:], nil) })
	case "step":
		// A capture, or a step's own fields.
		if strings.Contains(p.String(), ".outputs") {
			w.hole(e.SrcRange, "step."+first+p[1:].String(), "a capture is what a host printed")
		}
	case "host", "hosts":
		// The host object's field: host.F, hosts.G[i].F.
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
		switch field[0].attr {
		case "private_ip", "public_ip", "volume":
			// Addresses and devices: checked where they enter (state
			// CheckAddress and CheckDevice, which the providers' setting
			// checks and state loading apply; state TestCheckAddressIsOneShellWord).
		case "hostname", "index", "group":
			// GROUP-INDEX, made of the recipe's own identifiers.
		case "facts":
			w.hole(e.SrcRange, root+p.String(), "host facts are what a host printed")
		default:
			w.hole(e.SrcRange, root+p.String(), "a host field not known to be one plain word (host.name is GROUP[i], with [ and ])")
		}
	default:
		w.hole(e.SrcRange, root+p.String(), "an unknown root")
	}
}

// variable analyses var.name (path p into its value) in sc.
func (w *walker) variable(sc *scope, e *hclsyntax.ScopeTraversalExpr, name string, p pathSegs) {
	decl, ok := sc.vars[name]
	if !ok {
		w.hole(e.SrcRange, "var."+name, "no such variable")
		return
	}
	why := safeDecl(decl, p)
	if why == "" {
		w.f.held[fmt.Sprintf("%s var.%s%s", sc.dir, name, p)] = true
		return
	}
	if !sc.module {
		w.hole(e.SrcRange, fmt.Sprintf("var.%s%s (a value a user sets)", name, p), why)
		return
	}
	callers := w.f.callers[sc.dir]
	for _, c := range callers {
		a := c.block.Body.Attributes[name]
		if a == nil {
			continue // the module's default: the module's own literal
		}
		key := fmt.Sprintf("%s module.%s.%s%s", c.from.dir, c.block.Labels[0], name, p)
		w.follow(key, fmt.Sprintf("module %q input %s (%s:%d)", c.block.Labels[0], name, a.SrcRange.Filename, a.SrcRange.Start.Line),
			func() { w.narrow(c.from, a.Expr, p, nil) })
	}
}

// safeFormats are the named formats (lang.FormatNames) whose every value
// is made of characters shell.Quote leaves alone; the others are not.
var safeFormats = map[string]bool{"absolute_path": true, "identifier": true, "host": true, "cidr": true, "sha256": true, "url": false}

// safeDecl says why variable decl does not hold the part p of its value
// to shell-safe characters; "" when it does.
func safeDecl(decl *hclsyntax.Block, p pathSegs) string {
	attrs := decl.Body.Attributes
	if a := attrs["type"]; a != nil {
		ty, d := typeexpr.TypeConstraint(a.Expr)
		if !d.HasErrors() {
			for _, s := range p {
				switch {
				case s.attr != "" && ty.IsObjectType() && ty.HasAttribute(s.attr):
					ty = ty.AttributeType(s.attr)
				case s.attr == "" && (ty.IsListType() || ty.IsSetType() || ty.IsMapType()):
					ty = ty.ElementType()
				}
			}
			if ty == cty.Number || ty == cty.Bool {
				return ""
			}
			if ty.IsCollectionType() && (ty.ElementType() == cty.Number || ty.ElementType() == cty.Bool) {
				return ""
			}
		}
	}
	if len(p) > 0 && p[0].attr != "" {
		// The constraints hold the variable's elements, not an object's
		// attributes.
		return "no constraint on " + p.String()[1:]
	}
	if a := attrs["one_of"]; a != nil {
		if v, d := a.Expr.Value(nil); !d.HasErrors() && v.CanIterateElements() {
			all := true
			for it := v.ElementIterator(); it.Next(); {
				_, ev := it.Element()
				if ev.Type() == cty.String && !shellSafe(ev.AsString()) {
					all = false
				}
			}
			if all {
				return ""
			}
			return "one_of lists a value with characters a shell reads"
		}
	}
	if a := attrs["format"]; a != nil {
		if v, d := a.Expr.Value(nil); !d.HasErrors() && v.Type() == cty.String && safeFormats[v.AsString()] {
			return ""
		}
	}
	if a := attrs["pattern"]; a != nil {
		v, d := a.Expr.Value(nil)
		if !d.HasErrors() && v.Type() == cty.String {
			if bad := patternUnsafe(v.AsString()); bad != "" {
				return "its pattern allows " + bad
			}
			return ""
		}
	}
	for _, b := range decl.Body.Blocks {
		if b.Type == "validation" && validationHolds(b, decl.Labels[0]) {
			return ""
		}
	}
	if attrs["format"] != nil {
		return "its format allows characters a shell reads"
	}
	return "no pattern, one_of, safe format or number type holds it"
}

// validationHolds says whether a validation block's condition has a
// conjunct that holds var.name to shell-safe values:
// contains([literals], var.name) or can(regex("^...$", var.name)).
func validationHolds(b *hclsyntax.Block, name string) bool {
	a := b.Body.Attributes["condition"]
	if a == nil {
		return false
	}
	var conj []hclsyntax.Expression
	var split func(e hclsyntax.Expression)
	split = func(e hclsyntax.Expression) {
		if bin, ok := e.(*hclsyntax.BinaryOpExpr); ok && bin.Op == hclsyntax.OpLogicalAnd {
			split(bin.LHS)
			split(bin.RHS)
			return
		}
		if par, ok := e.(*hclsyntax.ParenthesesExpr); ok {
			split(par.Expression)
			return
		}
		conj = append(conj, e)
	}
	split(a.Expr)
	isVar := func(e hclsyntax.Expression) bool {
		st, ok := e.(*hclsyntax.ScopeTraversalExpr)
		return ok && len(st.Traversal) == 2 && st.Traversal.RootName() == "var" && traversalNames(st.Traversal)[1] == name
	}
	for _, c := range conj {
		fc, ok := c.(*hclsyntax.FunctionCallExpr)
		if !ok {
			continue
		}
		switch {
		case fc.Name == "contains" && len(fc.Args) == 2 && isVar(fc.Args[1]):
			v, d := fc.Args[0].Value(nil)
			if d.HasErrors() || !v.CanIterateElements() {
				continue
			}
			all := true
			for it := v.ElementIterator(); it.Next(); {
				_, ev := it.Element()
				all = all && ev.Type() == cty.String && shellSafe(ev.AsString())
			}
			if all {
				return true
			}
		case fc.Name == "can" && len(fc.Args) == 1:
			re, ok := fc.Args[0].(*hclsyntax.FunctionCallExpr)
			if !ok || re.Name != "regex" || len(re.Args) != 2 || !isVar(re.Args[1]) {
				continue
			}
			v, d := re.Args[0].Value(nil)
			if d.HasErrors() || v.Type() != cty.String {
				continue
			}
			s := v.AsString()
			if strings.HasPrefix(s, "^") && strings.HasSuffix(s, "$") && patternUnsafe(strings.TrimSuffix(strings.TrimPrefix(s, "^"), "$")) == "" {
				return true
			}
		}
	}
	return false
}

// quoteSafe are the characters shell.Quote leaves alone (never special to
// a shell), without %, which systemd expands in a unit's Exec lines (%h,
// %i) where a variable may reach as it is.
const quoteSafe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@+=:,./_-"

func shellSafe(s string) bool { return strings.Trim(s, quoteSafe) == "" }

// patternUnsafe names a character the regular expression (RE2, matched
// whole) can match that is not in quoteSafe, "" when there is none: every
// literal and every character of every class is looked at, so a pattern
// passes only if no string it matches could hold one.
func patternUnsafe(pat string) string {
	re, err := syntax.Parse(pat, syntax.Perl)
	if err != nil {
		return "anything (it does not parse: " + err.Error() + ")"
	}
	var bad string
	var walk func(re *syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		if bad != "" {
			return
		}
		switch re.Op {
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			bad = "any character (.)"
		case syntax.OpLiteral:
			for _, r := range re.Rune {
				if !strings.ContainsRune(quoteSafe, r) {
					bad = fmt.Sprintf("%q", r)
					return
				}
			}
		case syntax.OpCharClass:
			for i := 0; i+1 < len(re.Rune); i += 2 {
				lo, hi := re.Rune[i], re.Rune[i+1]
				if hi-lo > 128 {
					bad = fmt.Sprintf("%q to %q", lo, hi)
					return
				}
				for r := lo; r <= hi; r++ {
					if !strings.ContainsRune(quoteSafe, r) {
						bad = fmt.Sprintf("%q", r)
						return
					}
				}
			}
		}
		for _, s := range re.Sub {
			walk(s)
		}
	}
	walk(re)
	return bad
}

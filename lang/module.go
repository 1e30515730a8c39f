package lang

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// MaxModuleDepth bounds how deep module calls nest: the root's modules are
// depth 1.
const MaxModuleDepth = 8

// MaxModules bounds the module instances of a recipe, nested ones
// included. Calls multiply (a module called 8 times that calls another 8
// times makes 72 instances), so without a bound a few small files could
// ask for millions of instances.
const MaxModules = 1000

// MaxSteps bounds the steps of a recipe, each module instance's counted:
// a module of a few thousand steps called a few hundred times would make
// millions (a million took 8 GB and two minutes to validate). Each step
// costs about 8 KB and 0.1 ms before it has hosts; the largest recipes
// measured (BenchmarkManyMoved) have 8,000.
const MaxSteps = 20_000

// BuiltinPrefix starts the source of a module embedded in the binary.
const BuiltinPrefix = "builtin/"

// Module is one module call, instantiated: its variables, locals, steps,
// outputs and nested calls live in its own namespace. Its steps are
// flattened into the recipe's Steps with their address as name.
type Module struct {
	Name        string    // the call's label
	Addr        string    // module.data, module.a.module.b
	Parent      *Module   // nil when the root recipe calls it
	Source      string    // as written
	Description string    // from the module's module_info block
	CallRange   hcl.Range // the module block's header
	// Inputs are the call's attributes other than source, on and after,
	// evaluated in the caller's namespace.
	Inputs hcl.Attributes
	On     hcl.Expression // may be nil: the steps say where they run
	After  []Ref          // the call's after, in the caller's namespace
	// RestartOn and ReloadOn are the call's restart_on and reload_on, in
	// the caller's namespace: every service step inside the call (nested
	// calls included) restarts (reloads) when one of them changes, as if
	// it named them itself.
	RestartOn, ReloadOn []Ref
	// Enabled is the call's `enabled` (nil: always on), evaluated in the
	// caller's namespace from variables and locals: false turns the call
	// off (OpenTofu's enabled meta-argument). Its steps, verify blocks and
	// nested calls then have no instances, its inputs are neither
	// evaluated nor validated, and module.NAME is null.
	Enabled hcl.Expression

	Variables []*Variable
	Locals    []*Local
	Steps     []*Step // this module's own steps, not its modules'
	Modules   []*Module
	Outputs   []*Output

	ns       *namespace
	caller   *namespace
	srcRange hcl.Range
	depth    int
	key      string // identifies the source: "builtin:NAME" or "dir:PATH"
	// badSource says source is not a literal string (reported when
	// decoding the call).
	badSource bool
}

// Moved is a `moved` block: state recorded under From now belongs to To.
// Both are absolute addresses without instance key (step.x,
// module.a.step.x, or module.a for a whole module).
type Moved struct {
	From, To  string
	DeclRange hcl.Range
	// FromRange and ToRange are where from and to are written, for
	// diagnostics about one of them.
	FromRange, ToRange hcl.Range
	// In is the module whose file holds the block (nil: the recipe).
	In *Module
	// fromText and toText are from and to as written (relative to In,
	// caller.… for a module's history), for messages.
	fromText, toText string
	// By is set for a module's own history: a moved block in module By
	// whose from starts with caller. and so names an address in the
	// namespace that calls By (where its steps lived before the module
	// held them). Such a move is made only where that address is not
	// declared, and a move the caller writes for the same from wins.
	By *Module
}

// Where is where the block is written: "FILE:LINE".
func (mv *Moved) Where() string { return rangeString(mv.DeclRange) }

// Reason says which block makes the move, for plans: where the moved
// block is written, and for a module's history the module it belongs to.
func (mv *Moved) Reason() string {
	if mv.By != nil {
		return fmt.Sprintf("history of %s (%s), %s", mv.By.Addr, mv.By.Source, mv.Where())
	}
	if mv.In != nil {
		return fmt.Sprintf("moved block of %s, %s", mv.In.Addr, mv.Where())
	}
	return "moved block, " + mv.Where()
}

// namespace is what var, local, step and module mean in one place: the
// root recipe or one module instance.
type namespace struct {
	mod       *Module // nil: the root recipe
	vars      map[string]*Variable
	varList   []*Variable
	locals    map[string]*Local
	localList []*Local
	steps     map[string]*Step // by BaseName
	stepList  []*Step
	mods      map[string]*Module
	modList   []*Module
	outputs   map[string]*Output
	outList   []*Output
	info      string    // module_info description
	infoRange hcl.Range // where module_info was, for duplicates

	fsys    fs.FS
	builtin bool   // fsys is the built-in modules'
	root    string // directory relative sources may not leave
	dir     string // directory of the namespace's files
	funcs   map[string]function.Function
}

func newNamespace(m *Module, fsys fs.FS, root, dir string, funcs map[string]function.Function) *namespace {
	return &namespace{mod: m, vars: map[string]*Variable{}, locals: map[string]*Local{},
		steps: map[string]*Step{}, mods: map[string]*Module{}, outputs: map[string]*Output{},
		fsys: fsys, root: root, dir: dir, funcs: funcs}
}

// qualify is the full name of a step called name in n.
func (n *namespace) qualify(name string) string {
	if n.mod == nil {
		return name
	}
	return n.mod.Addr + ".step." + name
}

// refuseBlock refuses in a module what only the root recipe may hold.
func (n *namespace) refuseBlock(b *hcl.Block) *hcl.Diagnostic {
	if n.mod == nil {
		if b.Type == "module_info" {
			n.infoRange = b.DefRange // Load says "a module, not a recipe" when there is no recipe block
			return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "module_info outside a module",
				Detail:  "A module_info block describes a module directory; a recipe says what it is in its recipe block.",
				Subject: b.DefRange.Ptr()}
		}
		return nil
	}
	var detail string
	switch b.Type {
	case "recipe":
		detail = "A module directory has no recipe block: describe the module with module_info { description = \"...\" }."
	case "hosts":
		detail = "Host groups belong to the root recipe. Declare the hosts there and pass them in as an input, e.g. `servers = hosts.server` at the call and `on = var.servers` in the module."
	case "precondition":
		detail = "A top-level precondition belongs to the root recipe; a module checks its inputs with validation blocks in its variables, which may read its other inputs (condition = var.servers % var.replica == 0), and what its hosts must be with a precondition block inside the step that needs it (condition = contains(host.facts.capabilities, \"net_admin\"))."
	default:
		return nil
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("%s block in a module", b.Type),
		Detail: detail + n.mod.calledAt(), Subject: b.DefRange.Ptr()}
}

// calledAt names where the module was called, for diagnostics inside it.
func (m *Module) calledAt() string {
	if m == nil {
		return ""
	}
	s := fmt.Sprintf(" (In %s, called at %s", m.Addr, rangeString(m.CallRange))
	for p := m.Parent; p != nil; p = p.Parent {
		s += fmt.Sprintf(", in %s called at %s", p.Addr, rangeString(p.CallRange))
	}
	return s + ".)"
}

// written is the call as its caller's file writes it (module.NAME): in
// messages whose "(In ...)" note names the caller, so that one mistake
// in a module called twice reads the same for both calls and is merged.
func (m *Module) written() string { return "module." + m.Name }

func rangeString(r hcl.Range) string { return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line) }

// Declared says where the step is written, for messages about its
// instances at apply: "main.hcl:12", or inside a module
// "builtin/xfs-volume/main.hcl:40 (In module.data, called at main.hcl:5.)".
func (s *Step) Declared() string {
	return rangeString(s.DeclRange) + s.Module.calledAt()
}

// PerHost says whether the step's instances must each be evaluated for
// their own host: its arguments read `host` (UsesHost), or a module input
// around it is set from `host` and checked per host (HostInputs).
// Otherwise one evaluation serves every instance.
func (s *Step) PerHost() bool { return s.UsesHost || s.HostInputs }

func (n *namespace) decodeModuleInfo(b *hcl.Block) hcl.Diagnostics {
	if n.infoRange.Filename != "" {
		return hcl.Diagnostics{duplicate("module_info block", "", n.infoRange, b.DefRange)}
	}
	n.infoRange = b.DefRange
	content, diags := bodyContent(b.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "description"}}})
	if a := content.Attributes["description"]; a != nil {
		diags = append(diags, constString(a.Expr, &n.info)...)
	}
	return diags
}

// OffWhere says where m's own lifecycle enabled is, for messages about a
// call it turned off: "lifecycle enabled is false at FILE:LINE". A call
// off because a call around it is off is described by that call's.
func (m *Module) OffWhere() string {
	if m.Enabled == nil {
		return "lifecycle enabled is false"
	}
	return "lifecycle enabled is false at " + rangeString(m.Enabled.Range())
}

// decodeModuleCall decodes a `module` block of namespace n. Its source is
// loaded later, by loadModules.
func (r *Recipe) decodeModuleCall(b *hcl.Block, n *namespace) hcl.Diagnostics {
	if d := validName(b); d != nil {
		return hcl.Diagnostics{d}
	}
	name := b.Labels[0]
	if prev := n.mods[name]; prev != nil {
		return hcl.Diagnostics{duplicate("module", name, prev.CallRange, b.DefRange)}
	}
	attrs, lifecycle, diags := moduleCallBody(b.Body)
	if diags.HasErrors() {
		return diags
	}
	enabled, d := decodeLifecycle(lifecycle)
	diags = append(diags, d...)
	addr := "module." + name
	if n.mod != nil {
		addr = n.mod.Addr + "." + addr
	}
	m := &Module{Name: name, Addr: addr, Parent: n.mod, CallRange: b.DefRange, Inputs: hcl.Attributes{}, caller: n}
	if n.mod != nil {
		m.depth = n.mod.depth + 1
	} else {
		m.depth = 1
	}
	src := attrs["source"]
	if src == nil {
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing module source",
			Detail:  fmt.Sprintf("Module %q must say where it comes from: source = \"./DIR\" (relative to this file) or source = \"builtin/NAME\".", name),
			Subject: b.DefRange.Ptr()}
		// A misspelt source is the mistake to point at.
		for _, k := range sortedAttrNames(attrs) {
			if suggest(k, []string{"source"}) == "source" {
				d.Detail = fmt.Sprintf("Did you mean source for %q? Module %q must say where it comes from: source = \"./DIR\" (relative to this file) or source = \"builtin/NAME\".", k, name)
				d.Subject = attrs[k].NameRange.Ptr()
				break
			}
		}
		return append(diags, d)
	}
	m.srcRange = src.Expr.Range()
	if len(src.Expr.Variables()) > 0 {
		m.badSource = true
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Module source not a literal",
			Detail:  "source is read before any variable has a value: write it as a literal string, \"./DIR\" or \"builtin/NAME\". To choose a module by a variable, call each and turn the others off: lifecycle { enabled = var.x == \"a\" }." + n.mod.calledAt(),
			Subject: src.Expr.Range().Ptr()})
	}
	if d := constString(src.Expr, &m.Source); d.HasErrors() {
		diags = append(diags, d...)
		m.badSource = true
	}
	if a := attrs["on"]; a != nil {
		m.On = a.Expr
	}
	if a := attrs["after"]; a != nil {
		var d hcl.Diagnostics
		m.After, d = n.stepRefs(a, true)
		diags = append(diags, d...)
	}
	for _, arg := range []struct {
		name string
		refs *[]Ref
	}{{"restart_on", &m.RestartOn}, {"reload_on", &m.ReloadOn}} {
		if a := attrs[arg.name]; a != nil {
			var d hcl.Diagnostics
			*arg.refs, d = n.stepRefs(a, true)
			diags = append(diags, d...)
		}
	}
	restart := map[string]bool{}
	for _, ref := range m.RestartOn {
		restart[ref.written()] = true
	}
	for _, ref := range m.ReloadOn {
		if restart[ref.written()] {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Module call both restarts and reloads",
				Detail:  fmt.Sprintf("Module call %q lists %s in restart_on and in reload_on; a restart includes a reload, keep it in one.", name, ref.written()),
				Subject: ref.Range.Ptr()})
		}
	}
	m.Enabled = enabled
	for k, a := range attrs {
		switch k {
		case "source", "on", "after", "restart_on", "reload_on":
		case "after_all", "count", "for_each", "depends_on", "providers":
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported module argument",
				Detail:  fmt.Sprintf("A module call takes source, on, after, restart_on, reload_on, a lifecycle block and the module's inputs; %s is not supported (%s).", k, unsupportedModuleArgHint[k]),
				Subject: a.NameRange.Ptr()})
		default:
			m.Inputs[k] = a
		}
	}
	n.mods[name] = m
	n.modList = append(n.modList, m)
	return diags
}

// moduleCallBody splits a module call's body into its attributes and
// its lifecycle blocks; any other block is an error.
func moduleCallBody(body hcl.Body) (hcl.Attributes, hcl.Blocks, hcl.Diagnostics) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok { // not native syntax: attributes only
		attrs, diags := body.JustAttributes()
		return attrs, nil, diags
	}
	var lifecycle hcl.Blocks
	for _, blk := range sb.Blocks {
		if blk.Type != "lifecycle" || len(blk.Labels) > 0 {
			detail := fmt.Sprintf("A module call takes attributes (source, on, after and the module's inputs, name = value) and one lifecycle block without labels; %q is not one of them.", blk.Type)
			if s := suggest(blk.Type, []string{"lifecycle"}); s != "" && blk.Type != s {
				detail += fmt.Sprintf(" Did you mean %q?", s)
			}
			if blk.Type == "precondition" {
				detail += " A rule the hosts must meet is a precondition of a step of the calling recipe that the module's work waits for (after = [step.NAME]), or of the module's own steps; a rule over the inputs is a validation block of the module's variable."
			}
			return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Block in a module call",
				Detail:  detail,
				Subject: blk.DefRange().Ptr()}}
		}
		lifecycle = append(lifecycle, blk.AsHCLBlock())
	}
	attrs := make(hcl.Attributes, len(sb.Attributes))
	for name, a := range sb.Attributes {
		attrs[name] = a.AsHCLAttribute()
	}
	return attrs, lifecycle, nil
}

// decodeLifecycle decodes a module call's lifecycle blocks (at most one,
// holding enabled) and returns enabled (nil when not set).
func decodeLifecycle(blocks hcl.Blocks) (hcl.Expression, hcl.Diagnostics) {
	if len(blocks) == 0 {
		return nil, nil
	}
	if len(blocks) > 1 {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Duplicate lifecycle block",
			Detail:  fmt.Sprintf("A module call has at most one lifecycle block; the first is at %s.", rangeString(blocks[0].DefRange)),
			Subject: blocks[1].DefRange.Ptr()}}
	}
	content, diags := bodyContent(blocks[0].Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "enabled"}}})
	if diags.HasErrors() {
		for _, d := range diags {
			d.Detail += " A module call's lifecycle block takes enabled = CONDITION only (OpenTofu's enabled meta-argument): false turns the call off."
		}
		return nil, diags
	}
	a := content.Attributes["enabled"]
	if a == nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Empty lifecycle block",
			Detail:  "A module call's lifecycle block says whether the call is on: enabled = CONDITION (e.g. enabled = var.package_repository != null).",
			Subject: blocks[0].DefRange.Ptr()}}
	}
	return a.Expr, nil
}

// decodeMoved decodes `moved { from = step.a  to = module.b.step.a }`.
func (r *Recipe) decodeMoved(b *hcl.Block, n *namespace) hcl.Diagnostics {
	content, diags := bodyContent(b.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "from", Required: true}, {Name: "to", Required: true}}})
	if diags.HasErrors() {
		return diags
	}
	mv := &Moved{DeclRange: b.DefRange, In: n.mod}
	for _, x := range []struct {
		name      string
		dst, text *string
		rng       *hcl.Range
	}{{"from", &mv.From, &mv.fromText, &mv.FromRange}, {"to", &mv.To, &mv.toText, &mv.ToRange}} {
		e := content.Attributes[x.name].Expr
		*x.rng = e.Range()
		a, ok := movedAddr(e)
		*x.text = a
		caller := false
		if rest, cut := strings.CutPrefix(a, "caller."); cut && ok {
			a, caller = rest, true
			switch {
			case x.name == "to":
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid moved address",
					Detail:  "Only from may name an address of the caller (caller.…): a module's moved block moves state into the module, so to names one of its own steps or modules." + n.mod.calledAt(),
					Subject: e.Range().Ptr()})
				continue
			case n.mod == nil:
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid moved address",
					Detail:  "caller.… names an address of the namespace that calls a module; a recipe has no caller. Write from = step.NAME or module.NAME.",
					Subject: e.Range().Ptr()})
				continue
			}
		}
		if !ok {
			callerNote := ""
			if n.mod != nil {
				callerNote = " In a module, from = caller.step.NAME or caller.module.M… names where the module's steps were in its caller before."
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid moved address",
				Detail: fmt.Sprintf("%s must name a step (step.NAME, module.M.step.NAME) or a module (module.M), without quotes and without an instance key.%s%s%s",
					x.name, movedAddrHint(e, x.name), callerNote, n.mod.calledAt()),
				Subject: e.Range().Ptr()})
			continue
		}
		switch {
		case caller:
			mv.By = n.mod
			if p := n.mod.Parent; p != nil {
				a = p.Addr + "." + a
			}
		case n.mod != nil:
			a = n.mod.Addr + "." + a
		}
		*x.dst = a
	}
	if !diags.HasErrors() {
		r.Moved = append(r.Moved, mv)
	}
	return diags
}

// movedAddrHint says what to write for a moved address that movedAddr
// refuses, where the mistake is a common one: quotes around it (as
// Terraform's state mv takes it), an instance key, or module.M.NAME
// without "step.".
func movedAddrHint(e hcl.Expression, attr string) string {
	tr, d := hcl.AbsTraversalForExpr(e)
	if d.HasErrors() {
		v, vd := e.Value(nil)
		if vd.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
			return ""
		}
		str := v.AsString()
		inner, pd := hclsyntax.ParseTraversalAbs([]byte(str), "", hcl.InitialPos)
		if pd.HasErrors() {
			return ""
		}
		if a, ok := movedAddr(&hclsyntax.ScopeTraversalExpr{Traversal: inner}); ok {
			return fmt.Sprintf(" Write it without quotes: %s = %s.", attr, a)
		}
		return ""
	}
	var kept hcl.Traversal
	keyed := false
	for _, t := range tr {
		if _, ok := t.(hcl.TraverseIndex); ok {
			keyed = true
			continue
		}
		kept = append(kept, t)
	}
	if a, ok := movedAddr(&hclsyntax.ScopeTraversalExpr{Traversal: kept}); ok && keyed {
		return fmt.Sprintf(" A moved block moves every instance of a step (%s = %s); to move one instance, use diffuser state mv WORKSPACE FROM TO.", attr, a)
	}
	// module.M.NAME (or caller.module.M.NAME): "step." left out.
	if n := len(kept); n >= 3 && !keyed {
		fixed := append(append(hcl.Traversal{}, kept[:n-1]...), hcl.TraverseAttr{Name: "step"}, kept[n-1])
		if a, ok := movedAddr(&hclsyntax.ScopeTraversalExpr{Traversal: fixed}); ok {
			return fmt.Sprintf(" Did you mean %s = %s?", attr, a)
		}
	}
	return ""
}

// movedAddr renders step.x, module.a.step.x or module.a from a traversal,
// each optionally after caller. (the string then starts with "caller.",
// and ok says whether the rest is an address).
func movedAddr(e hcl.Expression) (string, bool) {
	tr, d := hcl.AbsTraversalForExpr(e)
	if d.HasErrors() {
		return "", false
	}
	var parts []string
	for _, t := range tr {
		var name string
		switch t := t.(type) {
		case hcl.TraverseRoot:
			name = t.Name
		case hcl.TraverseAttr:
			name = t.Name
		default:
			return "", false
		}
		parts = append(parts, name)
	}
	prefix := ""
	if len(parts) > 0 && parts[0] == "caller" {
		prefix, parts = "caller.", parts[1:]
	}
	// module.N pairs, then optionally step.N.
	i := 0
	for i+1 < len(parts) && parts[i] == "module" {
		i += 2
	}
	switch {
	case i == len(parts) && i > 0:
	case i+2 == len(parts) && parts[i] == "step":
	default:
		return prefix, false
	}
	return prefix + strings.Join(parts, "."), true
}

// loadModules loads the source of every module call of n, and of theirs,
// depth first. display names the recipe for messages; rootDisplay
// prefixes file names of modules in the recipe's own directory.
func (r *Recipe) loadModules(n *namespace, display, rootDisplay string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, m := range n.modList {
		diags = append(diags, r.loadModule(m, n, rootDisplay)...)
	}
	return diags
}

func (r *Recipe) loadModule(m *Module, caller *namespace, rootDisplay string) hcl.Diagnostics {
	bad := func(summary, detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail + caller.mod.calledAt(),
			Subject: m.sourceRange().Ptr()}}
	}
	if m.badSource {
		return nil // reported when decoding
	}
	if m.depth > MaxModuleDepth {
		return bad("Modules nested too deep", fmt.Sprintf("%s is nested %d modules deep; modules may nest at most %d deep. Flatten the chain: %s.",
			m.Addr, m.depth, MaxModuleDepth, m.chain()))
	}
	var fsys fs.FS
	var root, dir, display string
	switch {
	case strings.HasPrefix(m.Source, BuiltinPrefix):
		name := strings.TrimPrefix(m.Source, BuiltinPrefix)
		if r.builtin == nil {
			return bad("No built-in modules", "This diffuser was given no built-in modules to load "+m.Source+" from.")
		}
		if !hclIdent(name) {
			return bad("Unknown built-in module", fmt.Sprintf("%q is not a module name; built-in modules: %s.", name, strings.Join(ModuleNames(r.builtin), ", ")))
		}
		if fi, err := fs.Stat(r.builtin, name); err != nil || !fi.IsDir() {
			known := ModuleNames(r.builtin)
			detail := fmt.Sprintf("There is no built-in module %q.", name)
			if s := suggest(name, known); s != "" {
				detail += fmt.Sprintf(" Did you mean %q?", BuiltinPrefix+s)
			} else {
				detail += " Built-in modules: " + strings.Join(known, ", ") + "."
			}
			return bad("Unknown built-in module", detail)
		}
		fsys, root, dir, display = r.builtin, ".", name, BuiltinPrefix+name
		m.key = "builtin:" + name
	case strings.HasPrefix(m.Source, "./") || strings.HasPrefix(m.Source, "../"):
		dir = path.Join(caller.dir, m.Source)
		if !within(caller.root, dir) {
			return bad("Module source outside the recipe", fmt.Sprintf("%q leaves the recipe's directory; a module source must be inside it (move the module into the recipe's directory, or use a built-in module).", m.Source))
		}
		if !caller.builtin && dir == r.root.dir {
			return bad("Module includes itself", fmt.Sprintf("%q is the recipe's own directory: a recipe cannot call itself as a module. "+
				"Put the module's .hcl files in a directory of their own (source = \"./modules/NAME\").", m.Source))
		}
		fsys, root = caller.fsys, caller.root
		rel := strings.TrimPrefix(strings.TrimPrefix(dir, root), "/")
		if root == "." {
			rel = dir
		}
		display = path.Join(rootDisplay, rel)
		if caller.builtin {
			// inside a built-in module: name files as the module does
			display = BuiltinPrefix + dir
		}
		m.key = "dir:" + dir
		if caller.builtin {
			m.key = "builtin-dir:" + dir
		}
	default:
		detail := fmt.Sprintf("%q is not a module source: write \"./DIR\" (a directory relative to this file) or \"builtin/NAME\" (see `diffuser recipes list`).", m.Source)
		if fi, err := fs.Stat(caller.fsys, path.Join(caller.dir, m.Source)); err == nil && fi.IsDir() && within(caller.root, path.Join(caller.dir, m.Source)) {
			detail += fmt.Sprintf(" Did you mean %q?", "./"+path.Clean(m.Source))
		} else if r.builtin != nil && hclIdent(m.Source) {
			if fi, err := fs.Stat(r.builtin, m.Source); err == nil && fi.IsDir() {
				detail += fmt.Sprintf(" Did you mean %q?", BuiltinPrefix+m.Source)
			}
		} else if remoteSource(m.Source) {
			detail += " diffuser fetches no modules (no registries, git or URLs): copy the module's directory into the recipe's and write source = \"./modules/NAME\"."
		}
		return bad("Invalid module source", detail)
	}
	for p := m.Parent; p != nil; p = p.Parent {
		if p.key == m.key {
			return bad("Module includes itself", fmt.Sprintf("%s loads %s, which is already being loaded above it: %s. A module cannot contain itself.", m.Addr, m.Source, m.chain()))
		}
	}
	if r.tooMany || r.tooManySteps || r.tooLarge {
		return nil // reported once, at the call or step that went past the bound
	}
	if r.modules++; r.modules > MaxModules {
		r.tooMany = true
		return bad("Too many module instances", fmt.Sprintf("Loading %s would make more than %d module instances in the recipe (every call of a module is one, and the calls inside it are as many again for each). "+
			"Call modules fewer times, or nest calls less: %s.", m.Addr, MaxModules, m.chain()))
	}
	m.ns = newNamespace(m, fsys, root, dir, functions(fileRoot{fsys: fsys, dir: dir, module: true}))
	m.ns.builtin = strings.HasPrefix(m.key, "builtin:") || caller.builtin
	names, err := moduleFiles(fsys, dir)
	if err != nil {
		if escapesDir(err) {
			return bad("Module source outside the recipe", fmt.Sprintf("%q is, or is inside, a symbolic link to outside the recipe's directory; a module source must be inside it (copy the module into the recipe's directory, or use a built-in module).", m.Source))
		}
		why := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			// Not the syscall (openat ...): what is missing, in the recipe's terms.
			why = fmt.Sprintf("there is no directory %s in the recipe", dir)
		}
		return bad("Cannot read module", fmt.Sprintf("%s: %s.%s", m.Source, why, missingModuleHint(fsys, dir, m.Source)))
	}
	var diags hcl.Diagnostics
	for _, name := range names {
		fname := path.Join(display, name)
		b, size, err := readText(fsys, path.Join(dir, name))
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read module file",
				Detail: fmt.Sprintf("%s: %s.%s", fname, describeReadErr(path.Join(m.Source, name), err), caller.mod.calledAt()), Subject: m.CallRange.Ptr()})
			continue
		}
		if d := checkText(fname, b, size); d != nil {
			diags = append(diags, d)
			continue
		}
		if !r.parsed[fname] {
			if d := r.addBytes(fname, size); d != nil {
				d.Detail += caller.mod.calledAt()
				d.Subject = m.CallRange.Ptr()
				return append(diags, d)
			}
		}
		f, d := r.parser.ParseHCL(unixNewlines(b), fname)
		diags = append(diags, d...)
		if f == nil || d.HasErrors() {
			continue
		}
		if !r.parsed[fname] {
			r.parsed[fname] = true
			if body, ok := f.Body.(*hclsyntax.Body); ok {
				diags = append(diags, capExprs(body)...)
			}
		}
		diags = append(diags, annotate(r.decodeBody(f.Body, m.ns), m)...)
	}
	if diags.HasErrors() {
		return diags
	}
	m.Description = m.ns.info
	m.Variables, m.Locals, m.Steps, m.Modules, m.Outputs = m.ns.varList, m.ns.localList, m.ns.stepList, m.ns.modList, m.ns.outList
	for _, cm := range m.ns.modList {
		diags = append(diags, r.loadModule(cm, m.ns, rootDisplay)...)
	}
	return diags
}

// sourceRange is where the call's source is written, else its header.
func (m *Module) sourceRange() hcl.Range {
	if m.srcRange.Filename != "" {
		return m.srcRange
	}
	return m.CallRange
}

// chain renders the calls from the root down to m.
func (m *Module) chain() string {
	var parts []string
	for p := m; p != nil; p = p.Parent {
		parts = append([]string{fmt.Sprintf("%s (%s, %s)", p.Addr, p.Source, rangeString(p.CallRange))}, parts...)
	}
	return strings.Join(parts, " -> ")
}

// remoteSource says whether a module source is one Terraform would fetch:
// a git, Mercurial, S3 or GCS address, a URL, or a registry address
// (NAMESPACE/NAME/SYSTEM).
func remoteSource(src string) bool {
	for _, p := range []string{"git::", "hg::", "s3::", "gcs::", "http://", "https://", "git@", "github.com/", "bitbucket.org/"} {
		if strings.HasPrefix(src, p) {
			return true
		}
	}
	parts := strings.Split(src, "/")
	return (len(parts) == 3 || len(parts) == 4) && !strings.HasPrefix(src, ".") && parts[0] != strings.TrimSuffix(BuiltinPrefix, "/")
}

// within says whether dir is root or inside it (both cleaned, slash-separated).
func within(root, dir string) bool {
	if root == "." {
		return dir != ".." && !strings.HasPrefix(dir, "../")
	}
	return dir == root || strings.HasPrefix(dir, root+"/")
}

// unsupportedModuleArgHint says what to write instead of a module call
// argument diffuser does not take.
var unsupportedModuleArgHint = map[string]string{
	"after_all":  "after = [...] at the call, or after_all on the module's steps",
	"count":      "a module's steps already run once per host of the call's on; for more copies call the module again under another name, and to turn the call off write lifecycle { enabled = CONDITION } instead of count = CONDITION ? 1 : 0",
	"for_each":   "a module's steps already run once per host of the call's on; for more copies call the module again under another name, and to turn the call off write lifecycle { enabled = CONDITION }",
	"depends_on": "use after = [...] for order",
	"providers":  "hosts come from the root recipe's host groups: pass them as inputs",
}

// callArguments are the arguments of a module call that are not the
// module's inputs, for "did you mean" on a misspelt one (aftr = [...]).
var callArguments = []string{"after", "on", "reload_on", "restart_on", "source"}

var callArgumentHelp = map[string]string{
	"after":      "every step of the module waits for these",
	"on":         "the hosts the module's steps run on",
	"restart_on": "the module's service steps restart when these change",
	"reload_on":  "the module's service steps reload when these change",
	"source":     "the module's directory or builtin/NAME",
}

// unknownInputHint says what to write instead of a meta-argument of
// Terraform or OpenTofu that diffuser reads as a module input, for a
// module that declares no variable of that name.
var unknownInputHint = map[string]string{
	"enabled": "To turn the call off, write lifecycle { enabled = CONDITION } in the module block (OpenTofu's enabled meta-argument; Terraform's count = CONDITION ? 1 : 0).",
	"version": "Modules have no versions: a source is a directory (\"./DIR\") or a module built into this diffuser (\"builtin/NAME\"); remove version.",
}

// missingModuleHint suggests, for a local module directory that cannot be
// read, the directory beside it with the nearest name, or lists the ones
// there are.
func missingModuleHint(fsys fs.FS, dir, source string) string {
	if _, err := fs.Stat(fsys, dir); err == nil {
		return " A module directory holds the module's .hcl files."
	}
	ents, err := fs.ReadDir(fsys, path.Dir(dir))
	if err != nil {
		return ""
	}
	var dirs []string
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if s := suggest(path.Base(dir), dirs); s != "" {
		return fmt.Sprintf(" Did you mean %q?", source[:strings.LastIndex(source, "/")+1]+s)
	}
	if len(dirs) > 0 {
		return fmt.Sprintf(" Directories beside it: %s.", strings.Join(dirs, ", "))
	}
	return " Make the directory and put the module's .hcl files in it, or use a built-in module (diffuser recipes list)."
}

func moduleFiles(fsys fs.FS, dir string) ([]string, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".hcl") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no .hcl files in %s", dir)
	}
	if err := tooManyFiles(dir, len(names)); err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// Annotate adds to each diagnostic's detail where module m (nil: the root
// recipe, nothing added) was called, for problems found in its files after
// loading (the engine's checks of evaluated arguments).
func Annotate(diags hcl.Diagnostics, m *Module) hcl.Diagnostics { return annotate(diags, m) }

// annotate adds to diagnostics inside module m where m was called. One
// whose subject is in the call itself (an input's expression, its on) is
// in the caller's file: it gets the caller's annotation, if any.
func annotate(diags hcl.Diagnostics, m *Module) hcl.Diagnostics {
	for _, d := range diags {
		in := m
		for in != nil && d.Subject != nil && in.callHolds(*d.Subject) {
			in = in.Parent
		}
		if in == nil {
			continue
		}
		if at := in.calledAt(); !strings.Contains(d.Detail, at) {
			d.Detail += at
		}
	}
	return diags
}

// callHolds says whether r is inside one of the expressions of m's call:
// an input, on or the lifecycle condition.
func (m *Module) callHolds(r hcl.Range) bool {
	inside := func(e hcl.Expression) bool {
		if e == nil {
			return false
		}
		c := e.Range()
		return c.Filename == r.Filename && c.Start.Byte <= r.Start.Byte && r.End.Byte <= c.End.Byte
	}
	if inside(m.On) || inside(m.Enabled) {
		return true
	}
	// A call without on runs its steps on its caller's: a mistake in
	// that on is the caller's, not this call's.
	for p := m; p.On == nil && p.Parent != nil; {
		p = p.Parent
		if inside(p.On) {
			return true
		}
	}
	for _, a := range m.Inputs {
		if inside(a.Expr) {
			return true
		}
	}
	return false
}

// ModuleNames lists the modules of a built-in module FS: its directories.
func ModuleNames(fsys fs.FS) []string {
	if fsys == nil {
		return nil
	}
	ents, _ := fs.ReadDir(fsys, ".")
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// AllModules lists every module instance of the recipe, parents before
// their calls, in declaration order.
func (r *Recipe) AllModules() []*Module {
	var out []*Module
	var walk func([]*Module)
	walk = func(ms []*Module) {
		for _, m := range ms {
			if m.ns == nil {
				continue
			}
			out = append(out, m)
			walk(m.Modules)
		}
	}
	walk(r.Modules)
	return out
}

// checkMoved checks the moved blocks: from no longer in the recipe, to in
// it, the same kind of thing on both sides, no chains and no conflicts.
// A module's history (Moved.By) is checked for its to, its kinds and
// that its from is outside the module; it is dropped from r.Moved where
// its from is still declared (that caller never had the module's steps
// there) or the caller moves the same from itself. What is left of two
// modules' histories moving the same thing is an error only if state
// holds it (engine).
func (r *Recipe) checkMoved() hcl.Diagnostics {
	var diags hcl.Diagnostics
	isStep := isMovedStep
	// Every address once: a recipe may hold thousands of moved blocks.
	addrs := map[string]bool{}
	for _, st := range r.Steps {
		addrs[st.Addr()] = true
	}
	for _, m := range r.AllModules() {
		addrs[m.Addr] = true
	}
	exists := func(a string) bool { return addrs[a] }
	known := map[string][]string{} // unknownMovedTo's lists, by place and kind
	// declared says whether the caller of m declares a, or a module call
	// a is inside of.
	declared := func(a string, m *Module) bool {
		if exists(a) {
			return true
		}
		base := ""
		if m.Parent != nil {
			base = m.Parent.Addr + "."
		}
		parts := strings.Split(strings.TrimPrefix(a, base), ".")
		for i := 2; i < len(parts) && parts[i-2] == "module"; i += 2 {
			if exists(base + strings.Join(parts[:i], ".")) {
				return true
			}
		}
		return false
	}
	froms, tos := map[string]*Moved{}, map[string]*Moved{}
	var own, carried []*Moved
	for _, mv := range r.Moved {
		if mv.By != nil {
			carried = append(carried, mv)
			continue
		}
		own = append(own, mv)
		bad := func(rng hcl.Range, summary, detail string) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail + mv.In.calledAt(), Subject: rng.Ptr()})
		}
		switch {
		case mv.From == mv.To:
			bad(mv.ToRange, "Moved to itself", fmt.Sprintf("from and to are both %s; remove the block.", mv.fromText))
		case isStep(mv.From) != isStep(mv.To):
			bad(mv.ToRange, "Moved between kinds", fmt.Sprintf("from = %s is a %s and to = %s a %s: move a step to a step, a module to a module.",
				mv.fromText, kindOf(mv.From), mv.toText, kindOf(mv.To)))
		case exists(mv.From):
			bad(mv.FromRange, "Moved from an address still in the "+mv.In.place(), fmt.Sprintf("%s is still declared in the %s, so its state cannot move to %s. "+
				"Remove or rename its block, or remove the moved block.", mv.fromText, mv.In.place(), mv.toText))
		case !exists(mv.To):
			bad(mv.ToRange, "Moved to an unknown address", r.unknownMovedTo(mv, known))
		case froms[mv.From] != nil:
			bad(mv.FromRange, "Conflicting moved blocks", fmt.Sprintf("%s is moved twice (also at %s): state can go to one place only; keep one of the blocks.",
				mv.fromText, rangeString(froms[mv.From].FromRange)))
		case tos[mv.To] != nil:
			bad(mv.ToRange, "Conflicting moved blocks", fmt.Sprintf("Both %s and %s move to %s (the other at %s): keep one.",
				mv.fromText, tos[mv.To].fromText, mv.toText, rangeString(tos[mv.To].ToRange)))
		default:
			froms[mv.From], tos[mv.To] = mv, mv
			if d := selfPrefixedFrom(mv); d != nil {
				diags = append(diags, d)
			}
		}
	}
	for _, mv := range own {
		if prev := tos[mv.From]; prev != nil && froms[mv.From] == mv {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Chained moved blocks",
				Detail: fmt.Sprintf("%s is moved to %s at %s and from there to %s: write one moved block from %s to %s.",
					prev.fromText, mv.fromText, rangeString(prev.ToRange), mv.toText, prev.fromText, mv.toText) + mv.In.calledAt(),
				Subject: mv.FromRange.Ptr()})
		}
	}
	kept := own
	for _, mv := range carried {
		bad := func(rng hcl.Range, summary, detail string) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail + mv.By.calledAt(), Subject: rng.Ptr()})
		}
		switch {
		case mv.From == mv.By.Addr || strings.HasPrefix(mv.From, mv.By.Addr+"."):
			bad(mv.FromRange, "Moved from inside the module", fmt.Sprintf("from = %s names %s, which is this module itself: for a move inside the module write from without caller.",
				mv.fromText, mv.From))
		case isStep(mv.From) != isStep(mv.To):
			bad(mv.ToRange, "Moved between kinds", fmt.Sprintf("from = %s is a %s and to = %s a %s: move a step to a step, a module to a module.",
				mv.fromText, kindOf(mv.From), mv.toText, kindOf(mv.To)))
		case !exists(mv.To):
			bad(mv.ToRange, "Moved to an unknown address", r.unknownMovedTo(mv, known))
		case declared(mv.From, mv.By), froms[mv.From] != nil:
			// The caller declares from, or the module call from is in
			// (its steps never lived in this module), or moves it
			// somewhere itself: not this caller's history.
		default:
			kept = append(kept, mv)
		}
	}
	r.Moved = kept
	return diags
}

// isMovedStep says whether a moved address names a step (else a module).
func isMovedStep(a string) bool {
	return strings.HasPrefix(a, "step.") || strings.Contains(a, ".step.")
}

// kindOf is "step" or "module": what moved address a names.
func kindOf(a string) string {
	if isMovedStep(a) {
		return "step"
	}
	return "module"
}

// place is what declares the addresses of m's moved blocks: "recipe" or
// "module".
func (m *Module) place() string {
	if m == nil {
		return "recipe"
	}
	return "module"
}

// selfPrefixedFrom warns of a moved block in module m whose from starts
// with m's own address (module.share.step.x in module share) where m
// calls no module of that name: from is relative to m, so it names
// module.share.module.share.step.x, which no state holds, and the move
// silently does nothing.
func selfPrefixedFrom(mv *Moved) *hcl.Diagnostic {
	m := mv.In
	rest := m.selfRelative(mv.fromText)
	if rest == "" || (m.ns != nil && m.ns.mods[m.Name] != nil && strings.HasPrefix(mv.fromText, "module."+m.Name+".")) {
		return nil
	}
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Moved from an address inside itself",
		Detail: fmt.Sprintf("Addresses in a module's moved blocks are relative to the module, so from = %s names %s, which only a call of a module %q inside this one could have made. "+
			"Write from = %s for a step of this module, or from = caller.%s for one its caller declared before.", mv.fromText, mv.From, m.Name, rest, rest) + m.calledAt(),
		Subject: mv.FromRange.Ptr()}
}

// selfRelative returns addr without a leading address of module m itself
// (its full address, or module.NAME as its caller writes it), or "" when
// addr has no such prefix: what a moved block in m meant when it wrote
// the address as the recipe sees it.
func (m *Module) selfRelative(addr string) string {
	if m == nil {
		return ""
	}
	for _, p := range []string{m.Addr + ".", "module." + m.Name + "."} {
		if rest, ok := strings.CutPrefix(addr, p); ok {
			return rest
		}
	}
	return ""
}

// unknownMovedTo says that mv's to is not declared where the block is,
// and what is: the nearest name, else the names of its kind. cache keeps
// the names by place and kind across the recipe's blocks.
func (r *Recipe) unknownMovedTo(mv *Moved, cache map[string][]string) string {
	prefix := ""
	if mv.In != nil {
		prefix = mv.In.Addr + "."
	}
	key := prefix + " " + kindOf(mv.To)
	known, ok := cache[key]
	if !ok {
		if isMovedStep(mv.To) {
			for _, st := range r.Steps {
				if a, ok := strings.CutPrefix(st.Addr(), prefix); ok {
					known = append(known, a)
				}
			}
		} else {
			for _, m := range r.AllModules() {
				if a, ok := strings.CutPrefix(m.Addr, prefix); ok {
					known = append(known, a)
				}
			}
		}
		sort.Strings(known)
		cache[key] = known
	}
	to := mv.toText
	detail := fmt.Sprintf("to = %s names no %s the %s declares: a moved block's to is where the state goes, a %s declared beside it.",
		to, kindOf(mv.To), mv.In.place(), kindOf(mv.To))
	if rest := mv.In.selfRelative(to); rest != "" && contains(known, rest) {
		return detail + fmt.Sprintf(" Addresses in a module's moved blocks are relative to the module: write to = %s.", rest)
	}
	var inModule []string // what moved into a call: step.x is module.m.step.x now
	for _, k := range known {
		if strings.HasSuffix(k, "."+to) {
			inModule = append(inModule, k)
		}
	}
	switch s := suggest(to, known); {
	case len(inModule) == 1:
		detail += fmt.Sprintf(" Did you mean %s (%s inside the module call)?", inModule[0], to)
	case s != "":
		detail += fmt.Sprintf(" Did you mean %s?", s)
	case len(known) == 0:
		detail += fmt.Sprintf(" The %s declares no %s: declare it, or remove the moved block.", mv.In.place(), kindOf(mv.To))
	default:
		more := ""
		if len(known) > 10 {
			more = fmt.Sprintf(" and %d more", len(known)-10)
			known = known[:10]
		}
		detail += fmt.Sprintf(" Declared: %s%s. Write one of them, or declare %s.", strings.Join(known, ", "), more, to)
	}
	return detail
}

// ModuleDescription reads the description of module directory dir of
// fsys from its module_info block ("" when it has none), without loading
// the module.
func ModuleDescription(fsys fs.FS, dir string) (string, error) {
	names, err := moduleFiles(fsys, dir)
	if err != nil {
		return "", err
	}
	p := hclparse.NewParser()
	for _, name := range names {
		b, size, err := readText(fsys, path.Join(dir, name))
		if err != nil {
			return "", err
		}
		if d := checkText(name, b, size); d != nil {
			return "", d
		}
		f, diags := p.ParseHCL(unixNewlines(b), path.Join(dir, name))
		if diags.HasErrors() {
			return "", diags
		}
		content, _, _ := f.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "module_info"}}})
		for _, blk := range content.Blocks {
			n := &namespace{mod: &Module{}}
			if d := n.decodeModuleInfo(blk); d.HasErrors() {
				return "", d
			}
			return n.info, nil
		}
	}
	return "", nil
}

// ModuleVariables reads the variable blocks of the module in dir of fsys
// (its inputs, with types, defaults and constraints), without a call:
// `recipes show -vars` lists them.
func ModuleVariables(fsys fs.FS, dir string) ([]*Variable, hcl.Diagnostics) {
	names, err := moduleFiles(fsys, dir)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read module", Detail: err.Error()}}
	}
	p := hclparse.NewParser()
	n := newNamespace(&Module{}, fsys, dir, dir, nil)
	var diags hcl.Diagnostics
	for _, name := range names {
		b, size, err := readText(fsys, path.Join(dir, name))
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read module", Detail: err.Error()}}
		}
		if d := checkText(name, b, size); d != nil {
			return nil, hcl.Diagnostics{d}
		}
		f, d := p.ParseHCL(unixNewlines(b), path.Join(dir, name))
		if d.HasErrors() {
			return nil, d
		}
		content, _, _ := f.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "variable", LabelNames: []string{"name"}}}})
		for _, blk := range content.Blocks {
			diags = append(diags, n.decodeVariable(blk)...)
		}
	}
	return n.varList, diags
}

// MergeCallRepeats folds diagnostics that differ only in the module call
// they were found through (a mistake in a module's file, once per call of
// the module) into one that names every call: "(In module.a, called at
// main.hcl:3; module.b, called at main.hcl:9.)". Exact repeats go too.
func MergeCallRepeats(diags hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		severity        hcl.DiagnosticSeverity
		summary, detail string
		subject         hcl.Range
		inCall          bool
	}
	idx := map[key]int{}
	var calls [][]string
	out := diags[:0:0]
	for _, d := range diags {
		base, call := splitCalledAt(d.Detail)
		k := key{severity: d.Severity, summary: d.Summary, detail: base, inCall: call != ""}
		if d.Subject != nil {
			k.subject = *d.Subject
		}
		if i, ok := idx[k]; ok {
			if call != "" && !slices.Contains(calls[i], call) {
				calls[i] = append(calls[i], call)
			}
			continue
		}
		idx[k] = len(out)
		calls = append(calls, []string{call})
		out = append(out, d)
	}
	for i, d := range out {
		if len(calls[i]) > 1 {
			base, _ := splitCalledAt(d.Detail)
			c := *d
			c.Detail = base + " (In " + strings.Join(calls[i], "; ") + ".)"
			out[i] = &c
		}
	}
	return out
}

// splitCalledAt splits a detail that ends in calledAt's note into the
// text before it and the note's inside ("module.a, called at main.hcl:3").
func splitCalledAt(detail string) (base, call string) {
	i := strings.LastIndex(detail, " (In module.")
	if i < 0 || !strings.HasSuffix(detail, ".)") {
		return detail, ""
	}
	return detail[:i], detail[i+len(" (In ") : len(detail)-len(".)")]
}

// firstService is the first service step inside the call, its nested
// calls' included; nil when it has none.
func (m *Module) firstService() *Step {
	for _, s := range m.Steps {
		if s.Kind == "service" {
			return s
		}
	}
	for _, c := range m.Modules {
		if s := c.firstService(); s != nil {
			return s
		}
	}
	return nil
}

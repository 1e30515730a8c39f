package lang

import (
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"diffuser/internal/ports"
	"diffuser/internal/text"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Source is where a recipe's files are: every *.hcl file directly in Dir of
// FS (or only File when set). Display prefixes file names in diagnostics.
type Source struct {
	FS      fs.FS
	Dir     string
	File    string
	Display string
	// Modules holds the built-in modules (`source = "builtin/NAME"`), one
	// directory per module; nil when there are none.
	Modules fs.FS
}

// MaxFileSize bounds a recipe or site file; anything larger is refused
// before parsing.
const MaxFileSize = 4 << 20

// MaxRecipeBytes bounds the .hcl files of a recipe and its modules
// together (a module's file counted once however often it is called), and
// MaxDirFiles the .hcl files of one recipe or module directory. Loading
// costs about 0.6 s and 80 MB a megabyte and 100 µs and 13 KB a file: 60
// files of 4 MB took 4 minutes and 12 GB to validate, 50,000 empty ones
// 5.6 s and 640 MB. The built-in recipes are a few dozen kilobytes.
const (
	MaxRecipeBytes = 16 << 20
	MaxDirFiles    = 1000
)

// addBytes counts size bytes of file name against MaxRecipeBytes, and
// refuses the file that passes it.
func (r *Recipe) addBytes(name string, size int64) *hcl.Diagnostic {
	if r.loaded += size; r.loaded <= MaxRecipeBytes {
		return nil
	}
	r.tooLarge = true
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Recipe too large",
		Detail: fmt.Sprintf("With %s the recipe's files (its modules' included) come to %d bytes; they may be at most %d in all. "+
			"Is something other than the recipe in its directory? Split a large recipe into several.", name, r.loaded, MaxRecipeBytes)}
}

// Generic step attributes every step may carry, whatever its kind.
var stepAttrs = []string{"on", "after", "after_all", "run", "package", "creates", "unless",
	"env", "timeout", "retries", "sensitive", "destroy", "description", "restart_on", "reload_on", "when_replaced", "drain"}

// Load parses and checks a recipe. kinds maps each step kind to the spec of
// its block. The result is not evaluated: see NewScope.
func Load(src Source, kinds map[string]hcldec.Spec) (*Recipe, hcl.Diagnostics) {
	p := hclparse.NewParser()
	names, err := recipeFiles(src)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read recipe", Detail: err.Error()}}
	}
	var diags hcl.Diagnostics
	var bodies []hcl.Body
	r := &Recipe{}
	// The sizes first: a recipe past the bound is refused before any of
	// it is read.
	var sizes int64
	for _, name := range names {
		if fi, err := fs.Stat(src.FS, path.Join(src.Dir, name)); err == nil && fi.Mode().IsRegular() {
			if sizes += fi.Size(); sizes > MaxRecipeBytes {
				return nil, hcl.Diagnostics{r.addBytes(path.Join(src.Display, name), sizes)}
			}
		}
	}
	for _, name := range names {
		b, size, err := readText(src.FS, path.Join(src.Dir, name))
		display := path.Join(src.Display, name)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read recipe file",
				Detail: fmt.Sprintf("%s: %s.", display, describeReadErr(name, err))})
			continue
		}
		if d := r.addBytes(display, size); d != nil {
			return nil, append(diags, d)
		}
		if d := checkText(display, b, size); d != nil {
			diags = append(diags, d)
			continue
		}
		f, d := p.ParseHCL(unixNewlines(b), display)
		diags = append(diags, d...)
		if f != nil && !d.HasErrors() {
			if body, ok := f.Body.(*hclsyntax.Body); ok {
				diags = append(diags, capExprs(body)...)
			}
			bodies = append(bodies, f.Body)
		}
	}
	r = &Recipe{
		loaded: r.loaded,
		Files:  p.Files(), fsys: src.FS, dir: src.Dir, kinds: kinds,
		groupIdx: map[string]*Group{}, stepIdx: map[string]*Step{},
		parser: p, builtin: src.Modules, parsed: map[string]bool{},
	}
	r.funcs = functions(fileRoot{fsys: src.FS, dir: src.Dir})
	r.root = newNamespace(nil, src.FS, src.Dir, src.Dir, r.funcs)
	r.varIdx, r.localIdx = r.root.vars, r.root.locals
	for name := range p.Files() {
		r.parsed[name] = true
	}
	if diags.HasErrors() {
		return r, diags
	}
	for _, body := range bodies {
		diags = append(diags, r.decodeBody(body, r.root)...)
	}
	r.Variables, r.Locals, r.Outputs, r.Modules = r.root.varList, r.root.localList, r.root.outList, r.root.modList
	diags = MergeCallRepeats(append(diags, r.loadModules(r.root, displayOf(src), src.Display)...))
	if r.Name == "" && r.root.infoRange.Filename != "" {
		// module_info is refused at the root: say what to do instead.
		return r, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "A module, not a recipe",
			Detail: fmt.Sprintf("%s is a module (it has a module_info block): a recipe calls it with module \"NAME\" { source = \"./DIR\" ... }, "+
				"and validating that recipe checks the module with its inputs.", displayOf(src)),
			Subject: r.root.infoRange.Ptr()}}
	}
	if r.Name == "" && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing recipe block",
			Detail: fmt.Sprintf("Add a block `recipe \"NAME\" { description = \"...\" }` to %s.", displayOf(src))})
	}
	if diags.HasErrors() {
		return r, diags
	}
	diags = append(diags, r.analyze()...)
	return r, MergeCallRepeats(diags)
}

func displayOf(src Source) string {
	if src.File != "" {
		return path.Join(src.Display, src.File)
	}
	if src.Display == "" {
		return "the recipe directory"
	}
	return src.Display
}

func recipeFiles(src Source) ([]string, error) {
	if src.File != "" {
		return []string{src.File}, nil
	}
	ents, err := fs.ReadDir(src.FS, src.Dir)
	if err != nil {
		return nil, err
	}
	var names []string
	site := false
	for _, e := range ents {
		switch {
		case e.IsDir() || !strings.HasSuffix(e.Name(), ".hcl"):
		case e.Name() == SiteFileName:
			site = true
		default:
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		if site {
			return nil, fmt.Errorf("no .hcl files in %s but %s, which is a site file, never part of a recipe: put the recipe's blocks in another file (main.hcl)", displayOf(src), SiteFileName)
		}
		return nil, fmt.Errorf("no .hcl files in %s", displayOf(src))
	}
	if err := tooManyFiles(displayOf(src), len(names)); err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// tooManyFiles refuses a recipe or module directory dir of more than
// MaxDirFiles .hcl files.
func tooManyFiles(dir string, n int) error {
	if n <= MaxDirFiles {
		return nil
	}
	return fmt.Errorf("%s holds %d .hcl files; a recipe or module directory may hold at most %d. Is it the right directory?", dir, n, MaxDirFiles)
}

// checkText refuses files that are too large or not text, with a diagnostic
// naming the file, before the parser sees them.
// size is the file's full size; b may hold only its first MaxFileSize+1
// bytes (readText).
func checkText(name string, b []byte, size int64) *hcl.Diagnostic {
	if size > MaxFileSize || len(b) > MaxFileSize {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "File too large",
			Detail:  fmt.Sprintf("%s is %d bytes; recipe and site files may be at most %d bytes. Is this the right file?", name, max(size, int64(len(b))), MaxFileSize),
			Subject: &hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos}}
	}
	for i, c := range b {
		if c == 0 {
			pos := posAt(b, i)
			return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Binary file",
				Detail:  fmt.Sprintf("%s contains a NUL byte at line %d; recipes are HCL text files.", name, pos.Line),
				Subject: &hcl.Range{Filename: name, Start: pos, End: pos}}
		}
	}
	if i := text.Invalid(string(b)); i >= 0 {
		// HCL's native syntax refuses such bytes, but its JSON parser
		// takes each as U+FFFD: the value used would not be the one written.
		pos := posAt(b, i)
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid character encoding",
			Detail:  fmt.Sprintf("%s is not UTF-8 text (an invalid byte at line %d): save it as UTF-8 in your editor; binary data goes to hosts with a distribute step, or base64-encoded and decoded on the host (base64 -d).", name, pos.Line),
			Subject: &hcl.Range{Filename: name, Start: pos, End: pos}}
	}
	return checkNesting(name, b)
}

// MaxNesting bounds how deep brackets, braces, parentheses, quotes and
// template interpolations nest in one file. The parser, the formatter and
// the evaluator recurse once per level: a file of a few hundred kilobytes
// of "[" would exhaust the stack, which is a fatal error, not a diagnostic.
const MaxNesting = 256

// checkNesting refuses a file nested deeper than MaxNesting, pointing at
// the opening token one level too deep. It reads the file's tokens (the
// lexer does not recurse), so brackets inside strings and comments do not
// count.
func checkNesting(name string, b []byte) *hcl.Diagnostic {
	toks, _ := hclsyntax.LexConfig(b, name, hcl.InitialPos)
	return nestingProblem(name, toks)
}

// checkTemplateNesting is checkNesting for a template file
// (templatefile): its text outside ${...} and %{...} is not tokens of
// expressions.
func checkTemplateNesting(name string, b []byte) *hcl.Diagnostic {
	toks, _ := hclsyntax.LexTemplate(b, name, hcl.InitialPos)
	return nestingProblem(name, toks)
}

func nestingProblem(name string, toks hclsyntax.Tokens) *hcl.Diagnostic {
	depth := 0
	for i, t := range toks {
		if i > 0 && toks[i-1].Type == hclsyntax.TokenTemplateControl && t.Type == hclsyntax.TokenIdent {
			// %{ if } ... %{ endif } and %{ for } ... %{ endfor } are a
			// level each, as the parser reads them.
			switch string(t.Bytes) {
			case "if", "for":
				t.Type = hclsyntax.TokenOBrace
			case "endif", "endfor":
				t.Type = hclsyntax.TokenCBrace
			}
		}
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenOQuote,
			hclsyntax.TokenOHeredoc, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			if depth++; depth > MaxNesting {
				return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Nested too deep",
					Detail: fmt.Sprintf("%s nests brackets, braces, parentheses, strings and ${...} more than %d deep at line %d, column %d; "+
						"no recipe needs that many. Split the expression into locals.", name, MaxNesting, t.Range.Start.Line, t.Range.Start.Column),
					Subject: t.Range.Ptr()}
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCQuote,
			hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			depth = max(depth-1, 0)
		}
	}
	return nil
}

func posAt(b []byte, off int) hcl.Pos {
	line, col := 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return hcl.Pos{Line: line, Column: col, Byte: off}
}

var recipeSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "recipe", LabelNames: []string{"name"}},
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "hosts", LabelNames: []string{"name"}},
	{Type: "step", LabelNames: []string{"name"}},
	{Type: "verify", LabelNames: []string{"name"}},
	{Type: "output", LabelNames: []string{"name"}},
	{Type: "precondition"},
	{Type: "module", LabelNames: []string{"name"}},
	{Type: "moved"},
	{Type: "module_info"},
}}

// decodeBody decodes one file's blocks into namespace n: the root recipe,
// or a module (which has no recipe, hosts or precondition blocks).
func (r *Recipe) decodeBody(body hcl.Body, n *namespace) hcl.Diagnostics {
	content, diags := bodyContent(body, recipeSchema)
	for _, b := range content.Blocks {
		if d := n.refuseBlock(b); d != nil {
			diags = append(diags, d)
			continue
		}
		switch b.Type {
		case "module":
			diags = append(diags, r.decodeModuleCall(b, n)...)
		case "moved":
			diags = append(diags, r.decodeMoved(b, n)...)
		case "module_info":
			diags = append(diags, n.decodeModuleInfo(b)...)
		case "recipe":
			diags = append(diags, r.decodeRecipe(b)...)
		case "variable":
			diags = append(diags, n.decodeVariable(b)...)
		case "locals":
			diags = append(diags, n.decodeLocals(b)...)
		case "hosts":
			diags = append(diags, r.decodeGroup(b)...)
		case "step":
			diags = append(diags, r.decodeStep(b, n)...)
		case "verify":
			diags = append(diags, r.decodeVerify(b, n)...)
		case "output":
			diags = append(diags, n.decodeOutput(b)...)
		case "precondition":
			diags = append(diags, r.decodePrecondition(b, "")...)
		}
	}
	return diags
}

// MaxName is the longest name a block may have, and MaxGroupName a host
// group's. Names become parts of container, network, volume file and
// cluster names (a file name has at most 255 bytes), and a host's name on
// its network is GROUP-INDEX, a DNS label and Linux host name of at most
// 63 characters: a longer one was refused by the kernel only when the
// host started (sethostname), after its volume files were made.
const (
	MaxName      = 64
	MaxGroupName = 50
)

func validName(b *hcl.Block) *hcl.Diagnostic {
	name := b.Labels[0]
	if !hclIdent(name) {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + b.Type + " name",
			Detail:  fmt.Sprintf("%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name),
			Subject: b.LabelRanges[0].Ptr()}
	}
	limit, why := MaxName, "names become parts of container, volume and file names"
	if b.Type == "hosts" {
		limit, why = MaxGroupName, "a host's name on its network is GROUP-INDEX, a DNS label of at most 63 characters"
	}
	if len(name) > limit {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + b.Type + " name",
			Detail:  fmt.Sprintf("%q is %d characters long; use at most %d: %s.", name[:limit]+"...", len(name), limit, why),
			Subject: b.LabelRanges[0].Ptr()}
	}
	return nil
}

// asciiNames refuses the names of attrs that are not names as blocks have
// them (hclIdent): HCL takes any Unicode letter in an attribute name, so
// "kеy" with a Cyrillic е would be a second name that reads as "key".
// The names are checked in order, so the diagnostics are too.
func asciiNames(what string, attrs hcl.Attributes) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		if !hclIdent(name) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + what + " name",
				Detail:  fmt.Sprintf("%q is not a valid name: use ASCII letters, digits, underscores and dashes, starting with a letter.", name),
				Subject: attrs[name].NameRange.Ptr()})
		}
	}
	return diags
}

func hclIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '-')) {
			return false
		}
	}
	return true
}

func duplicate(kind, name string, prev, this hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate " + kind,
		Detail:  fmt.Sprintf("A %s named %q was already declared at %s. Names must be unique.", kind, name, prev),
		Subject: this.Ptr()}
}

func (r *Recipe) decodeRecipe(b *hcl.Block) hcl.Diagnostics {
	if r.Name != "" {
		return hcl.Diagnostics{duplicate("recipe block", b.Labels[0], r.DeclRange, b.DefRange)}
	}
	// The name is the default workspace, a directory under the data dir.
	if d := validName(b); d != nil {
		return hcl.Diagnostics{d}
	}
	r.Name, r.DeclRange = b.Labels[0], b.DefRange
	content, diags := bodyContent(b.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "description"}, {Name: "ports"}}})
	if a := content.Attributes["description"]; a != nil {
		diags = append(diags, constString(a.Expr, &r.Description)...)
	}
	if a := content.Attributes["ports"]; a != nil {
		v, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			l, err := convert.Convert(v, cty.List(cty.String))
			if err == nil && !l.IsNull() {
				for _, e := range l.AsValueSlice() {
					if e.IsNull() {
						err = fmt.Errorf("null entry")
					}
				}
			}
			if err != nil || l.IsNull() {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid ports",
					Detail: "ports must be a list of strings such as \"24007-24008/tcp glusterd\".", Subject: a.Expr.Range().Ptr()})
			} else {
				// Each entry to the rules the providers that open
				// firewalls read it by, at its own line.
				var elems []hclsyntax.Expression
				if t, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok {
					elems = t.Exprs
				}
				for i, e := range l.AsValueSlice() {
					if _, err := ports.Parse([]string{e.AsString()}); err != nil {
						rng := a.Expr.Range()
						if i < len(elems) {
							rng = elems[i].Range()
						}
						detail := strings.TrimPrefix(err.Error(), "ports: ") + "."
						if !strings.Contains(detail, "PORT[-PORT]") {
							detail += " Each entry is \"PORT[-PORT]/tcp|udp [what]\", such as \"24007-24008/tcp glusterd\" or \"111/tcp+udp portmapper\"."
						}
						diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid ports", Detail: detail, Subject: rng.Ptr()})
						continue
					}
					r.Ports = append(r.Ports, e.AsString())
				}
			}
		}
	}
	return diags
}

func constString(expr hcl.Expression, dst *string) hcl.Diagnostics {
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return diags
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Expected a string",
			Detail: "This must be a literal string.", Subject: expr.Range().Ptr()}}
	}
	*dst = s.AsString()
	return nil
}

func constBool(expr hcl.Expression, dst *bool) hcl.Diagnostics {
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return diags
	}
	s, err := convert.Convert(v, cty.Bool)
	if err != nil || s.IsNull() {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Expected true or false",
			Detail: "This must be a literal bool.", Subject: expr.Range().Ptr()}}
	}
	*dst = s.True()
	return nil
}

// validationRefHint says where a rule that reads more than variables
// goes: a precondition in a recipe reads locals too; a module has none.
func validationRefHint(n *namespace, root string) string {
	if n.mod != nil || root != "local" {
		return ""
	}
	return " A rule that reads locals is a precondition block (docs/writing-recipes.md#precondition)."
}

func (n *namespace) decodeVariable(b *hcl.Block) hcl.Diagnostics {
	if d := validName(b); d != nil {
		return hcl.Diagnostics{d}
	}
	v := &Variable{Name: b.Labels[0], Type: cty.DynamicPseudoType, Default: cty.NilVal, DeclRange: b.DefRange}
	if prev := n.vars[v.Name]; prev != nil {
		return hcl.Diagnostics{duplicate("variable", v.Name, prev.DeclRange, b.DefRange)}
	}
	content, diags := bodyContent(b.Body, &hcl.BodySchema{
		Attributes: append([]hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}}, constraintAttrs...),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
	})
	if a := content.Attributes["type"]; a != nil {
		ty, d := typeexpr.TypeConstraint(a.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type = ty
		}
	}
	if a := content.Attributes["description"]; a != nil {
		diags = append(diags, constString(a.Expr, &v.Description)...)
	}
	if a := content.Attributes["sensitive"]; a != nil {
		diags = append(diags, constBool(a.Expr, &v.Sensitive)...)
	}
	if a := content.Attributes["default"]; a != nil {
		val, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			cv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid default value",
					Detail:  fmt.Sprintf("The default for variable %q does not match its type %s: %v.%s", v.Name, typeexpr.TypeString(v.Type), err, attrTypoHint(val, v.Type)),
					Subject: a.Expr.Range().Ptr()})
			} else {
				v.Default = cv
			}
		}
	}
	if d := decodeConstraints(v, content.Attributes); d.HasErrors() {
		diags = append(diags, d...)
	} else if msg := v.Constraints.Check("var."+v.Name, markSensitive(v.Default, v.Sensitive)); msg != "" {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Default breaks the variable's constraints",
			Detail:  fmt.Sprintf("The default of variable %q does not meet its own constraints: %s.", v.Name, msg),
			Subject: content.Attributes["default"].Expr.Range().Ptr()})
	}
	for _, vb := range content.Blocks {
		vc, d := bodyContent(vb.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
			{Name: "condition", Required: true}, {Name: "error_message", Required: true}}})
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		val := &Validation{Condition: vc.Attributes["condition"].Expr, DeclRange: vb.DefRange}
		diags = append(diags, constString(vc.Attributes["error_message"].Expr, &val.ErrorMessage)...)
		for _, tr := range val.Condition.Variables() {
			name := ""
			if len(tr) >= 2 {
				name = attrName(tr[1])
			}
			if tr.RootName() != "var" || name == "" {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid validation condition",
					Detail: fmt.Sprintf("A validation of variable %q may refer only to variables by name (var.%s, var.OTHER), not to locals, hosts, host or steps.%s",
						v.Name, v.Name, validationRefHint(n, tr.RootName())),
					Subject: tr.SourceRange().Ptr()})
				continue
			}
			if name != v.Name && !slices.Contains(val.Others, name) {
				val.Others = append(val.Others, name)
			}
		}
		v.Validations = append(v.Validations, val)
	}
	n.vars[v.Name] = v
	n.varList = append(n.varList, v)
	return diags
}

func (n *namespace) decodeLocals(b *hcl.Block) hcl.Diagnostics {
	attrs, diags := b.Body.JustAttributes()
	diags = append(diags, asciiNames("local value", attrs)...)
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a := attrs[name]
		if prev := n.locals[name]; prev != nil {
			diags = append(diags, duplicate("local value", name, prev.DeclRange, a.Range))
			continue
		}
		l := &Local{Name: name, Expr: a.Expr, DeclRange: a.Range, Module: n.mod}
		n.locals[name] = l
		n.localList = append(n.localList, l)
	}
	return diags
}

func (r *Recipe) decodeGroup(b *hcl.Block) hcl.Diagnostics {
	if d := validName(b); d != nil {
		return hcl.Diagnostics{d}
	}
	g := &Group{Name: b.Labels[0], DeclRange: b.DefRange}
	if prev := r.groupIdx[g.Name]; prev != nil {
		return hcl.Diagnostics{duplicate("host group", g.Name, prev.DeclRange, b.DefRange)}
	}
	content, diags := bodyContent(b.Body, &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "count"}, {Name: "description"}, {Name: "replace_note"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "volume", LabelNames: []string{"name"}}, {Type: "precondition"}},
	})
	if a := content.Attributes["count"]; a != nil {
		g.Count = a.Expr
	}
	if a := content.Attributes["description"]; a != nil {
		diags = append(diags, constString(a.Expr, &g.Description)...)
	}
	if a := content.Attributes["replace_note"]; a != nil {
		g.ReplaceNote = a.Expr
	}
	seen := map[string]hcl.Range{}
	for _, vb := range content.Blocks {
		if vb.Type == "precondition" {
			diags = append(diags, r.decodePrecondition(vb, g.Name)...)
			continue
		}
		if d := validName(vb); d != nil {
			diags = append(diags, d)
			continue
		}
		if prev, ok := seen[vb.Labels[0]]; ok {
			diags = append(diags, duplicate("volume", vb.Labels[0], prev, vb.DefRange))
			continue
		}
		seen[vb.Labels[0]] = vb.DefRange
		vc, d := bodyContent(vb.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
			{Name: "size_gb", Required: true}, {Name: "type"}}})
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		vol := &VolumeDecl{Name: vb.Labels[0], SizeGB: vc.Attributes["size_gb"].Expr, DeclRange: vb.DefRange}
		if a := vc.Attributes["type"]; a != nil {
			vol.Type = a.Expr
		}
		g.Volumes = append(g.Volumes, vol)
	}
	r.groupIdx[g.Name] = g
	r.Groups = append(r.Groups, g)
	return diags
}

// unsupportedBlockRE reads the block type out of HCL's "Unsupported block
// type" detail.
var unsupportedBlockRE = regexp.MustCompile(`^Blocks of type "([^"]+)" are not expected here`)

// unsupportedArgRE reads the argument name out of HCL's "Unsupported
// argument" detail.
var unsupportedArgRE = regexp.MustCompile(`^An argument named "([^"]+)" is not expected here`)

// misspelt says whether diags hold an "Unsupported argument" whose "Did
// you mean" is name: the argument is then written, misspelt, and is not
// reported missing as well.
func misspelt(diags hcl.Diagnostics, name string) bool {
	for _, d := range diags {
		if d.Summary == "Unsupported argument" && strings.Contains(d.Detail, fmt.Sprintf("Did you mean %q?", name)) {
			return true
		}
	}
	return false
}

// stepMetaArgHint says what a step takes instead of a Terraform
// meta-argument, or of an Ansible task keyword.
var stepMetaArgHint = map[string]string{
	"notify":     "The service step names what restarts it instead, Ansible's handlers turned around: restart_on = [step.NAME] (or reload_on) on the service step restarts it once, after NAME changed on its host, and state keeps a restart owed until it is done.",
	"when":       "A step runs on the hosts of its on: on = CONDITION ? hosts.server : [] turns it off; a precondition block stops it on a host that breaks a rule (host.facts...).",
	"become":     "Steps run as root (through sudo when the SSH user is not root).",
	"tags":       "To apply part of a recipe, give plan and apply -target step.NAME or -target module.NAME (what it needs comes along).",
	"depends_on": "A step waits with after = [step.NAME, module.NAME] (per host where both run on the same hosts, else for every instance) or after_all = [step.NAME] (every instance).",
	"count":      "A step runs once per host of its on: choose the hosts there (on = slice(hosts.server, 0, var.n)), or on = CONDITION ? hosts.server : [] to turn it off.",
	"for_each":   "A step runs once per host of its on: choose the hosts there (on = [for h in hosts.server : h if h.index < var.n]); for several items on one host, loop in the command or write one step per item.",
}

func (r *Recipe) stepSchema() *hcl.BodySchema {
	s := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "capture"}, {Type: "precondition"}}}
	for _, n := range stepAttrs {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: n})
	}
	for _, k := range r.kindNames() {
		// run is shorthand only; package is both: package = [...] or
		// package { names = [...]  state = "absent" }.
		if k != "run" {
			s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: k})
		}
	}
	return s
}

func (r *Recipe) kindNames() []string {
	names := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (r *Recipe) decodeStep(b *hcl.Block, n *namespace) hcl.Diagnostics {
	if d := validName(b); d != nil {
		return hcl.Diagnostics{d}
	}
	if r.steps++; r.steps > MaxSteps {
		if r.tooManySteps {
			return nil
		}
		r.tooManySteps = true
		detail := fmt.Sprintf("The recipe has more than %d steps; diffuser caps them (each costs memory and time at every plan, before any host is counted).", MaxSteps)
		if n.mod != nil {
			detail += " Every instance of a module has its own steps: call modules fewer times, or give them fewer steps."
		} else {
			detail += " Split the recipe into several, or run one step over many hosts instead of a step per host."
		}
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Too many steps", Detail: detail, Subject: b.DefRange.Ptr()}}
	}
	s := &Step{Name: n.qualify(b.Labels[0]), BaseName: b.Labels[0], Module: n.mod, DeclRange: b.DefRange}
	if prev := n.steps[s.BaseName]; prev != nil {
		return hcl.Diagnostics{duplicate("step", s.BaseName, prev.DeclRange, b.DefRange)}
	}
	content, diags := bodyContent(b.Body, r.stepSchema())
	for _, d := range diags {
		// HCL says only "Blocks of type "waitfor" are not expected here."
		if d.Summary == "Unsupported block type" && d.Subject != nil {
			kinds := []string{"capture", "precondition"}
			for _, k := range r.kindNames() {
				if k != "run" {
					kinds = append(kinds, k)
				}
			}
			typ := ""
			if m := unsupportedBlockRE.FindStringSubmatch(d.Detail); m != nil {
				typ = m[1]
			}
			d.Detail = "A step holds one kind block (" + strings.Join(kinds[2:], ", ") + "), capture and precondition blocks; run is written run = \"...\"."
			if sug := suggest(typ, kinds); sug != "" {
				d.Detail = fmt.Sprintf("There is no block %q in a step. Did you mean %q? %s", typ, sug, d.Detail)
			}
		}
	}
	for _, d := range diags {
		if m := unsupportedArgRE.FindStringSubmatch(d.Detail); d.Summary == "Unsupported argument" && m != nil && stepMetaArgHint[m[1]] != "" {
			d.Detail = fmt.Sprintf("A step has no %s. %s", m[1], stepMetaArgHint[m[1]])
		}
	}
	// A misspelt or mislabelled kind block is already reported; do not
	// report the step as having no kind as well.
	schemaErrs := diags.HasErrors()
	at := content.Attributes
	expr := func(n string) hcl.Expression {
		if a := at[n]; a != nil {
			return a.Expr
		}
		return nil
	}
	if a := at["on"]; a != nil {
		s.On = a.Expr
	} else if n.mod == nil && !misspelt(diags, "on") {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing on",
			Detail:  fmt.Sprintf("Step %q must say where it runs, e.g. `on = hosts.server` or `on = hosts.server[0]`.", s.Name),
			Subject: b.DefRange.Ptr()})
	}
	if a := at["description"]; a != nil {
		diags = append(diags, constString(a.Expr, &s.Description)...)
	}
	s.Creates, s.Unless, s.Env = expr("creates"), expr("unless"), expr("env")
	s.Timeout, s.Retries, s.Sensitive, s.Destroy = expr("timeout"), expr("retries"), expr("sensitive"), expr("destroy")
	s.Drain = expr("drain")
	var d hcl.Diagnostics
	s.After, d = n.stepRefs(at["after"], false)
	diags = append(diags, d...)
	s.AfterAll, d = n.stepRefs(at["after_all"], false)
	diags = append(diags, d...)
	diags = append(diags, s.decodeRestart(n, at)...)
	diags = append(diags, s.decodeWhenReplaced(n, at)...)

	type kindDecl struct {
		name string
		rng  hcl.Range
	}
	var found []kindDecl
	var captureRange hcl.Range
	for _, n := range []string{"run", "package"} {
		if a := at[n]; a != nil {
			found = append(found, kindDecl{n, a.NameRange})
			s.Kind, s.Shorthand, s.KindRange = n, a.Expr, a.NameRange
		}
	}
	for _, kb := range content.Blocks {
		if kb.Type == "precondition" {
			p, d := decodePreconditionBlock(kb)
			diags = append(diags, d...)
			if p != nil {
				p.Step = s
				s.Preconditions = append(s.Preconditions, p)
			}
			continue
		}
		if kb.Type == "capture" {
			if s.Capture != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate capture block",
					Detail: "Put every captured output in one capture block.", Subject: kb.DefRange.Ptr()})
				continue
			}
			attrs, d := kb.Body.JustAttributes()
			diags = append(diags, d...)
			diags = append(diags, asciiNames("capture key", attrs)...)
			s.Capture, captureRange = attrs, kb.DefRange
			continue
		}
		found = append(found, kindDecl{kb.Type, kb.DefRange})
		s.Kind, s.KindBody, s.KindRange = kb.Type, kb.Body, kb.DefRange
	}
	switch {
	case len(found) == 0 && !schemaErrs:
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step has no kind",
			Detail: fmt.Sprintf("Step %q must have exactly one of: run = \"...\", package = [...], or one block of %s.",
				s.Name, strings.Join(blockKinds(r.kindNames()), ", ")),
			Subject: b.DefRange.Ptr()})
	case len(found) > 1:
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step has more than one kind",
			Detail: fmt.Sprintf("Step %q declares %s and %s; a step does exactly one kind of work. Split it into two steps and order them with `after`.",
				s.Name, found[0].name, found[1].name),
			Subject: found[1].rng.Ptr()})
	case len(found) == 1 && r.kinds[s.Kind] == nil:
		// Only a shorthand can name a kind the engine did not hand over.
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown step kind",
			Detail:  fmt.Sprintf("This diffuser has no %s step kind; it has %s.", s.Kind, strings.Join(r.kindNames(), ", ")),
			Subject: s.KindRange.Ptr()})
	}
	if s.Kind != "run" && s.Kind != "" {
		for _, n := range []string{"creates", "unless", "env"} {
			if a := at[n]; a != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Attribute only valid for run steps",
					Detail:  fmt.Sprintf("%s guards commands; a %s step checks itself. Remove it, or make this a run step.", n, s.Kind),
					Subject: a.NameRange.Ptr()})
			}
		}
		if s.Capture != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "capture is only valid for run steps",
				Detail:  fmt.Sprintf("A %s step checks itself and has no command output to capture. Capture outputs from a run step.", s.Kind),
				Subject: captureRange.Ptr()})
		}
	}
	n.steps[s.BaseName] = s
	n.stepList = append(n.stepList, s)
	r.stepIdx[s.Name] = s
	r.Steps = append(r.Steps, s)
	return diags
}

func blockKinds(names []string) []string {
	var out []string
	for _, n := range names {
		if n != "run" && n != "package" {
			out = append(out, n+" { ... }")
		}
	}
	return out
}

// stepRefs decodes `after = [step.a, module.b]`. The names are resolved
// to steps (a module's to every step inside it) once every module is
// loaded: see resolveAfter.
// call: a is an argument of a module call, not of a step.
func (n *namespace) stepRefs(a *hcl.Attribute, call bool) ([]Ref, hcl.Diagnostics) {
	if a == nil {
		return nil, nil
	}
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid " + a.Name,
			Detail: a.Name + " must be a list of steps, e.g. [step.packages, step.brick].", Subject: a.Expr.Range().Ptr()}}
	}
	var refs []Ref
	for _, e := range exprs {
		tr, d := hcl.AbsTraversalForExpr(e)
		if d.HasErrors() || len(tr) != 2 || (tr.RootName() != "step" && tr.RootName() != "module") || attrName(tr[1]) == "" {
			detail := "Each entry must name a step as step.<name>, or every step of a module as module.<name>."
			switch {
			case !d.HasErrors() && len(tr) > 2 && tr.RootName() == "module" && attrName(tr[1]) != "":
				// module.m.step.x: one step inside a module is not named.
				// Say what naming the call does: the module named
				// neither waits nor restarts; this step (or the steps of
				// this call) does.
				mod := "module." + attrName(tr[1])
				what := fmt.Sprintf("this step then waits for every step of %s", mod)
				switch {
				case call && a.Name == "after":
					what = fmt.Sprintf("every step of this call then waits for every step of %s", mod)
				case call && a.Name == "restart_on":
					what = fmt.Sprintf("this call's service steps then restart when any step of %s changes", mod)
				case call && a.Name == "reload_on":
					what = fmt.Sprintf("this call's service steps then reload when any step of %s changes", mod)
				case a.Name == "restart_on":
					what = fmt.Sprintf("this service then restarts (a run step runs its command again) when any step of %s changes", mod)
				case a.Name == "reload_on":
					what = fmt.Sprintf("this service then reloads when any step of %s changes", mod)
				}
				detail += fmt.Sprintf(" A step inside a module is not named on its own: write %s = [%s]: %s (nested calls included).", a.Name, mod, what)
				if verb := map[string]string{"restart_on": "restart", "reload_on": "reload"}[a.Name]; verb != "" {
					detail += fmt.Sprintf(" To %s on one file alone, make it a step of the caller, or of a call of its own that holds only the file.", verb)
				}
			case !d.HasErrors() && len(tr) > 2 && tr.RootName() == "step" && attrName(tr[1]) != "":
				// step.x.outputs, step.x["host"]: the step is the unit.
				detail += fmt.Sprintf(" Write step.%s: the pairing rules decide which of its instances each instance waits for.", attrName(tr[1]))
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + a.Name + " entry",
				Detail: detail, Subject: e.Range().Ptr()})
			continue
		}
		ref := Ref{Name: attrName(tr[1]), Range: e.Range(), Attr: a.Name}
		if tr.RootName() == "module" {
			ref.Module = true
		}
		refs = append(refs, ref)
	}
	return refs, diags
}

func attrName(t hcl.Traverser) string {
	if a, ok := t.(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

func (r *Recipe) decodeVerify(b *hcl.Block, n *namespace) hcl.Diagnostics {
	if d := validName(b); d != nil {
		return hcl.Diagnostics{d}
	}
	name := b.Labels[0]
	if n.mod != nil {
		name = n.mod.Addr + ".verify." + name
	}
	for _, prev := range r.Verifies {
		if prev.Name == name {
			return hcl.Diagnostics{duplicate("verify", b.Labels[0], prev.DeclRange, b.DefRange)}
		}
	}
	content, diags := bodyContent(b.Body, &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "on"}, {Name: "path"}, {Name: "enabled"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "failover"}, {Type: "s3"}},
	})
	if diags.HasErrors() {
		return diags
	}
	v := &Verify{Name: name, Module: n.mod, DeclRange: b.DefRange}
	if a := content.Attributes["enabled"]; a != nil {
		v.Enabled = a.Expr
	}
	var failovers []*hcl.Block
	for _, sb := range content.Blocks {
		if sb.Type == "failover" {
			failovers = append(failovers, sb)
			continue
		}
		if v.S3 != nil {
			return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate s3 block",
				Detail: "A verify checks one S3 service: list its gateways in endpoints, or write a second verify block.", Subject: sb.DefRange.Ptr()})
		}
		sc, d := bodyContent(sb.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
			{Name: "endpoints", Required: true}, {Name: "access_key", Required: true}, {Name: "secret_key", Required: true},
			{Name: "region"}, {Name: "bucket"}}})
		diags = append(diags, d...)
		if d.HasErrors() {
			return diags
		}
		v.S3 = &VerifyS3{Endpoints: sc.Attributes["endpoints"].Expr, AccessKey: sc.Attributes["access_key"].Expr, SecretKey: sc.Attributes["secret_key"].Expr}
		if a := sc.Attributes["region"]; a != nil {
			v.S3.Region = a.Expr
		}
		if a := sc.Attributes["bucket"]; a != nil {
			v.S3.Bucket = a.Expr
		}
	}
	on, path := content.Attributes["on"], content.Attributes["path"]
	switch {
	case v.S3 != nil && (on != nil || path != nil || len(failovers) > 0):
		a := on
		if a == nil {
			a = path
		}
		var rng hcl.Range
		if a != nil {
			rng = a.NameRange
		} else {
			rng = failovers[0].DefRange
		}
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "s3 verify takes no on, path or failover",
			Detail: "An s3 block checks the object store from diffuser itself through its endpoints; check a mounted filesystem in a verify block of its own (on and path).", Subject: rng.Ptr()})
	case v.S3 != nil:
		r.Verifies = append(r.Verifies, v)
		return diags
	case on == nil || path == nil:
		missing := "on"
		if on != nil {
			missing = "path"
		}
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing required argument",
			Detail: fmt.Sprintf("The argument %q is required: a verify checks a mounted filesystem (on and path) or an object store (an s3 block).", missing), Subject: b.DefRange.Ptr()})
	}
	v.On, v.Path = on.Expr, path.Expr
	for _, fb := range failovers {
		fc, d := bodyContent(fb.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
			{Name: "on", Required: true}, {Name: "stop", Required: true}, {Name: "start", Required: true}}})
		diags = append(diags, d...)
		switch {
		case d.HasErrors():
		case v.Failover != nil:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate failover block",
				Detail: "A verify stops one daemon at a time: write a second verify block for another failover.", Subject: fb.DefRange.Ptr()})
		default:
			v.Failover = &Failover{On: fc.Attributes["on"].Expr, Stop: fc.Attributes["stop"].Expr, Start: fc.Attributes["start"].Expr}
		}
	}
	r.Verifies = append(r.Verifies, v)
	return diags
}

func (n *namespace) decodeOutput(b *hcl.Block) hcl.Diagnostics {
	if d := validName(b); d != nil {
		return hcl.Diagnostics{d}
	}
	for _, prev := range n.outList {
		if prev.Name == b.Labels[0] {
			return hcl.Diagnostics{duplicate("output", b.Labels[0], prev.DeclRange, b.DefRange)}
		}
	}
	content, diags := bodyContent(b.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "value", Required: true}, {Name: "sensitive"}, {Name: "description"}}})
	if diags.HasErrors() {
		return diags
	}
	o := &Output{Name: b.Labels[0], Value: content.Attributes["value"].Expr, DeclRange: b.DefRange}
	if a := content.Attributes["sensitive"]; a != nil {
		diags = append(diags, constBool(a.Expr, &o.Sensitive)...)
	}
	if a := content.Attributes["description"]; a != nil {
		diags = append(diags, constString(a.Expr, &o.Description)...)
	}
	n.outputs[o.Name] = o
	n.outList = append(n.outList, o)
	return diags
}

// kindSpecVariables lists the traversals in a kind block's body.
func kindSpecVariables(body hcl.Body, spec hcldec.Spec) []hcl.Traversal {
	if body == nil || spec == nil {
		return nil
	}
	return hcldec.Variables(body, spec)
}

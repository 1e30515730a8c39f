package lang

import (
	"diffuser/internal/shell"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"diffuser/internal/text"

	"github.com/hashicorp/go-cty-funcs/cidr"
	"github.com/hashicorp/go-cty-funcs/crypto"
	"github.com/hashicorp/go-cty-funcs/encoding"
	"github.com/hashicorp/go-cty-funcs/uuid"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// ShellQuote quotes s for a POSIX shell: the result is always one word and
// nothing inside it is expanded (shell.Quote; recipes' shellquote).
func ShellQuote(s string) string { return shell.Quote(s) }

var shellQuoteFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "str", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(ShellQuote(args[0].AsString())), nil
	},
})

// functions returns the function table for expressions of a recipe whose
// files live in fsys under dir. file and templatefile read from there only.
func functions(root fileRoot) map[string]function.Function {
	f := map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"max": stdlib.MaxFunc, "min": stdlib.MinFunc, "parseint": stdlib.ParseIntFunc,
		"pow": stdlib.PowFunc, "signum": stdlib.SignumFunc, "log": stdlib.LogFunc,
		"chomp": stdlib.ChompFunc, "format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,
		"indent": stdlib.IndentFunc, "join": stdlib.JoinFunc, "lower": stdlib.LowerFunc,
		"upper": stdlib.UpperFunc, "replace": stdlib.ReplaceFunc, "regex": stdlib.RegexFunc,
		"regexall": stdlib.RegexAllFunc, "regex_replace": stdlib.RegexReplaceFunc,
		"split": stdlib.SplitFunc, "strrev": stdlib.ReverseFunc, "substr": stdlib.SubstrFunc,
		"title": stdlib.TitleFunc, "trim": stdlib.TrimFunc, "trimprefix": stdlib.TrimPrefixFunc,
		"trimsuffix": stdlib.TrimSuffixFunc, "trimspace": stdlib.TrimSpaceFunc,
		"chunklist": stdlib.ChunklistFunc, "coalesce": stdlib.CoalesceFunc,
		"coalescelist": stdlib.CoalesceListFunc, "compact": stdlib.CompactFunc,
		"concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc, "distinct": stdlib.DistinctFunc,
		"element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc, "index": stdlib.IndexFunc,
		"keys": stdlib.KeysFunc, "length": lengthFunc, "lookup": stdlib.LookupFunc,
		"merge": stdlib.MergeFunc, "range": stdlib.RangeFunc, "reverse": stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc, "setproduct": stdlib.SetProductFunc,
		"setunion": stdlib.SetUnionFunc, "slice": stdlib.SliceFunc, "sort": stdlib.SortFunc,
		"values": stdlib.ValuesFunc, "zipmap": stdlib.ZipmapFunc,
		"jsonencode": stdlib.JSONEncodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
		"csvdecode": stdlib.CSVDecodeFunc, "formatdate": stdlib.FormatDateFunc,
		"timeadd":  stdlib.TimeAddFunc,
		"tostring": stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number),
		"tobool":   stdlib.MakeToFunc(cty.Bool),
		"tolist":   stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":    stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"toset":    stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"cidrhost": cidr.HostFunc, "cidrnetmask": cidr.NetmaskFunc, "cidrsubnet": cidr.SubnetFunc,
		"cidrsubnets":  cidr.SubnetsFunc,
		"base64encode": encoding.Base64EncodeFunc, "base64decode": encoding.Base64DecodeFunc,
		"urlencode": encoding.URLEncodeFunc,
		"md5":       crypto.Md5Func, "sha1": crypto.Sha1Func, "sha256": crypto.Sha256Func,
		"sha512": crypto.Sha512Func, "uuid": uuid.V4Func,
		"try": tryfunc.TryFunc, "can": tryfunc.CanFunc,
		"shellquote": shellQuoteFunc,
		"reach_ip":   reachIPFunc,
	}
	f["file"] = fileFunc(root)
	f["templatefile"] = templateFileFunc(root, f)
	capFunctions(f)
	hideSensitiveErrors(f)
	return f
}

// fileRoot is where file and templatefile read: dir of fsys, the
// directory of a recipe or (module set) of a module.
type fileRoot struct {
	fsys   fs.FS
	dir    string
	module bool
}

func (fr fileRoot) read(name string) ([]byte, error) {
	fsys, dir := fr.fsys, fr.dir
	if fsys == nil {
		return nil, fmt.Errorf("no files are readable here")
	}
	// Clean name before joining: joined with a recipe's directory inside a
	// larger FS (the built-in recipes), "../other/x" would stay inside the
	// FS and read another recipe's files.
	rel := path.Clean(name)
	if path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
		if fr.module {
			return nil, fmt.Errorf("%q is outside the module's directory (%s): a module reads only its own files; pass a file of the caller in as an input (name = file(\"...\") at the module call)", name, dir)
		}
		return nil, fmt.Errorf("%q is outside the recipe directory; keep files beside the recipe", name)
	}
	b, size, err := readText(fsys, path.Join(dir, rel))
	if escapesDir(err) {
		return nil, errors.New(describeReadErr(name, err))
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w%s", name, err, fr.nearFileHint(path.Join(dir, rel), err))
	}
	if size > MaxFileSize {
		return nil, fmt.Errorf("%s is %d bytes; files read by a recipe may be at most %d bytes", name, size, MaxFileSize)
	}
	if why := text.Problem(string(b)); why != "" {
		// As Terraform's file(): a string is text. State would record
		// other bytes as U+FFFD, and a NUL cannot reach a command.
		return nil, fmt.Errorf("%s %s; file and templatefile read text files: copy a binary file to hosts with a distribute step, which sends it byte for byte", name, why)
	}
	return b, nil
}

// nearFileHint suggests, for a file a recipe names that does not exist, the
// file beside it with the nearest name (paths are relative to the
// directory of the recipe or module that calls file or templatefile, dir).
func (fr fileRoot) nearFileHint(p string, err error) string {
	if !errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	relative := " (paths are relative to the recipe's directory)"
	if fr.module {
		relative = fmt.Sprintf(" (paths in a module are relative to the module's directory, %s)", fr.dir)
	}
	ents, rerr := fs.ReadDir(fr.fsys, path.Dir(p))
	if rerr != nil {
		return relative
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if s := suggest(path.Base(p), names); s != "" {
		return fmt.Sprintf("; did you mean %q", s)
	}
	return relative
}

// lengthFunc is length as Terraform has it: the number of elements of a
// list, set, tuple or map, or of characters (grapheme clusters) of a
// string. go-cty's stdlib length refuses strings.
var lengthFunc = function.New(&function.Spec{
	Description: "The number of elements of a collection, or of characters of a string.",
	Params:      []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true}},
	Type:        function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if args[0].Type() == cty.String {
			return stdlib.Strlen(args[0])
		}
		return stdlib.Length(args[0])
	},
})

func fileFunc(root fileRoot) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			b, err := root.read(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

func templateFileFunc(root fileRoot, funcs map[string]function.Function) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			b, err := root.read(name)
			if err != nil {
				return cty.NilVal, err
			}
			if d := checkTemplateNesting(name, b); d != nil {
				return cty.NilVal, errors.New(d.Detail)
			}
			expr, diags := hclsyntax.ParseTemplate(b, name, hcl.InitialPos)
			if diags.HasErrors() {
				return cty.NilVal, diags
			}
			if d := capExprs(expr); d.HasErrors() {
				return cty.NilVal, templateError(d, nil)
			}
			vars := map[string]cty.Value{}
			if v := args[1]; !v.IsNull() {
				if !v.Type().IsObjectType() && !v.Type().IsMapType() {
					return cty.NilVal, fmt.Errorf("vars must be an object or map")
				}
				if !v.IsKnown() {
					return cty.UnknownVal(cty.String), nil
				}
				for it := v.ElementIterator(); it.Next(); {
					k, e := it.Element()
					vars[k.AsString()] = e
				}
			}
			inner := map[string]function.Function{}
			for k, fn := range funcs {
				if k != "templatefile" {
					inner[k] = fn
				}
			}
			val, diags := expr.Value(withForBudget(&hcl.EvalContext{Variables: vars, Functions: inner}))
			if diags.HasErrors() {
				return cty.NilVal, templateError(diags, vars)
			}
			// A template that is one ${...} yields that value as it is
			// (HCL's template unwrapping): make it the text it stands for.
			str, err := convert.Convert(val, cty.String)
			if err != nil {
				return cty.NilVal, fmt.Errorf("%s is one ${...} of a %s, which is not text: make it ${jsonencode(...)} or write text around it", name, val.Type().FriendlyName())
			}
			return str, nil
		},
	})
}

// templateError turns the diagnostics of evaluating a template into one
// error naming the template's file and line, without HCL's doubled
// punctuation, and for a variable the call does not pass, what to add to
// templatefile's second argument.
func templateError(diags hcl.Diagnostics, vars map[string]cty.Value) error {
	var parts []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if det := strings.TrimSuffix(d.Detail, "."); det != "" {
			msg += ": " + det
		}
		if d.Subject != nil {
			msg = fmt.Sprintf("%s line %d: %s", d.Subject.Filename, d.Subject.Start.Line, msg)
		}
		if d.Summary == "Unknown variable" {
			passed := make([]string, 0, len(vars))
			for k := range vars {
				passed = append(passed, k)
			}
			sort.Strings(passed)
			name := "NAME"
			if t, ok := d.Expression.(*hclsyntax.ScopeTraversalExpr); ok {
				name = t.Traversal.RootName()
			}
			msg += fmt.Sprintf(" (a template sees only what templatefile's second argument passes: add %s = ... to it", name)
			if len(passed) > 0 {
				msg += "; it passes " + strings.Join(passed, ", ")
			}
			msg += ")"
		}
		parts = append(parts, msg)
	}
	return errors.New(strings.Join(parts, "; "))
}

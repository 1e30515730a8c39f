package lang

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Caps on what one expression may build. A recipe, a site file or a var
// file is read before anything runs, at validate and plan too, so an
// expression must not be able to exhaust memory or time: `setproduct` of
// three range(1000) lists is a billion elements (24 GB), a
// `format("%1000000000d", 1)` a gigabyte string, three nested `for`
// expressions over 1000 elements a billion iterations.
//
// The caps sit far above what any deployment needs and far below what
// hurts: the largest legitimate collections are lists of hosts, and a plan
// of 10,000 hosts (BenchmarkPlan10kHosts) builds lists of 10,000 to
// 100,000 elements (MaxHosts, 100,000, bounds one group). A million
// elements is ten times the largest group; 16 MiB of string is four times
// the largest file a recipe may read (MaxFileSize) and more than any
// command line a host accepts (ARG_MAX is 2 MiB on Linux).
const (
	// MaxCollection bounds the elements one function call may build.
	MaxCollection = 1_000_000
	// MaxStringBytes bounds the length of a string one function call may build.
	MaxStringBytes = 16 << 20
	// MaxForIterations bounds the iterations of all `for` expressions in one
	// evaluation (one value of a local, one step instance's arguments...):
	// nested `for` expressions multiply. Twice MaxHosts: a `for` over the
	// largest group fits, with room; HCL takes about 2µs an iteration, so
	// the cap is reached in well under a second.
	MaxForIterations = 2 * MaxHosts
)

// forFuncName names the budget of `for` iterations in an evaluation
// context (see withForBudget).
const forFuncName = "for expression"

// capFunctions wraps the functions whose output can be far larger than
// their input with a check that refuses, before anything is built, a call
// whose result would pass the caps.
func capFunctions(f map[string]function.Function) {
	guard := func(name string, check func(args []cty.Value) error) {
		if fn, ok := f[name]; ok {
			f[name] = guarded(fn, check)
		}
	}
	guard("setproduct", checkSetProduct)
	guard("format", func(args []cty.Value) error { return checkFormatWidths(args[0]) })
	guard("formatlist", checkFormatList)
	guard("indent", checkIndent)
	guard("replace", checkReplace)
	guard("regex_replace", checkRegexReplace)
	guard("jsondecode", func(args []cty.Value) error { return checkJSONNesting(args[0]) })
	for _, name := range []string{"jsondecode", "tonumber", "parseint", "pow", "log"} {
		// These make numbers out of text, or out of finite numbers an
		// infinite one (pow(10, 400), log(0, 10)).
		if fn, ok := f[name]; ok {
			f[name] = numbersChecked(fn, fn.Description())
		}
	}
}

// checkNumber refuses a number outside float64's range: larger than
// about 1.8e308, or not zero but smaller than about 4.9e-324, and an
// infinite one (which would reach a command as "+Inf"). Numbers are
// arbitrary-precision, and writing one as text ("${...}", format,
// jsonencode, a step's command) takes a digit each: 1e100000000 took
// minutes. Its message does not write the number, for that reason.
func checkNumber(bf *big.Float) error {
	if bf.IsInf() {
		return errors.New("the result is infinite (a division by zero, or past the numbers a recipe computes with, about ±1.8e308)")
	}
	if bf.Sign() == 0 {
		return nil
	}
	if f, _ := bf.Float64(); !math.IsInf(f, 0) && f != 0 {
		return nil
	}
	return fmt.Errorf("the number (about 1e%.0f) is outside the numbers a recipe computes with (about ±1.8e308, down to 4.9e-324)",
		float64(bf.MantExp(nil))/math.Log2(10))
}

// checkNumbers runs checkNumber on every known number in v.
func checkNumbers(v cty.Value) error {
	var err error
	_ = cty.Walk(v, func(_ cty.Path, v cty.Value) (bool, error) {
		v, _ = v.Unmark()
		if err == nil && v.IsKnown() && !v.IsNull() && v.Type() == cty.Number {
			err = checkNumber(v.AsBigFloat())
		}
		return err == nil, nil
	})
	return err
}

// boundedMark is the description of an operator boundedOp wrapped, so
// that it is not wrapped twice.
const boundedMark = "an operator whose result is checked"

// numbersChecked returns fn refusing a result that holds a number
// checkNumber refuses.
func numbersChecked(fn function.Function, description string) function.Function {
	return function.New(&function.Spec{
		Description: description,
		Params:      fn.Params(),
		VarParam:    fn.VarParam(),
		Type:        fn.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, err := fn.Call(args)
			if err == nil {
				err = checkNumbers(v)
			}
			return v, err
		},
	})
}

// boundedOp returns op refusing a result checkNumber refuses: repeated
// products and sums of numbers within the bound can pass it.
// A division or a remainder by zero is refused as such (cty gives x % 0
// as x, and x / 0 as an infinity).
func boundedOp(op *hclsyntax.Operation) *hclsyntax.Operation {
	if op.Type != cty.Number || op.Impl.Description() == boundedMark {
		return op
	}
	impl := op.Impl
	sym := ""
	switch op {
	case hclsyntax.OpDivide:
		sym = "/"
	case hclsyntax.OpModulo:
		sym = "%"
	}
	if sym != "" {
		impl = guarded(impl, func(args []cty.Value) error {
			if d := args[1]; d.IsKnown() && !d.IsNull() && d.Type() == cty.Number && d.AsBigFloat().Sign() == 0 {
				return fmt.Errorf("the right side of %s is zero: a division by zero has no result", sym)
			}
			return nil
		})
	}
	return &hclsyntax.Operation{Impl: numbersChecked(impl, boundedMark), Type: op.Type}
}

// guarded returns fn with check run on its arguments first. Arguments that
// are unknown, null or marked are checked as far as they are known. The
// check runs when the call's type is worked out, which comes before its
// result: jsondecode's type is the document's shape, found by a walk as
// deep as the document.
func guarded(fn function.Function, check func(args []cty.Value) error) function.Function {
	spec := &function.Spec{
		Description: fn.Description(),
		Params:      fn.Params(),
		VarParam:    fn.VarParam(),
		Type: func(args []cty.Value) (cty.Type, error) {
			plain := make([]cty.Value, len(args))
			for i, a := range args {
				plain[i], _ = a.UnmarkDeep()
			}
			if err := check(plain); err != nil {
				return cty.NilType, err
			}
			return fn.ReturnTypeForValues(args)
		},
		RefineResult: nil,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return fn.Call(args)
		},
	}
	return function.New(spec)
}

// knownLen is the length of a known, non-null collection, or -1.
func knownLen(v cty.Value) int {
	if !v.IsKnown() || v.IsNull() || !(v.Type().IsCollectionType() || v.Type().IsTupleType()) {
		return -1
	}
	return v.LengthInt()
}

func knownString(v cty.Value) (string, bool) {
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

func checkSetProduct(args []cty.Value) error {
	total := 1
	for _, a := range args {
		n := knownLen(a)
		if n < 0 {
			continue
		}
		if n == 0 {
			return nil
		}
		if total > MaxCollection/n {
			return fmt.Errorf("the product would have more than %d elements (the arguments have %s); diffuser caps what one function call builds", MaxCollection, lengths(args))
		}
		total *= n
	}
	return nil
}

func lengths(args []cty.Value) string {
	var s []string
	for _, a := range args {
		if n := knownLen(a); n >= 0 {
			s = append(s, strconv.Itoa(n))
		} else {
			s = append(s, "?")
		}
	}
	return strings.Join(s, " × ")
}

// formatWidth finds the widths and precisions of a format string's verbs.
var formatWidth = regexp.MustCompile(`%[-+# 0]*(?:\[\d+\])?(\d*)(?:\.(\d*))?`)

// checkFormatWidths refuses a format string whose widths or precisions ask
// for more than MaxStringBytes.
func checkFormatWidths(fv cty.Value) error {
	f, ok := knownString(fv)
	if !ok {
		return nil
	}
	for _, m := range formatWidth.FindAllStringSubmatch(strings.ReplaceAll(f, "%%", ""), -1) {
		for _, n := range m[1:] {
			if n == "" {
				continue
			}
			if w, err := strconv.Atoi(n); err != nil || w > MaxStringBytes {
				return fmt.Errorf("width or precision %s in %q is larger than %d; diffuser caps the strings one function call builds", n, m[0], MaxStringBytes)
			}
		}
	}
	return nil
}

func checkFormatList(args []cty.Value) error {
	if err := checkFormatWidths(args[0]); err != nil {
		return err
	}
	for _, a := range args[1:] {
		if n := knownLen(a); n > MaxCollection {
			return fmt.Errorf("a list argument has %d elements, more than %d", n, MaxCollection)
		}
	}
	return nil
}

func checkIndent(args []cty.Value) error {
	if !args[0].IsKnown() || args[0].IsNull() {
		return nil
	}
	bf := args[0].AsBigFloat()
	if !bf.IsInt() {
		return nil
	}
	spaces, acc := bf.Int64()
	s, ok := knownString(args[1])
	if !ok {
		s = ""
	}
	lines := int64(strings.Count(s, "\n") + 1)
	if acc != 0 || spaces > MaxStringBytes || spaces*lines+int64(len(s)) > MaxStringBytes {
		return fmt.Errorf("indenting %d lines by %s spaces makes more than %d bytes; diffuser caps the strings one function call builds", lines, bf.Text('g', 10), MaxStringBytes)
	}
	return nil
}

func checkReplace(args []cty.Value) error {
	s, ok1 := knownString(args[0])
	sub, ok2 := knownString(args[1])
	repl, ok3 := knownString(args[2])
	if !ok1 || !ok2 || !ok3 || len(repl) <= len(sub) {
		return nil
	}
	var n int
	if sub == "" {
		n = utf8.RuneCountInString(s) + 1
	} else {
		n = strings.Count(s, sub)
	}
	return checkGrowth(len(s), n, len(repl)-len(sub))
}

func checkRegexReplace(args []cty.Value) error {
	s, ok1 := knownString(args[0])
	pat, ok2 := knownString(args[1])
	repl, ok3 := knownString(args[2])
	if !ok1 || !ok2 || !ok3 || len(repl) == 0 {
		return nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil // the function itself says what is wrong
	}
	return checkGrowth(len(s), len(re.FindAllStringIndex(s, -1)), len(repl))
}

func checkGrowth(base, n, each int) error {
	if each > 0 && n > 0 && (n > MaxStringBytes/each || base+n*each > MaxStringBytes) {
		return fmt.Errorf("%d replacements would make a string of more than %d bytes; diffuser caps the strings one function call builds", n, MaxStringBytes)
	}
	return nil
}

// checkJSONNesting refuses a JSON document nested deeper than MaxNesting:
// go-cty finds its type by a recursive walk, and a few megabytes of "["
// overflow the stack, which is fatal. encoding/json's tokenizer reads it
// without recursing; a document it cannot read is left to jsondecode to
// report.
func checkJSONNesting(v cty.Value) error {
	s, ok := knownString(v)
	if !ok {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		switch t {
		case json.Delim('['), json.Delim('{'):
			if depth++; depth > MaxNesting {
				return fmt.Errorf("the JSON document nests more than %d deep at byte %d; no recipe needs that many", MaxNesting, dec.InputOffset()-1)
			}
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

// capExprs readies node (a hclsyntax body or expression) for evaluation
// under the caps: it wraps the collection of every `for` expression in a
// forColl, which charges the collection's length to the evaluation's
// budget, and every arithmetic operator in a check of its result
// (boundedOp). It returns an error for each number literal checkNumber
// refuses.
func capExprs(node hclsyntax.Node) hcl.Diagnostics {
	return hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		switch e := n.(type) {
		case *hclsyntax.LiteralValueExpr:
			if v := e.Val; v.Type() == cty.Number && v.IsKnown() && !v.IsNull() {
				if err := checkNumber(v.AsBigFloat()); err != nil {
					return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Number out of range",
						Detail: err.Error() + ".", Subject: e.SrcRange.Ptr()}}
				}
			}
		case *hclsyntax.BinaryOpExpr:
			e.Op = boundedOp(e.Op)
		case *hclsyntax.ForExpr:
			if _, ok := e.CollExpr.(forColl); !ok {
				e.CollExpr = forColl{&hclsyntax.ParenthesesExpr{Expression: e.CollExpr, SrcRange: e.CollExpr.Range()}}
			}
		}
		return nil
	})
}

// forColl is a `for` expression's collection. It embeds a
// ParenthesesExpr for what every hclsyntax node must have (its range, its
// child for the walkers) and evaluates the collection only while the
// evaluation's budget lasts: once it is spent, the `for` expressions still
// to run fail at once, without evaluating their collections.
type forColl struct{ *hclsyntax.ParenthesesExpr }

func (e forColl) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	charge := budgetOf(ctx)
	spent := func() hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Too many iterations",
			Detail:  fmt.Sprintf("The for expressions of this value iterate more than %d times in all (nested for expressions multiply their collections' lengths); diffuser caps them.", MaxForIterations),
			Subject: e.Expression.Range().Ptr(), Expression: e.Expression, EvalContext: ctx}}
	}
	if charge != nil && charge(0) != budgetOK {
		// Spent earlier in this evaluation, and reported then: the rest
		// comes out unknown, at once and without a diagnostic each.
		return cty.DynamicVal, nil
	}
	v, diags := e.Expression.Value(ctx)
	if diags.HasErrors() || charge == nil {
		return v, diags
	}
	plain, _ := v.Unmark()
	if plain.IsKnown() && !plain.IsNull() && plain.CanIterateElements() {
		switch charge(plain.LengthInt()) {
		case budgetJustSpent:
			return cty.DynamicVal, append(diags, spent()...)
		case budgetSpent:
			return cty.DynamicVal, diags
		}
	}
	return v, diags
}

const (
	budgetOK        = 0
	budgetJustSpent = 1 // this charge passed the cap: report it
	budgetSpent     = 2 // an earlier one did
)

// budgetOf finds the charging function withForBudget put in ctx or one of
// its parents; nil when there is none.
func budgetOf(ctx *hcl.EvalContext) func(n int) int {
	for c := ctx; c != nil; c = c.Parent() {
		if fn, ok := c.Functions[forFuncName]; ok {
			return func(n int) int {
				v, err := fn.Call([]cty.Value{cty.NumberIntVal(int64(n))})
				if err != nil {
					return budgetSpent
				}
				i, _ := v.AsBigFloat().Int64()
				return int(i)
			}
		}
	}
	return nil
}

// forBudgetFunc holds an evaluation's budget of `for` iterations: called
// with n it charges n and says whether MaxForIterations is passed, and
// whether by this charge. It is a
// function in the evaluation context only to travel with it: its name
// holds a space, so no recipe can call it.
func forBudgetFunc(budget *atomic.Int64) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "n", Type: cty.Number}},
		Type:   function.StaticReturnType(cty.Number),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			n, _ := args[0].AsBigFloat().Int64()
			after := budget.Add(n)
			switch {
			case after <= MaxForIterations:
				return cty.NumberIntVal(budgetOK), nil
			case after-n <= MaxForIterations:
				return cty.NumberIntVal(budgetJustSpent), nil
			}
			return cty.NumberIntVal(budgetSpent), nil
		},
	})
}

// withForBudget returns a child of ctx whose `for` expressions share a
// fresh budget of MaxForIterations.
func withForBudget(ctx *hcl.EvalContext) *hcl.EvalContext {
	c := ctx.NewChild()
	c.Functions = map[string]function.Function{forFuncName: forBudgetFunc(new(atomic.Int64))}
	return c
}

// checkValueSize refuses a value holding more than MaxCollection elements
// or MaxStringBytes of strings in all. Each function call is capped, but
// values built from values (a local that joins another with itself, ten
// times over) grow without calling one: each local is checked as it is
// made, so such a chain stops at the first that passes the caps.
func checkValueSize(v cty.Value) error {
	elems, bytes := 0, 0
	var walk func(v cty.Value) bool
	walk = func(v cty.Value) bool {
		v, _ = v.Unmark()
		if !v.IsKnown() || v.IsNull() {
			return true
		}
		ty := v.Type()
		switch {
		case ty == cty.String:
			bytes += len(v.AsString())
			return bytes <= MaxStringBytes
		case ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType():
			elems += v.LengthInt()
			if elems > MaxCollection {
				return false
			}
			for it := v.ElementIterator(); it.Next(); {
				if _, e := it.Element(); !walk(e) {
					return false
				}
			}
		}
		return true
	}
	if !walk(v) {
		return fmt.Errorf("holds more than %d elements or %d bytes of strings; diffuser caps the values an expression builds", MaxCollection, MaxStringBytes)
	}
	return nil
}

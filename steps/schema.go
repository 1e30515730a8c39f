package steps

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Schema declares a step kind's arguments in one place: each argument's
// type, whether it is required, its default and the static rule its value
// follows, and the rules between arguments (exactly one of, only with).
// The kind's hcldec spec is derived from it (Spec) and Validate checks an
// argument object against it.
//
// The engine validates every step instance's arguments with what is known
// at validate and plan (unknown values are skipped: they are checked once
// known), and every kind validates again in Check and Apply, before it
// touches a host, with the same Validate: the three cannot disagree.
type Schema struct {
	Kind  string // the kind's name, for messages
	Args  []Arg
	Rules []Rule

	once sync.Once
	spec hcldec.ObjectSpec
}

// Arg is one argument of a kind.
type Arg struct {
	Name     string
	Type     cty.Type  // the default's type when omitted; for a Block, its attributes' type
	Required bool      // must be written (and not be null)
	Default  cty.Value // filled in when not written; cty.NilVal for none (null)
	// Block makes the argument a block of `key = value` attributes
	// (run's capture), decoded as a map of Type.
	Block bool
	// Check is the rule a known, non-null value follows; nil for none.
	Check *Constraint
	// Doc says what the argument is for, in a few words.
	Doc string
}

// ValueType is the type of the argument's decoded value: Type, the
// default's type when Type is not given, a map of Type for a block.
func (a *Arg) ValueType() cty.Type {
	t := a.Type
	if t == cty.NilType && a.Default != cty.NilVal {
		t = a.Default.Type()
	}
	if a.Block {
		return cty.Map(t)
	}
	return t
}

// Spec is the hcldec spec a recipe's kind block is decoded with.
func (s *Schema) Spec() hcldec.Spec {
	s.once.Do(func() {
		s.spec = hcldec.ObjectSpec{}
		for _, a := range s.Args {
			switch {
			case a.Block:
				s.spec[a.Name] = &hcldec.BlockAttrsSpec{TypeName: a.Name, ElementType: a.Type}
			case a.Default != cty.NilVal:
				s.spec[a.Name] = DefaultSpec(a.Name, a.Default)
			case a.Required:
				s.spec[a.Name] = RequiredSpec(a.Name, a.Type)
			default:
				s.spec[a.Name] = AttrSpec(a.Name, a.Type)
			}
		}
	})
	return s.spec
}

// Arg returns the argument called name, or nil.
func (s *Schema) Arg(name string) *Arg {
	for i := range s.Args {
		if s.Args[i].Name == name {
			return &s.Args[i]
		}
	}
	return nil
}

// Problem is one way an argument object breaks its schema.
type Problem struct {
	Arg     string // the argument at fault; "" for the kind block as a whole
	Summary string // terse: "Invalid service state"
	Detail  string // a sentence saying what is wrong and what is allowed
	// Value is the offending string value and Choices the allowed ones, so
	// that a caller can suggest the nearest ("did you mean"); Value is ""
	// for sensitive values.
	Value   string
	Choices []string
}

func (p Problem) Error() string { return strings.TrimSuffix(p.Detail, ".") }

// Problems are what Validate found.
type Problems []Problem

// Err joins the problems into one error, or returns nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

// Validate checks args, an object of the spec's implied type (hcldec's, or
// the loader's shorthand object, where a null attribute means "the
// default"), against every argument's rule and every rule between
// arguments. Unknown values are skipped; sensitive ones are checked but
// never shown.
func (s *Schema) Validate(args cty.Value) Problems {
	if args == cty.NilVal || !args.IsKnown() || args.IsNull() || !args.Type().IsObjectType() {
		return nil
	}
	var ps Problems
	for i := range s.Args {
		a := &s.Args[i]
		if a.Check == nil && !a.Required {
			continue // nothing to check: hcldec converted its type
		}
		if p := a.validate(s.Kind, attr(args, a.Name)); p != nil {
			ps = append(ps, *p)
		}
	}
	if len(s.Rules) == 0 {
		return ps
	}
	vals := make(map[string]cty.Value, len(s.Args))
	for i := range s.Args {
		vals[s.Args[i].Name] = attr(args, s.Args[i].Name)
	}
	bad := make(map[string]bool, len(ps))
	for _, p := range ps {
		bad[p.Arg] = true
	}
rules:
	for _, r := range s.Rules {
		// A rule on a value already refused would only say it again.
		for _, n := range r.reads {
			if bad[n] {
				continue rules
			}
		}
		if p := r.test(s, vals); p != nil {
			ps = append(ps, *p)
		}
	}
	return ps
}

// validate checks one argument's value.
func (a *Arg) validate(kind string, v cty.Value) *Problem {
	if !v.IsKnown() {
		return nil
	}
	sensitive := false
	if v.ContainsMarked() {
		var marks cty.ValueMarks
		v, marks = v.UnmarkDeep()
		sensitive = len(marks) > 0
	}
	if v.IsNull() {
		if a.Required {
			return &Problem{Arg: a.Name, Summary: fmt.Sprintf("Missing %s %s", kind, a.Name),
				Detail: fmt.Sprintf("%s is required: %s.", a.Name, a.Doc)}
		}
		return nil
	}
	if a.Check == nil {
		return nil
	}
	if want := a.ValueType(); !v.Type().Equals(want) {
		cv, err := convert.Convert(v, want)
		if err != nil {
			return &Problem{Arg: a.Name, Summary: fmt.Sprintf("Invalid %s %s", kind, a.Name),
				Detail: fmt.Sprintf("%s must be %s, not %s.", a.Name, typeName(want), v.Type().FriendlyName())}
		}
		v = cv
	}
	return a.Check.check(kind, a.Name, v, sensitive)
}

func typeName(t cty.Type) string {
	switch {
	case t == cty.String:
		return "a string"
	case t == cty.Number:
		return "a number"
	case t == cty.Bool:
		return "true or false"
	case t.IsListType():
		return "a list of " + t.ElementType().FriendlyName() + "s"
	case t.IsMapType():
		return "a map of " + t.ElementType().FriendlyName() + "s"
	}
	return t.FriendlyName()
}

// Constraint is the static rule one argument's value follows. Make one with
// OneOf, IntBetween, AbsPath, FilePath, OctalMode, Duration, StringRule,
// and apply one to every element or key with Each and Keys.
type Constraint struct {
	// Allowed completes "<argument> must be …", e.g. `an absolute path`.
	Allowed string
	// Choices are an enumeration's allowed values ("did you mean").
	Choices []string
	ok      func(cty.Value) bool // a known, non-null, unmarked value of the argument's type
	each    bool                 // ok applies to every element of a list
	keys    bool                 // ok applies to every key of a map (as a string)
}

func (c *Constraint) check(kind, name string, v cty.Value, sensitive bool) *Problem {
	bad := func(what string, e cty.Value) *Problem {
		p := &Problem{Arg: name, Summary: fmt.Sprintf("Invalid %s %s", kind, name),
			Detail: fmt.Sprintf("%s must be %s, not %s.", what, c.Allowed, show(e, sensitive)), Choices: c.Choices}
		if e.Type() == cty.String && !sensitive {
			p.Value = e.AsString()
		}
		return p
	}
	switch {
	case c.each:
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			_, e := it.Element()
			if e.IsKnown() && !e.IsNull() && !c.ok(e) {
				return bad(fmt.Sprintf("%s[%d]", name, i), e)
			}
		}
	case c.keys:
		for it := v.ElementIterator(); it.Next(); {
			k, _ := it.Element()
			if !c.ok(k) {
				return bad("each key of "+name, k)
			}
		}
	case !c.ok(v):
		return bad(name, v)
	}
	return nil
}

// show renders a value for a message: strings quoted, sensitive ones hidden.
func show(v cty.Value, sensitive bool) string {
	switch {
	case sensitive:
		return "(sensitive value)"
	case v.Type() == cty.String:
		return strconv.Quote(v.AsString())
	case v.Type() == cty.Number:
		return v.AsBigFloat().Text('g', 10)
	case v.Type() == cty.Bool:
		return strconv.FormatBool(v.True())
	}
	return v.Type().FriendlyName()
}

// StringRule is a rule on a string value: allowed completes "must be …".
func StringRule(allowed string, ok func(string) bool) *Constraint {
	return &Constraint{Allowed: allowed, ok: func(v cty.Value) bool { return ok(v.AsString()) }}
}

// OneOf allows exactly these strings.
func OneOf(choices ...string) *Constraint {
	c := StringRule("one of "+orList(choices), func(s string) bool {
		for _, a := range choices {
			if s == a {
				return true
			}
		}
		return false
	})
	c.Choices = choices
	return c
}

// orList renders ["a", "b", "c"] as `"a", "b" or "c"`.
func orList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// IntBetween allows whole numbers from lo to hi.
func IntBetween(lo, hi int) *Constraint {
	return &Constraint{Allowed: fmt.Sprintf("a whole number from %d to %d", lo, hi), ok: func(v cty.Value) bool {
		i, acc := v.AsBigFloat().Int64()
		return acc == big.Exact && i >= int64(lo) && i <= int64(hi)
	}}
}

// AbsPath allows absolute paths without control characters; what names
// the path ("an absolute path", "an absolute device path such as …").
func AbsPath(what string) *Constraint {
	return StringRule(what, func(s string) bool {
		return strings.HasPrefix(s, "/") && !strings.ContainsAny(s, "\x00\n\t")
	})
}

// FilePath allows absolute paths that can name a file: not "/", not
// ending in "/".
func FilePath() *Constraint {
	return StringRule(`an absolute file path such as "/etc/app.conf"`, func(s string) bool {
		return strings.HasPrefix(s, "/") && !strings.HasSuffix(s, "/") && !strings.ContainsAny(s, "\x00\n")
	})
}

// OctalMode allows permission bits as an octal string, "0644" or "644",
// up to 07777.
func OctalMode() *Constraint {
	return StringRule(`an octal mode such as "0644" or "0755"`, func(s string) bool {
		m, err := strconv.ParseUint(s, 8, 32)
		return err == nil && m <= 0o7777
	})
}

// Duration allows positive durations in Go's syntax.
func Duration() *Constraint {
	return StringRule(`a positive duration such as "90s", "5m" or "1h30m"`, func(s string) bool {
		d, err := time.ParseDuration(s)
		return err == nil && d > 0
	})
}

// Word allows a non-empty string without whitespace that does not start
// with "-" and holds none of extra; what names it ("a systemd unit name").
func Word(what, extra string) *Constraint {
	return StringRule(what, func(s string) bool {
		return s != "" && !strings.HasPrefix(s, "-") && !strings.ContainsAny(s, " \t\n\r\x00"+extra)
	})
}

// NotEmpty allows any string but "".
func NotEmpty(what string) *Constraint {
	return StringRule(what, func(s string) bool { return strings.TrimSpace(s) != "" })
}

// Each applies c to every element of a list.
func Each(c *Constraint) *Constraint {
	cp := *c
	cp.each = true
	return &cp
}

// Keys applies c to every key of a map.
func Keys(c *Constraint) *Constraint {
	cp := *c
	cp.keys = true
	return &cp
}

// Rule is a rule between a kind's arguments: ExactlyOneOf, OnlyWith or
// one of a kind's own (NewRule). It is checked only when the values it
// reads are known.
type Rule struct {
	Doc   string   // the rule for people: "exactly one of port and command"
	reads []string // the arguments it reads: not checked when one of them is invalid
	test  func(s *Schema, vals map[string]cty.Value) *Problem
}

// NewRule is a kind's own rule between the arguments it reads. test sees
// every argument's value (null when unset, possibly unknown or marked) and
// returns nil when they are fine.
func NewRule(doc string, reads []string, test func(vals map[string]cty.Value) *Problem) Rule {
	return Rule{Doc: doc, reads: reads, test: func(_ *Schema, vals map[string]cty.Value) *Problem { return test(vals) }}
}

// isSet reports whether an argument was given a value other than its
// default; known is false while that cannot be told (an unknown value that
// may be null).
func (s *Schema) isSet(vals map[string]cty.Value, name string) (set, known bool) {
	v, _ := vals[name].Unmark()
	if !v.IsKnown() {
		// Defaults are known: an unknown value was written, and it is
		// set unless it may turn out null.
		return !v.Range().CouldBeNull(), !v.Range().CouldBeNull()
	}
	if v.IsNull() {
		return false, true
	}
	if a := s.Arg(name); a != nil && a.Default != cty.NilVal && v.IsWhollyKnown() && v.Equals(a.Default).True() {
		return false, true
	}
	return true, true
}

// ExactlyOneOf requires one of a and b, not both; why says what each is
// for.
func ExactlyOneOf(a, b, why string) Rule {
	return Rule{Doc: fmt.Sprintf("exactly one of `%s` and `%s`", a, b), reads: []string{a, b}, test: func(s *Schema, vals map[string]cty.Value) *Problem {
		sa, ka := s.isSet(vals, a)
		sb, kb := s.isSet(vals, b)
		if !ka || !kb {
			return nil
		}
		switch {
		case sa && sb:
			return &Problem{Arg: b, Summary: fmt.Sprintf("Conflicting %s arguments", s.Kind),
				Detail: fmt.Sprintf("Set exactly one of %s and %s, not both: %s.", a, b, why)}
		case !sa && !sb:
			return &Problem{Summary: fmt.Sprintf("Missing %s argument", s.Kind),
				Detail: fmt.Sprintf("Set exactly one of %s and %s: %s.", a, b, why)}
		}
		return nil
	}}
}

// OnlyWith allows arg (other than its default) only when other is set
// and, when values are given, is one of them; why says what arg is for.
func OnlyWith(arg, other string, values []string, why string) Rule {
	cond := "`" + other + "`"
	if len(values) > 0 {
		cond = fmt.Sprintf("`%s = %s`", other, orList(values))
	}
	return Rule{Doc: fmt.Sprintf("`%s` only with %s", arg, cond), reads: []string{arg, other}, test: func(s *Schema, vals map[string]cty.Value) *Problem {
		set, known := s.isSet(vals, arg)
		if !known || !set {
			return nil
		}
		ov := vals[other]
		if !ov.IsWhollyKnown() {
			return nil
		}
		ov, _ = ov.UnmarkDeep()
		if ov.IsNull() {
			if a := s.Arg(other); a != nil && a.Default != cty.NilVal {
				ov = a.Default
			}
		}
		ok := !ov.IsNull()
		if ok && len(values) > 0 {
			ok = false
			for _, w := range values {
				if ov.Type() == cty.String && ov.AsString() == w {
					ok = true
				}
			}
		}
		if ok {
			return nil
		}
		return &Problem{Arg: arg, Summary: fmt.Sprintf("Conflicting %s arguments", s.Kind),
			Detail: fmt.Sprintf("%s is used only with %s: %s.", arg, strings.Trim(cond, "`"), why)}
	}}
}

package steps

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Markdown renders the schema as the arguments table of
// docs/writing-recipes.md: one row per argument (its type, default or
// "required", the rule its value follows, what it is for), then the rules
// between arguments. The docs are generated from it
// (go test ./steps/builtin -run TestKindDocs -update), so what they say
// is what validate checks.
func (s *Schema) Markdown() string {
	var b strings.Builder
	b.WriteString("| argument | type | default | allowed values | |\n|---|---|---|---|---|\n")
	for _, a := range s.Args {
		def := ""
		switch {
		case a.Required:
			def = "required"
		case a.Default != cty.NilVal:
			def = "`" + literal(a.Default) + "`"
		}
		allowed := ""
		if a.Check != nil {
			allowed = a.Check.Allowed
			switch {
			case a.Check.each:
				allowed = "each " + allowed
			case a.Check.keys:
				allowed = "keys: " + allowed
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", a.Name, docType(a), def, mdEscape(allowed), mdEscape(a.Doc))
	}
	if len(s.Rules) > 0 {
		docs := make([]string, len(s.Rules))
		for i, r := range s.Rules {
			docs[i] = r.Doc
		}
		fmt.Fprintf(&b, "\nBetween arguments: %s.\n", strings.Join(docs, "; "))
	}
	return b.String()
}

// literal writes a default as a recipe would.
func literal(v cty.Value) string {
	switch {
	case v.Type().IsListType() && v.LengthInt() == 0:
		return "[]"
	case v.Type() == cty.String:
		return strconv.Quote(v.AsString())
	}
	return show(v, false)
}

func docType(a Arg) string {
	if a.Block {
		return "block of `key = " + a.ValueType().ElementType().FriendlyName() + "`"
	}
	t := a.ValueType()
	switch {
	case t.IsListType():
		return "list(" + t.ElementType().FriendlyName() + ")"
	case t.IsMapType():
		return "map(" + t.ElementType().FriendlyName() + ")"
	}
	return t.FriendlyName()
}

// mdEscape keeps a cell in its table column.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

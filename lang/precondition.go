package lang

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Precondition is a `precondition { condition = ...  error_message = ... }`
// block, at the top of a recipe or inside a `hosts` block: a rule over
// variables and locals (a validation reads variables only), checked by
// validate and plan before anything runs. Inside a `step` it is the
// step's (Step.Preconditions): it reads what the step may read and is
// checked for each instance with the step's arguments (Scope.StepArgs),
// at plan when what it reads is known, else at apply before the instance
// touches its host.
// error_message may interpolate the same values as the condition.
type Precondition struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	Group        string // the hosts block it sits in; "" at the top of the recipe
	Step         *Step  // the step it sits in; nil outside steps
	DeclRange    hcl.Range
}

var preconditionSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true}, {Name: "error_message", Required: true}}}

func (r *Recipe) decodePrecondition(b *hcl.Block, group string) hcl.Diagnostics {
	p, diags := decodePreconditionBlock(b)
	if p != nil {
		p.Group = group
		r.Preconditions = append(r.Preconditions, p)
	}
	return diags
}

// preconditionHint says where a rule about hosts goes, since a
// precondition cannot read them.
const preconditionHint = " A host count is a variable: test that. A rule about what hosts are (host.facts: memory, cores, devices) " +
	"is known only once they answer: check it in a precondition block of a step on them (condition = host.facts.memory_mb >= 4096), " +
	"or in a validation of a module input read from host (checked per host at apply)."

// decodePreconditionBlock reads one precondition block; nil when it
// lacks an attribute.
func decodePreconditionBlock(b *hcl.Block) (*Precondition, hcl.Diagnostics) {
	content, diags := bodyContent(b.Body, preconditionSchema)
	if diags.HasErrors() {
		return nil, diags
	}
	return &Precondition{Condition: content.Attributes["condition"].Expr,
		ErrorMessage: content.Attributes["error_message"].Expr, DeclRange: b.DefRange}, diags
}

// Exprs are the condition and the message.
func (p *Precondition) Exprs() []hcl.Expression { return []hcl.Expression{p.Condition, p.ErrorMessage} }

// analyzePreconditions checks what preconditions read: variables and
// locals only, and no local that reads hosts or step outputs, so that
// every precondition is decided before anything runs.
func (r *Recipe) analyzePreconditions(n *namespace) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, p := range r.Preconditions {
		for _, e := range []hcl.Expression{p.Condition, p.ErrorMessage} {
			_, d := r.check(e.Variables(), where{what: "a precondition", hint: preconditionHint}, n)
			diags = append(diags, d...)
		}
	}
	return diags
}

// CheckPreconditions evaluates every precondition with the variables'
// values and the locals computed from them. A false condition is one
// error at the condition, carrying its own message and the values the
// condition read (unless one is sensitive).
func (r *Recipe) CheckPreconditions(vars map[string]cty.Value) hcl.Diagnostics {
	if len(r.Preconditions) == 0 {
		return nil
	}
	s := &Scope{Recipe: r, Vars: vars}
	// Errors in locals are reported where locals are evaluated for the
	// counts; a condition reading a broken local comes out unknown here.
	_ = s.EvalLocals()
	ctx := s.Ctx(cty.NilVal)
	var diags hcl.Diagnostics
	for _, p := range r.Preconditions {
		diags = append(diags, p.check(ctx)...)
	}
	return diags
}

func (p *Precondition) check(ctx *hcl.EvalContext) hcl.Diagnostics {
	v, diags := p.Condition.Value(ctx)
	if diags.HasErrors() {
		return diags
	}
	v, _ = v.UnmarkDeep()
	if !v.IsKnown() {
		return nil // reads a local that failed: that error is reported
	}
	bv, err := convert.Convert(v, cty.Bool)
	if err != nil || bv.IsNull() {
		example := "var.servers % var.replica == 0"
		if p.Step != nil {
			example = `contains(host.facts.capabilities, "net_admin")`
		}
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid precondition",
			Detail:  fmt.Sprintf("The condition must be true or false, e.g. %s; this one is %s.", example, typeName(v)),
			Subject: p.Condition.Range().Ptr(), Expression: p.Condition, EvalContext: ctx}}
	}
	if bv.True() {
		return nil
	}
	msg, d := p.message(ctx)
	if d != nil {
		return hcl.Diagnostics{d}
	}
	summary := "Recipe precondition failed"
	switch {
	case p.Step != nil:
		summary = fmt.Sprintf("Precondition of step %q failed", p.Step.Name)
		where := ""
		for _, tr := range p.Condition.Variables() {
			if tr.RootName() == "host" {
				where = " on this host"
			}
		}
		if msg != "" && !strings.HasSuffix(msg, ".") && !strings.HasSuffix(msg, "!") && !strings.HasSuffix(msg, "?") {
			msg += "." // the author's message, then ours: two sentences
		}
		msg = strings.TrimSpace(msg + fmt.Sprintf(" Step %s (%s) cannot run%s.", p.Step.Name, p.Step.Declared(), where))
	case p.Group != "":
		summary = fmt.Sprintf("Precondition of hosts %q failed", p.Group)
	}
	diag := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: msg, Subject: p.Condition.Range().Ptr()}
	if !readsMarked(p.Condition, ctx) {
		// The diagnostic writers print the values the condition read.
		diag.Expression, diag.EvalContext = p.Condition, ctx
	}
	return hcl.Diagnostics{diag}
}

// checkPreconditions checks the step's preconditions in its instance's context:
// a condition not known yet is decided later, at apply.
func (st *Step) checkPreconditions(ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, p := range st.Preconditions {
		diags = append(diags, p.check(ctx)...)
	}
	return diags
}

// message evaluates error_message; a sensitive one is not shown.
func (p *Precondition) message(ctx *hcl.EvalContext) (string, *hcl.Diagnostic) {
	v, diags := p.ErrorMessage.Value(ctx)
	if diags.HasErrors() {
		return "", diags[0]
	}
	if v.IsMarked() || v.ContainsMarked() {
		return "(The error message reads a sensitive value and is not shown.)", nil
	}
	sv, err := convert.Convert(v, cty.String)
	if err != nil || sv.IsNull() {
		return "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid error_message",
			Detail: "error_message must be a string.", Subject: p.ErrorMessage.Range().Ptr()}
	}
	if !sv.IsKnown() {
		return "(The error message reads a value that is not known yet.)", nil
	}
	return sv.AsString(), nil
}

// readsMarked says whether expr reads a sensitive (marked) value.
func readsMarked(expr hcl.Expression, ctx *hcl.EvalContext) bool {
	for _, tr := range expr.Variables() {
		v, d := tr.TraverseAbs(ctx)
		if d.HasErrors() || v.IsMarked() || v.ContainsMarked() {
			return true
		}
	}
	return false
}

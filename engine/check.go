package engine

import (
	"fmt"
	"slices"
	"strings"

	"diffuser/lang"
	"diffuser/steps"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// argDiags checks a step instance's evaluated arguments against its kind's
// schema: one located diagnostic per problem, on the expression that
// wrote the argument, with a "did you mean" for a near allowed value.
// Validate, plan and apply all check with it (and the kinds themselves
// with the same Schema.Validate), so they cannot disagree.
//
// The arguments of a `sensitive = true` step are never shown: pass its
// Generic.Sensitive as sensitive.
func argDiags(stp *lang.Step, kind steps.Kind, args cty.Value, sensitive bool) hcl.Diagnostics {
	if kind == nil {
		return nil
	}
	if sensitive {
		args = args.Mark(lang.Sensitive)
	}
	var diags hcl.Diagnostics
	for _, p := range kind.Schema().Validate(args) {
		detail := p.Detail
		if p.Value != "" && len(p.Choices) > 0 {
			if s := lang.Suggest(p.Value, p.Choices); s != "" {
				detail += fmt.Sprintf(" Did you mean %q?", s)
			}
		}
		rng := stp.UserArgRange(p.Arg)
		if rng != stp.ArgRange(p.Arg) { // a built-in module's step: at what the user wrote
			detail += fmt.Sprintf(" (It is %s of %s.)", p.Arg, stp.Addr())
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: p.Summary, Detail: detail, Subject: &rng})
	}
	return lang.Annotate(diags, stp.Module)
}

// checkValues evaluates what the recipe's steps, verify and output blocks
// say with what is known before any host exists — variables, locals, host
// names and indexes, which captures a step declares — leaving addresses,
// devices and captured values unknown, and checks every step instance's
// arguments against its kind's schema. It is what makes validate find a
// `state = "runing"` or an index past a group's count; plan runs the same
// checks again with what state knows. Each problem is reported once,
// however many instances show it.
func (l *Loaded) checkValues(scope *lang.Scope, hostChecks int) hcl.Diagnostics {
	g := l.Graph
	r := l.Recipe
	scope.Steps = map[string]cty.Value{}
	stepHosts := func(s int) []string {
		names := make([]string, len(g.StepHosts[s]))
		for i, h := range g.StepHosts[s] {
			names[i] = g.Hosts[h].Name
		}
		return names
	}
	for s, read := range readSteps(r, g.Steps) {
		if read {
			scope.Steps[g.Steps[s].Name] = g.Steps[s].StepVal(stepHosts(s), nil, false)
		}
	}
	scope.Changed()
	var locals diagSet
	locals.add("", lang.Explain(scope.EvalLocals()))
	diags := locals.result(0)
	if diags.HasErrors() {
		return diags // the steps reading a broken local would only repeat it
	}
	groupVals := map[string][]cty.Value{}
	hostVal := func(h int32) cty.Value {
		slot := g.Hosts[h]
		vals, ok := groupVals[slot.Group]
		if !ok {
			vals = scope.Hosts[slot.Group].AsValueSlice()
			groupVals[slot.Group] = vals
		}
		return vals[slot.Index]
	}
	claims := pathClaims{g: g}
	var calls callDiags
	var stepDiags hcl.Diagnostics
	for s, stp := range g.Steps {
		if scope.Off(stp.Module) {
			continue // a module turned off: its inputs are not evaluated either
		}
		kind := l.Kinds[stp.Kind]
		if g.GroupRun[s] && stp.UsesHost {
			if d := groupReadsHost(stp, r.KindSpec(stp.Kind)); d != nil {
				stepDiags = append(stepDiags, d)
				continue
			}
		}
		var set diagSet
		// on are the hosts the evaluated arguments hold for.
		eval := func(host string, hv cty.Value, on []int32) {
			args, gen, d := scope.StepArgs(stp, hv)
			if !d.HasErrors() {
				d = append(d, argDiags(stp, kind, args, gen.Sensitive)...)
			}
			if !d.HasErrors() {
				claims.add(s, stp, args, on, gen.Sensitive)
			}
			// The errors of the call's inputs are the call's: reported
			// once, not by each of its steps. Those of inputs not read
			// from host stopped the load already (EvalLocals above).
			own, evaluated := calls.split(host, lang.Explain(d))
			set.add(host, append(own, evaluated...))
		}
		hosts := g.StepHosts[s]
		switch {
		case len(hosts) == 0:
			// No instances now, but a count raised later would run it:
			// check what does not depend on the host.
			eval("", cty.DynamicVal, nil)
		case !stp.PerHost():
			eval("", hostVal(hosts[0]), hosts)
		default:
			// Problems are placed on hosts only when every host was checked.
			checked := checkedHosts(g, hosts, stp.UsesHostName, hostChecks)
			for _, h := range checked {
				name := ""
				if len(checked) == len(hosts) {
					name = g.Hosts[h].Name
				}
				eval(name, hostVal(h), standsFor(g, hosts, h, stp.UsesHostName))
			}
		}
		// Two steps owning one path are reported per other step, with
		// the hosts they share: not merged by diagSet, which would keep
		// the first other step's name for all.
		stepDiags = append(stepDiags, lang.Annotate(append(set.result(len(hosts)), claims.conflicts(stp)...), stp.Module)...)
	}
	diags = append(diags, calls.result(g)...)
	diags = append(diags, stepDiags...)
	// A for expression repeats its body's problem once per element.
	var set diagSet
	for _, v := range r.Verifies {
		set.add("", checkVerify(scope, v))
	}
	for _, o := range r.Outputs {
		_, d := o.Value.Value(scope.Ctx(cty.NilVal))
		set.add("", lang.Explain(d))
	}
	return append(diags, set.result(0)...)
}

// maxHostChecks bounds how many instances of one step validate evaluates
// host by host; plan evaluates every instance anyway, so a load for a plan
// (LoadRecipeToPlan) evaluates only the first and last of each group.
const maxHostChecks = 1000

// checkedHosts picks the hosts a step that reads `host` is evaluated for
// at validate. Before launch, hosts of one group differ only in their
// names and indexes: a step that does not read those is evaluated for the
// first host of each of its groups, one that does for every host, or for
// the first and last of each group beyond maxHostChecks instances (plan
// checks them all).
func checkedHosts(g *Instances, hosts []int32, byName bool, limit int) []int32 {
	if byName && len(hosts) <= limit {
		return hosts
	}
	var out []int32
	for i, h := range hosts { // ascending: a group's hosts are consecutive
		first := i == 0 || g.Hosts[hosts[i-1]].Group != g.Hosts[h].Group
		last := i == len(hosts)-1 || g.Hosts[hosts[i+1]].Group != g.Hosts[h].Group
		if first || (byName && last) {
			out = append(out, h)
		}
	}
	return out
}

// standsFor returns the hosts of hosts (ascending) that host h, picked by
// checkedHosts, was evaluated for: itself when the step reads the host's
// name, else every host of its group (h is the first of them), whose
// arguments differ only in what is not known before launch.
func standsFor(g *Instances, hosts []int32, h int32, byName bool) []int32 {
	i, _ := slices.BinarySearch(hosts, h)
	if byName {
		return hosts[i : i+1]
	}
	j := i + 1
	for j < len(hosts) && g.Hosts[hosts[j]].Group == g.Hosts[h].Group {
		j++
	}
	return hosts[i:j]
}

// checkVerify evaluates a verify block: its hosts, and a path that must be
// an absolute directory.
func checkVerify(scope *lang.Scope, v *lang.Verify) hcl.Diagnostics {
	if scope.Off(v.Module) {
		return nil
	}
	_, diags := scope.VerifyEnabled(v)
	ctx := scope.VerifyCtx(v)
	if s := v.S3; s != nil {
		return lang.Annotate(append(diags, lang.Explain(checkVerifyS3(ctx, s))...), v.Module)
	}
	_, d := scope.VerifyHosts(v, v.On)
	diags = append(diags, d...)
	pv, d := v.Path.Value(ctx)
	diags = append(diags, d...)
	if !d.HasErrors() {
		diags = append(diags, checkString(v.Path, pv, "Invalid verify path", true,
			`path must be the absolute path of a directory on the mounted filesystem, such as "/mnt/gluster"`)...)
	}
	if f := v.Failover; f != nil {
		_, d := scope.VerifyHosts(v, f.On)
		diags = append(diags, d...)
		for _, e := range []hcl.Expression{f.Stop, f.Start} {
			val, d := e.Value(ctx)
			diags = append(diags, d...)
			if !d.HasErrors() {
				diags = append(diags, checkString(e, val, "Invalid failover command", false, "stop and start are shell commands")...)
			}
		}
	}
	return lang.Annotate(lang.Explain(diags), v.Module)
}

// checkVerifyS3 evaluates an s3 verify block: endpoints a list of http(s)
// URLs, the keys and optional region and bucket strings (values not known
// before apply pass).
func checkVerifyS3(ctx *hcl.EvalContext, s *lang.VerifyS3) hcl.Diagnostics {
	var diags hcl.Diagnostics
	ev, d := s.Endpoints.Value(ctx)
	diags = append(diags, d...)
	if !d.HasErrors() {
		ev, _ = ev.UnmarkDeep()
		bad := func(detail string) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid s3 endpoints", Detail: detail, Subject: s.Endpoints.Range().Ptr()})
		}
		switch {
		case !ev.IsWhollyKnown():
		case ev.IsNull() || !(ev.Type().IsListType() || ev.Type().IsTupleType()):
			bad(`endpoints must be a list of URLs such as ["http://10.0.0.5:7480"].`)
		default:
			for it := ev.ElementIterator(); it.Next(); {
				_, e := it.Element()
				if e.IsNull() || e.Type() != cty.String || !(strings.HasPrefix(e.AsString(), "http://") || strings.HasPrefix(e.AsString(), "https://")) {
					bad(fmt.Sprintf("each endpoint must be an http:// or https:// URL; got %s.", strings.TrimSpace(cutValue(e))))
					break
				}
			}
		}
	}
	for _, e := range s.Exprs()[1:] {
		val, d := e.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			diags = append(diags, checkString(e, val, "Invalid s3 setting", false, "access_key, secret_key, region and bucket are strings")...)
		}
	}
	return diags
}

// cutValue is a short display of a value for a message.
func cutValue(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	if v.Type() == cty.String {
		return fmt.Sprintf("%q", v.AsString())
	}
	return v.Type().FriendlyName()
}

// checkString checks that a known value is a string (and, with abs, an
// absolute path).
func checkString(e hcl.Expression, v cty.Value, summary string, abs bool, what string) hcl.Diagnostics {
	v, _ = v.UnmarkDeep()
	if !v.IsKnown() {
		return nil
	}
	ok := !v.IsNull() && v.Type() == cty.String
	if ok && abs {
		s := v.AsString()
		ok = len(s) > 0 && s[0] == '/'
	}
	if ok {
		return nil
	}
	got := "null"
	switch {
	case v.IsNull():
	case v.Type() == cty.String:
		got = fmt.Sprintf("%q", v.AsString())
	default:
		got = v.Type().FriendlyName()
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary,
		Detail: fmt.Sprintf("%s, not %s.", what, got), Subject: e.Range().Ptr()}}
}

// groupReadsHost is the error for a group kind's step (distribute) whose
// arguments read `host` (it runs once for all its hosts, with one set of
// arguments), or nil when they do not.
func groupReadsHost(stp *lang.Step, spec hcldec.Spec) *hcl.Diagnostic {
	if stp.KindBody == nil || spec == nil {
		return nil
	}
	var rng hcl.Range
	for _, tr := range hcldec.Variables(stp.KindBody, spec) {
		if tr.RootName() == "host" {
			rng = tr.SourceRange()
			break
		}
	}
	if rng.Filename == "" {
		return nil
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Group step reads host",
		Detail: fmt.Sprintf("Step %q is a %s step: it runs once for all its hosts with one set of arguments, so they cannot depend on `host`. Use values that are the same on every host.",
			stp.Name, stp.Kind),
		Subject: rng.Ptr()}
}

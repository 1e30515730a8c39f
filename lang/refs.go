package lang

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// What the objects recipes read hold: `host` and `hosts.G[i]`, a volume of
// a host, and `step.X`. HostInfo.Val and Step.StepVal build them.
var (
	hostAttrs    = []string{"facts", "group", "hostname", "index", "name", "private_ip", "provider", "public_ip", "volume"}
	volumeAttrs  = []string{"device", "size_gb"}
	stepValAttrs = []string{"hosts", "outputs"}
)

// Suggest returns the name in known nearest to name (a typo away), or "".
func Suggest(name string, known []string) string { return suggest(name, known) }

// EditDistance is the Levenshtein distance between a and b, in bytes.
func EditDistance(a, b string) int { return levenshteinBelow(a, b, max(len(a), len(b))+1) }

// checkRefs checks, without values, what a traversal names inside the
// objects a recipe reads: a host's attributes and facts, and its volumes
// (against the volume blocks of onGroups for `host`, when known, of G for
// `hosts.G[i]`) and a
// step's outputs (against its capture block). Roots and names that check
// already refused are skipped, so each mistake is reported once.
func (r *Recipe) checkRefs(trs []hcl.Traversal, onGroups []string, n *namespace) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range trs {
		var d *hcl.Diagnostic
		switch tr.RootName() {
		case "host":
			// A module input read from host has no groups here: it is
			// checked for each module step that reads it
			// (checkInputHostRefs), with that step's groups.
			if len(onGroups) > 0 {
				d = r.checkHostPath(tr, 1, onGroups, "host")
			}
		case "hosts":
			if n.mod == nil && len(tr) >= 3 && r.groupIdx[attrName(tr[1])] != nil {
				if _, ok := tr[2].(hcl.TraverseIndex); ok {
					g := attrName(tr[1])
					d = r.checkHostPath(tr, 3, []string{g}, fmt.Sprintf("hosts.%s[…]", g))
				}
			}
		case "step":
			if len(tr) >= 3 {
				if st := n.steps[attrName(tr[1])]; st != nil {
					d = r.checkStepPath(tr, st)
				}
			}
		}
		if d != nil {
			diags = append(diags, d)
		}
	}
	return diags
}

// checkHostPath checks tr[i:], the part after a host object: an attribute,
// then for `volume` a volume name declared in one of groups and a volume
// attribute.
func (r *Recipe) checkHostPath(tr hcl.Traversal, i int, groups []string, what string) *hcl.Diagnostic {
	if len(tr) <= i {
		return nil
	}
	name, ok := stepName(tr[i])
	if !ok {
		return nil
	}
	if !contains(hostAttrs, name) {
		return unknownAttr(tr[i], what, name, hostAttrs, "A host has "+strings.Join(hostAttrs, ", ")+".")
	}
	if name == "facts" {
		return checkFactsPath(tr, i+1)
	}
	if name != "volume" || len(tr) <= i+1 || len(groups) == 0 {
		return nil
	}
	vol, ok := stepName(tr[i+1])
	if !ok {
		return nil
	}
	var known []string
	found := false
	for _, g := range groups {
		names := r.groupIdx[g].VolumeNames()
		known = append(known, names...)
		found = found || contains(names, vol)
	}
	if !found {
		detail := fmt.Sprintf("Host group %s declares no volume %q.", orWords(groups), vol)
		if s := suggest(vol, known); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		} else if len(known) > 0 {
			detail += " Its volumes: " + strings.Join(known, ", ") + "."
		} else {
			detail += fmt.Sprintf(" Declare one in the hosts block: volume %q { size_gb = 10 }.", vol)
		}
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown volume", Detail: detail, Subject: tr[i+1].SourceRange().Ptr()}
	}
	if len(tr) > i+2 {
		if a, ok := stepName(tr[i+2]); ok && !contains(volumeAttrs, a) {
			return unknownAttr(tr[i+2], "a volume", a, volumeAttrs, "A volume has device and size_gb.")
		}
	}
	return nil
}

// checkStepPath checks tr[2:] of `step.X…`: outputs or hosts["H"].outputs,
// then a key X captures.
func (r *Recipe) checkStepPath(tr hcl.Traversal, st *Step) *hcl.Diagnostic {
	name, ok := stepName(tr[2])
	if !ok {
		return nil
	}
	keyAt := 3
	switch name {
	case "outputs":
	case "hosts":
		if len(tr) < 5 {
			return nil
		}
		if a, ok := stepName(tr[4]); !ok || a != "outputs" {
			if ok {
				return unknownAttr(tr[4], "a step instance", a, []string{"outputs"}, "A step instance has outputs.")
			}
			return nil
		}
		keyAt = 5
	default:
		return unknownAttr(tr[2], "step."+st.Name, name, stepValAttrs,
			fmt.Sprintf("Read a capture as step.%s.outputs.KEY (one instance) or step.%s.hosts[\"HOST\"].outputs.KEY.", st.Name, st.Name))
	}
	if len(tr) <= keyAt {
		return nil
	}
	key, ok := stepName(tr[keyAt])
	if !ok {
		return nil
	}
	keys := st.CaptureKeys()
	if contains(keys, key) {
		return nil
	}
	var detail string
	switch {
	case st.Kind != "run":
		detail = fmt.Sprintf("Step %q is a %s step: only run steps have outputs, from their capture block.", st.Name, st.Kind)
	case len(keys) == 0:
		detail = fmt.Sprintf("Step %q captures nothing: add capture { %s = \"command\" } to it.", st.Name, key)
	default:
		detail = fmt.Sprintf("Step %q captures %s, not %q.%s", st.Name, strings.Join(keys, ", "), key, didYouMean(key, keys))
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown step output", Detail: detail, Subject: tr[keyAt].SourceRange().Ptr()}
}

// stepName is the name a traversal step selects: an attribute, or an
// index by a string key (volume["brick"]).
func stepName(t hcl.Traverser) (string, bool) {
	switch t := t.(type) {
	case hcl.TraverseAttr:
		return t.Name, true
	case hcl.TraverseIndex:
		if t.Key.Type() == cty.String && t.Key.IsKnown() && !t.Key.IsNull() {
			return t.Key.AsString(), true
		}
	}
	return "", false
}

func unknownAttr(t hcl.Traverser, what, name string, known []string, has string) *hcl.Diagnostic {
	detail := fmt.Sprintf("There is no attribute %q on %s.", name, what)
	if s := suggest(name, known); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
	} else {
		detail += " " + has
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported attribute", Detail: detail, Subject: t.SourceRange().Ptr()}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// orWords renders [a, b, c] as "a, b or c".
func orWords(ss []string) string {
	if len(ss) < 2 {
		return strings.Join(ss, "")
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " or " + ss[len(ss)-1]
}

// readsHostName reports whether traversals read what identifies a host
// (its name, index or hostname, or the whole object), as opposed to what
// only its launch tells.
func readsHostName(trs []hcl.Traversal) bool {
	for _, tr := range trs {
		if tr.RootName() != "host" {
			continue
		}
		if len(tr) < 2 {
			return true
		}
		switch n, _ := stepName(tr[1]); n {
		case "name", "index", "hostname", "":
			return true
		}
	}
	return false
}

// checkInputHostRefs checks, for a module step running on onGroups, what
// the inputs it reads (trs, in namespace n) read of `host`, through calls
// nested any depth: `device = host.volume.dat.device` at a call is the
// step's own host's volume, so it must be declared in the step's groups.
// The error is on the input, at the call, once however many of the
// module's steps read it.
func (r *Recipe) checkInputHostRefs(trs []hcl.Traversal, onGroups []string, n *namespace) hcl.Diagnostics {
	if n.mod == nil || len(onGroups) == 0 {
		return nil
	}
	var diags hcl.Diagnostics
	for _, tr := range trs {
		if tr.RootName() != "var" || len(tr) < 2 {
			continue
		}
		in := n.mod.Inputs[attrName(tr[1])]
		if in == nil {
			continue
		}
		caller := n.mod.caller
		inTrs := in.Expr.Variables()
		var hostTrs []hcl.Traversal
		for _, itr := range inTrs {
			if itr.RootName() == "host" {
				hostTrs = append(hostTrs, itr)
			}
		}
		for _, d := range annotate(r.checkRefs(hostTrs, onGroups, caller), caller.mod) {
			if !r.an.firstReport(d.Summary + "@" + d.Subject.String()) {
				continue
			}
			diags = append(diags, d)
		}
		diags = append(diags, r.checkInputHostRefs(inTrs, onGroups, caller)...)
	}
	return diags
}

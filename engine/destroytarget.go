package engine

import (
	"diffuser/lang"

	"fmt"
	"sort"

	"diffuser/state"

	"github.com/hashicorp/hcl/v2"
)

// Reasons a targeted destroy gives for each address it destroys.
const (
	ReasonTargeted  = "targeted"
	reasonHostGone  = "its host %s is destroyed"
	reasonDependsOn = "depends on %s, which is destroyed"
)

// planDestroyTargets plans `destroy -target`: what the targets name in
// state, and everything in state that depends on it, as Terraform does:
// nothing is left running on top of something gone. Dependents are found
// in the recipe's instance graph (state records no edges), walked once in
// topological order; step instances on a destroyed host go with it. Every
// destroy's Reason says which of the three it is.
func (p *Plan) planDestroyTargets(st *state.State, targets []string, workspace string) hcl.Diagnostics {
	if workspace == "" {
		workspace = "WORKSPACE"
	}
	p.Targets = targets
	reason := map[string]string{} // state address → why it goes
	var diags hcl.Diagnostics
	for _, t := range targets {
		n := 0
		for name, h := range st.Hosts {
			if t == name || t == LaunchAddr(name) || t == "hosts."+h.Group {
				reason[LaunchAddr(name)] = ReasonTargeted
				n++
			}
		}
		for addr, inst := range st.Steps {
			if t == addr || TargetsStep(t, inst.Step) {
				reason[addr] = ReasonTargeted
				n++
			}
		}
		if n == 0 {
			known := map[string]bool{}
			for name, h := range st.Hosts {
				known[name], known["hosts."+h.Group] = true, true
			}
			for _, inst := range st.Steps {
				addTargetNames(known, inst.Step)
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown target",
				Detail: fmt.Sprintf("%q matches nothing in this workspace's state; use %s (diffuser state list %s lists what there is).%s",
					t, targetForms, workspace, targetSuggestion(t, known))})
		}
	}
	if diags.HasErrors() {
		return diags
	}
	hostGone := func(host string) bool { _, ok := reason[LaunchAddr(host)]; return ok }

	g := p.Loaded.Graph
	via := make([]string, g.NumVertices()) // the nearest destroyed address v depends on
	for _, v := range g.Order {
		own := via[v]
		if k := g.Kind[v]; k == VLaunch || k == VStep {
			addr := g.Addr(v)
			host := g.Hosts[g.Ref[v]].Name
			inState := st.Hosts[host] != nil
			if k == VStep {
				inState = st.Steps[addr] != nil
			}
			if inState {
				if _, ok := reason[addr]; !ok {
					switch {
					case k == VStep && hostGone(host):
						reason[addr] = fmt.Sprintf(reasonHostGone, host)
					case via[v] != "":
						reason[addr] = fmt.Sprintf(reasonDependsOn, via[v])
					}
				}
				if _, ok := reason[addr]; ok {
					own = addr
				}
			}
		}
		if own == "" {
			continue
		}
		for _, w := range g.Out(v) {
			if via[w] == "" {
				via[w] = own
			}
		}
	}
	// What the graph does not know (steps or hosts the recipe, as loaded,
	// lacks) still goes with its host.
	for addr, inst := range st.Steps {
		if _, ok := reason[addr]; !ok && hostGone(inst.Host) {
			reason[addr] = fmt.Sprintf(reasonHostGone, inst.Host)
		}
	}
	var unknown []string
	for name := range st.Hosts {
		if _, ok := g.HostIdx[name]; !ok && hostGone(name) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Host not in the recipe as loaded",
			Detail: fmt.Sprintf("%s is in state but not in the recipe with these variables, so what depends on it elsewhere "+
				"cannot be found; pass the -var values the cluster was applied with.", name)})
	}

	for addr, inst := range st.Steps {
		if why, ok := reason[addr]; ok {
			p.Destroys = append(p.Destroys, &Change{V: -1, Addr: addr, Kind: inst.Kind, Step: inst.Step, Host: inst.Host,
				Group: groupOf(st, inst.Host), Action: Destroy, Reason: withoutHost(st, inst.Host, why)})
		}
	}
	for name, h := range st.Hosts {
		why, ok := reason[LaunchAddr(name)]
		if !ok {
			continue
		}
		c := &Change{V: -1, Addr: LaunchAddr(name), Kind: "launch", Host: name, Group: h.Group, Action: Destroy, Reason: why}
		c.Data = lostVolumes(h)
		p.Destroys = append(p.Destroys, c)
	}
	p.sortDestroys(p.Destroys, st)
	return diags
}

// Dependents counts the destroys a targeted destroy adds because they
// depend on (or run on) what its targets name.
func (p *Plan) Dependents() int {
	if len(p.Targets) == 0 {
		return 0
	}
	n := 0
	for _, c := range p.Destroys {
		if c.Reason != ReasonTargeted {
			n++
		}
	}
	return n
}

// UndoneOnStayingHosts lists the step instances a targeted destroy undoes
// on hosts it does not destroy (they depend on what is destroyed): their
// destroy commands run on machines that stay (a client unmounts, a volume
// on another server is deleted).
func (p *Plan) UndoneOnStayingHosts() []string {
	if len(p.Targets) == 0 {
		return nil
	}
	going := map[string]bool{}
	for _, c := range p.Destroys {
		if c.Kind == "launch" {
			going[c.Host] = true
		}
	}
	var out []string
	for _, c := range p.Destroys {
		if c.Kind != "launch" && !going[c.Host] && c.Reason != ReasonTargeted {
			out = append(out, c.Addr)
		}
	}
	return out
}

// forgetOutputs drops, after a targeted destroy, the recorded outputs that
// read a host group or step it took something from, directly or through
// locals: their values may name what is gone. The others stay as they
// were; the next apply computes them all again.
func (a *applier) forgetOutputs() {
	gone := map[string]bool{} // "hosts.GROUP", "step.NAME"
	for _, c := range a.p.Destroys {
		if c.Kind == "launch" {
			gone["hosts."+c.Group] = true
		} else {
			gone[lang.StepAddr(c.Step)] = true
		}
	}
	r := a.p.Loaded.Recipe
	locals := map[string]hcl.Expression{}
	for _, l := range r.Locals {
		locals[l.Name] = l.Expr
	}
	var reads func(e hcl.Expression, seen map[string]bool) bool
	reads = func(e hcl.Expression, seen map[string]bool) bool {
		for _, tr := range e.Variables() {
			if len(tr) < 2 {
				continue
			}
			attr, ok := tr[1].(hcl.TraverseAttr)
			if !ok {
				continue
			}
			root := tr.RootName()
			if gone[root+"."+attr.Name] {
				return true
			}
			if root == "local" && !seen[attr.Name] && locals[attr.Name] != nil {
				seen[attr.Name] = true
				if reads(locals[attr.Name], seen) {
					return true
				}
			}
		}
		return false
	}
	a.mu.Lock()
	kept := map[string]state.Output{}
	for name, o := range a.st.Outputs {
		kept[name] = o
	}
	for _, o := range r.Outputs {
		through := false // through a module's outputs
		for _, ref := range o.RefSteps {
			through = through || gone[lang.StepAddr(ref.Name)]
		}
		for _, ref := range o.RefGroups {
			through = through || gone["hosts."+ref.Name]
		}
		if through || reads(o.Value, map[string]bool{}) {
			delete(kept, o.Name)
		}
	}
	a.st.Outputs = kept
	a.mu.Unlock()
	if err := a.opt.Recorder.SetOutputs(kept); err != nil {
		a.res.Warnings = append(a.res.Warnings, err.Error())
	}
}

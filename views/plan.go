package views

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"diffuser/engine"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// renderValue prints a cty value the way plan output shows it: unknown as
// (known after apply), sensitive as (sensitive), strings quoted unless
// they span lines.
func renderValue(v cty.Value, indent string) string {
	if v.IsMarked() {
		// Sensitive (or marked otherwise): never printed. Marks on parts
		// of a collection are handled element by element below.
		return "(sensitive)"
	}
	if !v.IsKnown() {
		return "(known after apply)"
	}
	if v.IsNull() {
		return "null"
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		s := v.AsString()
		if strings.Contains(strings.TrimRight(s, "\n"), "\n") {
			var b strings.Builder
			b.WriteString("<<-EOT\n")
			for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
				b.WriteString(indent + "    " + Printable(line) + "\n")
			}
			b.WriteString(indent + "EOT")
			return b.String()
		}
		return fmt.Sprintf("%q", s)
	case ty == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case ty == cty.Bool:
		if v.True() {
			return "true"
		}
		return "false"
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		var parts []string
		for _, e := range v.AsValueSlice() {
			parts = append(parts, renderValue(e, indent+"  "))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case ty.IsMapType() || ty.IsObjectType():
		m := v.AsValueMap()
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s = %s", k, renderValue(m[k], indent+"  ")))
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	return v.GoString()
}

// renderArgs prints a step's non-null arguments, one per line.
func renderArgs(w io.Writer, args cty.Value, indent string) {
	if args == cty.NilVal || args.IsNull() || !args.Type().IsObjectType() {
		return
	}
	if args.IsMarked() {
		fmt.Fprintf(w, "%s(sensitive arguments)\n", indent)
		return
	}
	if !args.IsKnown() {
		fmt.Fprintf(w, "%s(arguments known after apply)\n", indent)
		return
	}
	m := args.AsValueMap()
	keys := make([]string, 0, len(m))
	for k := range m {
		if v := m[k]; v.IsKnown() && v.IsNull() {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s%s = %s\n", indent, k, renderValue(m[k], indent))
	}
}

func describe(c *engine.Change) string {
	verb := map[engine.Action]string{engine.Create: "will be created", engine.Update: "will be updated",
		engine.Replace: "must be replaced", engine.Destroy: "will be destroyed", engine.Start: "will be started"}[c.Action]
	s := fmt.Sprintf("# %s %s", c.Addr, verb)
	if c.Reason != "" {
		// A reason may quote a host's answer to refresh (blkid, findmnt).
		s += " (" + Printable(c.Reason) + ")"
	}
	if len(c.Data) > 0 && (c.Action == engine.Replace || c.Action == engine.Destroy) {
		s += fmt.Sprintf(" (destroys data on volume %s)", strings.Join(c.Data, ", "))
	}
	if c.HandedOver != "" {
		s += " (" + Printable(c.HandedOver) + ")"
	}
	if n := c.GoneNote(); n != "" {
		s += " (" + Printable(n) + ")"
	}
	return s
}

// WritePlan prints the plan grouped by host group, as Terraform users expect.
func WritePlan(w io.Writer, p *engine.Plan) {
	if !p.HasChanges() {
		if len(p.LeftOut) > 0 {
			fmt.Fprintln(w, "No changes in what -target names.")
			writeLeftOut(w, p.LeftOut, p.LeftOutRestart, p.LeftOutOwed)
			return
		}
		fmt.Fprintln(w, "No changes. The cluster matches the recipe.")
		writeDestroysChanged(w, p.DestroysChanged())
		return
	}
	fmt.Fprintln(w, "diffuser will perform the following actions:")
	if len(p.Moves) > 0 {
		fmt.Fprintf(w, "\n== moved (moved blocks: state renamed, nothing runs) ==\n\n")
		for _, m := range p.Moves {
			if r := m.Reason(); r != "" {
				fmt.Fprintf(w, "  # %s has moved to %s (%s)\n", m.From, m.To, Printable(r))
				continue
			}
			fmt.Fprintf(w, "  # %s has moved to %s\n", m.From, m.To)
		}
	}
	groups := map[string][]*engine.Change{}
	var order []string
	for _, g := range p.Loaded.Recipe.Groups {
		order = append(order, g.Name)
	}
	for _, c := range append(append([]*engine.Change{}, p.Changes...), p.Destroys...) {
		if _, ok := groups[c.Group]; !ok && !contains(order, c.Group) {
			order = append(order, c.Group)
		}
		groups[c.Group] = append(groups[c.Group], c)
	}
	for _, g := range order {
		cs := groups[g]
		if len(cs) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n== hosts %q ==\n", g)
		for _, c := range cs {
			fmt.Fprintf(w, "\n  %s\n", describe(c))
			sym := c.Action.Symbol()
			if c.Kind == "launch" {
				fmt.Fprintf(w, "  %-3s launch %s (%s)\n", sym, c.Host, p.Provider)
				writeNote(w, c.Note)
				continue
			}
			verb := ""
			if c.Restart != "" {
				verb = c.Restart + " " // "~   restart service daemon on server[1]"
			}
			fmt.Fprintf(w, "  %-3s %s%s %s on %s\n", sym, verb, c.Kind, c.Step, c.Host)
			switch {
			case c.Action == engine.Destroy:
			case (c.Action == engine.Update || c.Action == engine.Replace) && c.Prev != cty.NilVal:
				renderArgsDiff(w, c.Prev, c.Args, "        ")
			default:
				renderArgs(w, c.Args, "        ")
			}
		}
	}
	add, change, destroy := p.Counts()
	if p.Cleanup {
		fmt.Fprintf(w, "\n  # the %s provider is asked to remove whatever is still tagged with this workspace's cluster\n"+
			"  # (instances, volumes, network, security group, key pair), also what state never recorded\n", p.Provider)
	}
	if len(p.Moves) > 0 {
		fmt.Fprintf(w, "\nPlan: %d to add, %d to change, %d to destroy, %d to move.\n", add, change, destroy, len(p.Moves))
	} else {
		fmt.Fprintf(w, "\nPlan: %d to add, %d to change, %d to destroy.\n", add, change, destroy)
	}
	writeLeftOut(w, p.LeftOut, p.LeftOutRestart, p.LeftOutOwed)
	writeDestroysChanged(w, p.DestroysChanged())
	writeRenames(w, p.LikelyRenames(), p.Workspace)
	if len(p.Targets) > 0 {
		n := p.Dependents()
		fmt.Fprintf(w, "\nTargeted destroy (-target %s): %d targeted, %d more that %s (reasons above);\n"+
			"nothing is left depending on something destroyed. The next apply brings them all back.\n",
			strings.Join(p.Targets, ", -target "), len(p.Destroys)-n, n, plural(n, "runs on or depends on", "run on or depend on")+" "+plural(len(p.Destroys)-n, "it", "them"))
		if staying := p.UndoneOnStayingHosts(); len(staying) > 0 {
			shown := staying
			if len(shown) > 5 {
				shown = append(shown[:5:5], fmt.Sprintf("and %d more", len(staying)-5))
			}
			fmt.Fprintf(w, "Warning: %d of them %s on hosts that stay, and their destroy commands run there: %s.\n"+
				"The next apply makes them anew only as far as their steps can (a deleted volume, and its data, may not come back).\n",
				len(staying), plural(len(staying), "runs", "run"), strings.Join(shown, ", "))
		}
	}
}

// writeLeftOut warns, as Terraform's "Resource targeting is in effect"
// does, that -target left changes out: a config file targeted alone is
// written, but the restart it owes and whatever else changed wait. A
// left-out restart is named as one (Ansible users expect notified
// handlers to run even under --tags), with where it happens instead, and
// owedHow (engine.Plan.LeftOutOwed) says whether state owes it already or
// will once a target changes.
func writeLeftOut(w io.Writer, left []string, restart, owedHow func(addr string) string) {
	if len(left) == 0 {
		return
	}
	named := make([]string, len(left))
	owed, pending := 0, 0
	for i, a := range left {
		named[i] = a
		if r := restart(a); r != "" {
			named[i] = a + " (" + r + ")"
			switch owedHow(a) {
			case "targets":
				owed++
			case "pending":
				pending++
			}
		}
	}
	names := strings.Join(named, ", ")
	if len(named) > 3 {
		names = fmt.Sprintf("%s and %d more", strings.Join(named[:3], ", "), len(named)-3)
	}
	fmt.Fprintf(w, "\nWarning: -target leaves out %d %s the recipe also needs: %s.\n"+
		"The cluster matches the recipe only after an apply without -target.\n", len(left), plural(len(left), "change", "changes"), names)
	if owed > 0 {
		fmt.Fprintf(w, "The %s left out %s recorded as owed when the targets change: the next apply without -target does %s (its plan says \"still pending\").\n",
			plural(owed, "restart", "restarts"), plural(owed, "is", "are"), plural(owed, "it", "them"))
	}
	if pending > 0 {
		fmt.Fprintf(w, "The %s left out %s owed already (state recorded %s in an earlier apply): the next apply without -target does %s (its plan says \"still pending\").\n",
			plural(pending, "restart", "restarts"), plural(pending, "is", "are"), plural(pending, "it", "them"), plural(pending, "it", "them"))
	}
}

// writeRenames offers the moved block for a module call that looks
// renamed: Terraform users expect a rename to be a no-op, and without the
// block the plan undoes the call's work and redoes it.
func writeRenames(w io.Writer, renames []engine.Rename, workspace string) {
	ws := "WORKSPACE"
	if workspace != "" {
		ws = shellWord(workspace)
	}
	for _, r := range renames {
		come, what := "steps go and %s's come, with the same names on the same hosts", "call"
		if strings.HasPrefix(r.From, "step.") {
			come, what = "instances go and %s's come, of the same kind on the same hosts", "step"
		}
		fmt.Fprintf(w, "\n%s's "+come+". If you renamed the %s,\n"+
			"say so and nothing is undone or run again:\n\n  moved {\n    from = %s\n    to   = %s\n  }\n\n"+
			"(or diffuser state mv %s %s %s)\n", r.From, r.To, what, r.From, r.To, ws, r.From, r.To)
	}
}

// writeDestroysChanged says which instances, unchanged otherwise, get
// the destroy command their step has now recorded (nothing runs).
func writeDestroysChanged(w io.Writer, addrs []string) {
	if len(addrs) == 0 {
		return
	}
	shown := addrs
	if len(shown) > 5 {
		shown = append(shown[:5:5], fmt.Sprintf("and %d more", len(addrs)-5))
	}
	fmt.Fprintf(w, "\nThe destroy command of %d step %s changed; apply records it, nothing runs: %s\n",
		len(addrs), plural(len(addrs), "instance", "instances"), Printable(strings.Join(shown, ", ")))
}

// writeNote prints a replaced host's replace_note: what happens to the data.
func writeNote(w io.Writer, note string) {
	if note == "" {
		return
	}
	// The note is recipe text that may read variables: shown, never
	// interpreted by the terminal.
	for i, line := range strings.Split(strings.TrimRight(Printable(note), "\n"), "\n") {
		if i == 0 {
			fmt.Fprintf(w, "        # the data: %s\n", line)
			continue
		}
		fmt.Fprintf(w, "        #   %s\n", line)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// ChangeJSON is one change in `plan -json` (schema PlanFormatVersion).
type ChangeJSON struct {
	Address string   `json:"address"`
	Action  string   `json:"action"`
	Kind    string   `json:"kind"`
	Step    string   `json:"step,omitempty"`
	Host    string   `json:"host"`
	Group   string   `json:"group,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Data    []string `json:"destroys_data_on,omitempty"`
	// Restart (1.2) is "restart" or "reload" for a service step that
	// restarts because a step in its restart_on (reload_on) changes.
	Restart string `json:"restart,omitempty"`
	// GathersFacts (1.2) marks a launch that only asks the host for its
	// facts and records them; the host stays as it is.
	GathersFacts bool `json:"gathers_facts,omitempty"`
	// ReplaceNote (1.3), on a launch that replaces a recorded machine, is
	// its group's replace_note: what happens to the data.
	ReplaceNote string `json:"replace_note,omitempty"`
	// HandedTo (1.7), on the destroy of a step instance, is the instance
	// of the recipe that has the same file, mount target or service on
	// its host now: the destroyed one's undo is not run.
	HandedTo string         `json:"handed_to,omitempty"`
	Args     map[string]any `json:"args,omitempty"`
	// Before is what an updated instance was last applied with (arguments
	// sensitive now are masked there too).
	Before map[string]any `json:"before,omitempty"`
}

// PlanFormatVersion is the version of the plan JSON schema (PlanJSON and
// ChangeJSON): the minor number grows when fields are added, the major
// when a field changes meaning or goes away; the package doc lists the
// changes. 1.1 added "remembered" (RememberedJSON), 1.2 "moves" and
// summary.move (MoveJSON), "restart" and "gathers_facts" on changes, 1.3
// "replace_note" on changes, 1.4 "moved_by" on moves (MovedByJSON), 1.5
// "left_out" and "likely_renames" (RenameJSON), 1.6 "replace" (with
// "before") on step instances, 1.7 "handed_to" on destroys.
const PlanFormatVersion = "1.7"

// PlanJSON is the plan as `plan -json` prints it.
type PlanJSON struct {
	FormatVersion string `json:"format_version"`
	Type          string `json:"type,omitempty"` // "plan" in apply's JSON lines
	Recipe        string `json:"recipe"`
	Provider      string `json:"provider"`
	// Remembered is what the plan took from the workspace's remembered
	// inputs; absent when nothing (since 1.1).
	Remembered *RememberedJSON `json:"remembered,omitempty"`
	Changes    []ChangeJSON    `json:"changes"`
	// Moves are the step instances moved blocks rename in state (since
	// 1.2; absent when none).
	Moves []MoveJSON `json:"moves,omitempty"`
	// LeftOut (1.5) are the changes a plan with -target leaves out, which
	// the recipe also needs (the text plan's warning); absent when none.
	LeftOut []string `json:"left_out,omitempty"`
	// LikelyRenames (1.5) are the module calls and steps that look renamed (the
	// text plan offers a moved block for each); absent when none.
	LikelyRenames []RenameJSON `json:"likely_renames,omitempty"`
	Summary       struct {
		Add     int `json:"add"`
		Change  int `json:"change"`
		Destroy int `json:"destroy"`
		Move    int `json:"move,omitempty"`
	} `json:"summary"`
}

// RenameJSON is a module call that looks renamed: from's steps go and
// to's come with the same names on the same hosts.
type RenameJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// MoveJSON is one instance a moved block renames.
type MoveJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
	// MovedBy (1.4) are the moved blocks that make the move, in the order
	// they apply: one, or more when a move leads to another's from.
	MovedBy []MovedByJSON `json:"moved_by,omitempty"`
}

// MovedByJSON is one moved block behind a move.
type MovedByJSON struct {
	// Block is where the moved block is written: "FILE:LINE".
	Block string `json:"block"`
	// HistoryOf and Source, for a module's history (a moved block in a
	// module whose from starts with caller.), name the module call that
	// carries it and its source; absent for the recipe's own blocks and
	// a module's moves inside itself.
	HistoryOf string `json:"history_of,omitempty"`
	Source    string `json:"source,omitempty"`
}

func jsonValue(v cty.Value) any {
	if v.IsMarked() {
		return "(sensitive)"
	}
	if !v.IsKnown() {
		return "(known after apply)"
	}
	if v.IsNull() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString()
	case ty == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		return f
	case ty == cty.Bool:
		return v.True()
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		out := []any{}
		for _, e := range v.AsValueSlice() {
			out = append(out, jsonValue(e))
		}
		return out
	case ty.IsMapType() || ty.IsObjectType():
		out := map[string]any{}
		for k, e := range v.AsValueMap() {
			out[k] = jsonValue(e)
		}
		return out
	}
	return nil
}

// joinReason is a change's reason with a note after it.
func joinReason(reason, note string) string {
	switch {
	case note == "":
		return reason
	case reason == "":
		return note
	}
	return reason + "; " + note
}

// NewPlanJSON is the plan in the JSON schema, with what it took from
// remembered inputs.
func NewPlanJSON(p *engine.Plan, rem Remembered) PlanJSON {
	jp := PlanJSON{FormatVersion: PlanFormatVersion, Recipe: p.Loaded.Recipe.Name, Provider: p.Provider, Changes: []ChangeJSON{},
		Remembered: rememberedJSON(rem)}
	for _, c := range append(append([]*engine.Change{}, p.Changes...), p.Destroys...) {
		jc := ChangeJSON{Address: c.Addr, Action: c.Action.String(), Kind: c.Kind, Step: c.Step, Host: c.Host,
			Group: c.Group, Reason: joinReason(c.Reason, c.GoneNote()), Data: c.Data, Restart: c.Restart, GathersFacts: c.GatherFacts,
			ReplaceNote: c.Note, HandedTo: c.HandedTo}
		if c.Args != cty.NilVal && c.Kind != "launch" && c.Action != engine.Destroy {
			if m, ok := jsonValue(c.Args).(map[string]any); ok {
				for k, v := range m {
					if v == nil {
						delete(m, k)
					}
				}
				jc.Args = m
			}
		}
		if (c.Action == engine.Update || c.Action == engine.Replace) && c.Prev != cty.NilVal && c.Args != cty.NilVal && !c.Args.IsMarked() &&
			c.Args.IsKnown() && !c.Args.IsNull() && c.Prev.Type().IsObjectType() {
			jc.Before = map[string]any{}
			for k, v := range c.Prev.AsValueMap() {
				if v.IsNull() {
					continue
				}
				if c.Args.Type().HasAttribute(k) && c.Args.GetAttr(k).ContainsMarked() {
					jc.Before[k] = "(sensitive)"
					continue
				}
				jc.Before[k] = jsonValue(v)
			}
		}
		jp.Changes = append(jp.Changes, jc)
	}
	jp.Summary.Add, jp.Summary.Change, jp.Summary.Destroy = p.Counts()
	for _, m := range p.Moves {
		jm := MoveJSON{From: m.From, To: m.To}
		for _, mv := range m.By {
			b := MovedByJSON{Block: mv.Where()}
			if mv.By != nil {
				b.HistoryOf, b.Source = mv.By.Addr, mv.By.Source
			}
			jm.MovedBy = append(jm.MovedBy, b)
		}
		jp.Moves = append(jp.Moves, jm)
	}
	jp.Summary.Move = len(p.Moves)
	jp.LeftOut = p.LeftOut
	for _, r := range p.LikelyRenames() {
		jp.LikelyRenames = append(jp.LikelyRenames, RenameJSON(r))
	}
	return jp
}

// WritePlanJSON writes the plan as one indented JSON document.
func WritePlanJSON(w io.Writer, p *engine.Plan, rem Remembered) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(NewPlanJSON(p, rem))
}

// WritePlanJSONLine writes the plan as one JSON line of type "plan", the
// first line of apply's JSON-lines output.
func WritePlanJSONLine(w io.Writer, p *engine.Plan, rem Remembered) error {
	jp := NewPlanJSON(p, rem)
	jp.Type = "plan"
	return json.NewEncoder(w).Encode(jp)
}

// renderArgsDiff prints what changed between the arguments an instance was
// applied with (prev, from state: never marked) and its new arguments:
// `~ name = old -> new`, `+` and `-` for attributes set or unset, a unified
// line diff for multi-line strings, nested maps key by key, and a count of
// unchanged attributes. A sensitive new value is never printed, nor is
// the old value of that attribute.
func renderArgsDiff(w io.Writer, prev, args cty.Value, indent string) {
	if args == cty.NilVal || args.IsNull() || !args.Type().IsObjectType() {
		return
	}
	if args.IsMarked() {
		fmt.Fprintf(w, "%s(sensitive arguments)\n", indent)
		return
	}
	if !args.IsKnown() {
		fmt.Fprintf(w, "%s(arguments known after apply)\n", indent)
		return
	}
	unchanged := diffObject(w, prev, args, indent)
	if unchanged > 0 {
		fmt.Fprintf(w, "%s# (%d unchanged %s hidden)\n", indent, unchanged, plural(unchanged, "attribute", "attributes"))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// diffObject diffs the attributes (or map keys) of two values and returns
// how many are equal and set. old may be NilVal or null (everything is new).
func diffObject(w io.Writer, old, cur cty.Value, indent string) int {
	oldM := map[string]cty.Value{}
	if old != cty.NilVal && !old.IsMarked() && old.IsKnown() && !old.IsNull() && (old.Type().IsObjectType() || old.Type().IsMapType()) {
		oldM = old.AsValueMap()
	}
	curM := map[string]cty.Value{}
	if !cur.IsMarked() && cur.IsKnown() && !cur.IsNull() {
		curM = cur.AsValueMap()
	}
	keys := map[string]bool{}
	for k := range oldM {
		keys[k] = true
	}
	for k := range curM {
		keys[k] = true
	}
	unchanged := 0
	for _, k := range sortedKeys(keys) {
		o, ok := oldM[k]
		if !ok {
			o = cty.NilVal
		}
		c, ok := curM[k]
		if !ok {
			c = cty.NilVal
		}
		if !diffAttr(w, k, o, c, indent) && !(isNullish(o) && isNullish(c)) {
			unchanged++
		}
	}
	return unchanged
}

// mark prefixes a line with a change mark in the two columns before indent.
func mark(indent, sym string) string {
	if len(indent) < 2 {
		return sym + " "
	}
	return indent[:len(indent)-2] + sym + " "
}

func isNullish(v cty.Value) bool {
	return v == cty.NilVal || !v.IsMarked() && v.IsKnown() && v.IsNull()
}

// diffAttr prints one attribute's change and reports whether it changed.
func diffAttr(w io.Writer, name string, old, cur cty.Value, indent string) bool {
	switch {
	case isNullish(old) && isNullish(cur):
		return false
	case cur != cty.NilVal && cur.ContainsMarked():
		if old != cty.NilVal && !old.IsNull() && sameValue(old, cur) {
			return false
		}
		fmt.Fprintf(w, "%s%s = (sensitive)\n", mark(indent, "~"), name)
		return true
	case !isNullish(cur) && !cur.IsWhollyKnown():
		if isNullish(old) {
			fmt.Fprintf(w, "%s%s = %s\n", mark(indent, "+"), name, renderValue(cur, indent))
		} else {
			fmt.Fprintf(w, "%s%s = %s -> (known after apply)\n", mark(indent, "~"), name, renderValue(old, indent))
		}
		return true
	case isNullish(old):
		fmt.Fprintf(w, "%s%s = %s\n", mark(indent, "+"), name, renderValue(cur, indent))
		return true
	case isNullish(cur):
		fmt.Fprintf(w, "%s%s = %s -> null\n", mark(indent, "-"), name, renderValue(old, indent))
		return true
	case sameValue(old, cur):
		return false
	}
	ot, ct := old.Type(), cur.Type()
	switch {
	case ot == cty.String && ct == cty.String && (multiline(old.AsString()) || multiline(cur.AsString())):
		fmt.Fprintf(w, "%s%s = <<-EOT\n", mark(indent, "~"), name)
		writeLineDiff(w, old.AsString(), cur.AsString(), indent+"  ")
		fmt.Fprintf(w, "%sEOT\n", indent)
	case (ot.IsObjectType() || ot.IsMapType()) && (ct.IsObjectType() || ct.IsMapType()):
		fmt.Fprintf(w, "%s%s = {\n", mark(indent, "~"), name)
		if n := diffObject(w, old, cur, indent+"    "); n > 0 {
			fmt.Fprintf(w, "%s    # (%d unchanged %s hidden)\n", indent, n, plural(n, "element", "elements"))
		}
		fmt.Fprintf(w, "%s}\n", indent)
	default:
		fmt.Fprintf(w, "%s%s = %s -> %s\n", mark(indent, "~"), name, renderValue(old, indent), renderValue(cur, indent))
	}
	return true
}

// sameValue compares two values ignoring marks and the list/tuple and
// map/object distinctions JSON round trips blur.
func sameValue(a, b cty.Value) bool {
	a, _ = a.UnmarkDeep()
	b, _ = b.UnmarkDeep()
	if !a.IsWhollyKnown() || !b.IsWhollyKnown() {
		return false
	}
	if !a.Type().Equals(b.Type()) {
		if conv, err := convert.Convert(a, b.Type()); err == nil {
			a = conv
		} else {
			return false
		}
	}
	eq := a.Equals(b)
	return eq.IsKnown() && eq.True()
}

func multiline(s string) bool { return strings.Contains(strings.TrimRight(s, "\n"), "\n") }

// diffContext is how many unchanged lines a line diff shows around changes.
const diffContext = 3

// writeLineDiff prints a unified diff of two texts' lines, each line under
// indent with "- ", "+ " or "  ", eliding unchanged runs beyond
// diffContext lines of a change.
func writeLineDiff(w io.Writer, a, b, indent string) {
	ops := lineDiff(splitLines(a), splitLines(b))
	show := make([]bool, len(ops))
	for i, op := range ops {
		if op.sym == ' ' {
			continue
		}
		for j := max(0, i-diffContext); j <= min(len(ops)-1, i+diffContext); j++ {
			show[j] = true
		}
	}
	for i := 0; i < len(ops); {
		if !show[i] {
			j := i
			for j < len(ops) && !show[j] {
				j++
			}
			fmt.Fprintf(w, "%s  # (%d unchanged %s hidden)\n", indent, j-i, plural(j-i, "line", "lines"))
			i = j
			continue
		}
		fmt.Fprintf(w, "%s%c %s\n", indent, ops[i].sym, Printable(ops[i].line))
		i++
	}
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type diffOp struct {
	sym  byte // ' ', '-', '+'
	line string
}

// lineDiff is a longest-common-subsequence line diff: deletions before
// insertions within a change. Past 4 million cells it gives up on finding
// common lines and shows the old text removed and the new added.
func lineDiff(a, b []string) []diffOp {
	var ops []diffOp
	if len(a)*len(b) > 4_000_000 {
		for _, l := range a {
			ops = append(ops, diffOp{'-', l})
		}
		for _, l := range b {
			ops = append(ops, diffOp{'+', l})
		}
		return ops
	}
	// lcs[i][j]: length of the LCS of a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i]})
			i++
			j++
		case j >= len(b) || i < len(a) && lcs[i+1][j] >= lcs[i][j+1]:
			ops = append(ops, diffOp{'-', a[i]})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j]})
			j++
		}
	}
	return ops
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"diffuser/engine"

	"github.com/zclconf/go-cty/cty"
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
				b.WriteString(indent + "    " + line + "\n")
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
		s += " (" + c.Reason + ")"
	}
	if len(c.Data) > 0 && (c.Action == engine.Replace || c.Action == engine.Destroy) {
		s += fmt.Sprintf(" (destroys data on volume %s)", strings.Join(c.Data, ", "))
	}
	return s
}

// writePlan prints the plan grouped by host group, as Terraform users expect.
func writePlan(w io.Writer, p *engine.Plan) {
	if !p.HasChanges() {
		fmt.Fprintln(w, "No changes. The cluster matches the recipe.")
		return
	}
	fmt.Fprintln(w, "diffuser will perform the following actions:")
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
				continue
			}
			fmt.Fprintf(w, "  %-3s %s %s on %s\n", sym, c.Kind, c.Step, c.Host)
			if c.Action != engine.Destroy {
				renderArgs(w, c.Args, "        ")
			}
		}
	}
	add, change, destroy := p.Counts()
	fmt.Fprintf(w, "\nPlan: %d to add, %d to change, %d to destroy.\n", add, change, destroy)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// jsonChange is one change in `plan -json`.
type jsonChange struct {
	Address string         `json:"address"`
	Action  string         `json:"action"`
	Kind    string         `json:"kind"`
	Step    string         `json:"step,omitempty"`
	Host    string         `json:"host"`
	Group   string         `json:"group,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	Data    []string       `json:"destroys_data_on,omitempty"`
	Args    map[string]any `json:"args,omitempty"`
}

type jsonPlan struct {
	Recipe   string       `json:"recipe"`
	Provider string       `json:"provider"`
	Changes  []jsonChange `json:"changes"`
	Summary  struct {
		Add     int `json:"add"`
		Change  int `json:"change"`
		Destroy int `json:"destroy"`
	} `json:"summary"`
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

func writePlanJSON(w io.Writer, p *engine.Plan) error {
	jp := jsonPlan{Recipe: p.Loaded.Recipe.Name, Provider: p.Provider, Changes: []jsonChange{}}
	for _, c := range append(append([]*engine.Change{}, p.Changes...), p.Destroys...) {
		jc := jsonChange{Address: c.Addr, Action: c.Action.String(), Kind: c.Kind, Step: c.Step, Host: c.Host,
			Group: c.Group, Reason: c.Reason, Data: c.Data}
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
		jp.Changes = append(jp.Changes, jc)
	}
	jp.Summary.Add, jp.Summary.Change, jp.Summary.Destroy = p.Counts()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jp)
}

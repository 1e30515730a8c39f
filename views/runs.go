package views

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"diffuser/engine"
	"diffuser/steps"
)

// RunInfo is what the views show of a past apply or destroy (cmd fills it
// from the workspace's run record).
type RunInfo struct {
	ID        string
	Workspace string
	Operation string // apply | destroy
	Status    string // running | succeeded | failed | stopped | interrupted
	Error     string
	Command   []string
	PlanFile  string
	Started   time.Time
	Ended     time.Time // zero while running or when interrupted
	Duration  time.Duration
	Recipe    string
	Source    string // where the recipe came from: a path or builtin:NAME
	Provider  string
	Serials   [2]uint64 // state serial before and after
	Holder    string    // the process that ran it, for running and interrupted runs
	Actions   []engine.ActionRecord
	Outcome   *engine.Outcome // nil unless it ended
	LogDir    string          // "" when no step logged
	Timeline  string          // "" when there is no page
}

// timeFormat is how run times print: local time, to the second.
const timeFormat = "2006-01-02 15:04:05"

// WriteRuns prints runs as a table, newest first as given; withWorkspace
// adds the workspace column (when runs of several workspaces are listed).
func WriteRuns(w io.Writer, runs []RunInfo, withWorkspace bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	ws := func(r RunInfo) string {
		if withWorkspace {
			return oneLine(r.Workspace) + "\t"
		}
		return ""
	}
	head := "RUN\t"
	if withWorkspace {
		head += "WORKSPACE\t"
	}
	fmt.Fprintln(tw, head+"OPERATION\tSTARTED\tDURATION\tRESULT\tDONE\tFAILED\tSKIPPED")
	for _, r := range runs {
		dur, done, failed, skipped := "-", "-", "-", "-"
		if r.Duration > 0 {
			dur = fmtDuration(r.Duration)
		}
		if o := r.Outcome; o != nil {
			done, failed, skipped = fmt.Sprint(o.Done), fmt.Sprint(o.Failed), fmt.Sprint(o.Skipped)
		}
		fmt.Fprintf(tw, "%s\t%s%s\t%s\t%s\t%s\t%s\t%s\t%s\n", oneLine(r.ID), ws(r), oneLine(r.Operation), fmtTime(r.Started), dur, oneLine(r.Status),
			done, failed, skipped)
	}
	return tw.Flush()
}

// fmtDuration rounds to a tenth of a second under a minute, else to the
// second.
func fmtDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(timeFormat)
}

// WriteRun prints one past run: what ran it and with what, its plan, the
// summary apply printed at its end (failures with their logs), and where
// its logs and timeline are.
func WriteRun(w io.Writer, r RunInfo) {
	fmt.Fprintf(w, "Run %s: %s of workspace %s, %s\n\n", oneLine(r.ID), oneLine(r.Operation), oneLine(r.Workspace), oneLine(r.Status))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	started := fmtTime(r.Started)
	switch {
	case r.Status == "running":
		started += " (running for " + fmtDuration(r.Duration) + ")"
	case r.Duration > 0:
		started += " (took " + fmtDuration(r.Duration) + ")"
	}
	fmt.Fprintf(tw, "  Started\t%s\n", started)
	if len(r.Command) > 0 {
		words := make([]string, len(r.Command))
		for i, a := range r.Command {
			words[i] = steps.ShellQuote(a) // one word each, as typed
		}
		fmt.Fprintf(tw, "  Command\t%s\n", oneLine(strings.Join(words, " ")))
	}
	if r.PlanFile != "" {
		fmt.Fprintf(tw, "  Plan file\t%s\n", oneLine(r.PlanFile))
	}
	if r.Recipe != "" {
		fmt.Fprintf(tw, "  Recipe\t%s (%s)\n", oneLine(r.Recipe), oneLine(r.Source))
		fmt.Fprintf(tw, "  Provider\t%s\n", oneLine(r.Provider))
		after := "?"
		if r.Serials[1] != 0 {
			after = fmt.Sprint(r.Serials[1])
		}
		fmt.Fprintf(tw, "  State\tserial %d → %s\n", r.Serials[0], after)
	}
	if r.Holder != "" && (r.Status == "running" || r.Status == "interrupted") {
		fmt.Fprintf(tw, "  Process\t%s\n", oneLine(fmt.Sprint(r.Holder)))
	}
	_ = tw.Flush()
	if r.Error != "" {
		fmt.Fprintf(w, "\nError: %s\n", Printable(r.Error))
	}
	if len(r.Actions) > 0 {
		fmt.Fprintln(w, "\nActions planned:")
		WriteActions(w, nil, r.Actions)
	}
	switch {
	case r.Outcome != nil:
		Summary(w, w, r.Operation, *r.Outcome, nil)
	case r.Status == "running":
		fmt.Fprintf(w, "\nThe %s is still running.\n", oneLine(r.Operation))
	default:
		fmt.Fprintf(w, "\nThe %s was interrupted: its process ended before it finished (killed, or its machine went down). "+
			"State records every step instance that finished; run %s again to resume.\n", oneLine(r.Operation), oneLine(r.Operation))
	}
	if r.LogDir != "" || r.Timeline != "" {
		fmt.Fprintln(w)
	}
	if r.LogDir != "" {
		fmt.Fprintf(w, "Logs:     %s (diffuser logs --run %s STEP)\n", oneLine(r.LogDir), oneLine(r.ID))
	}
	if r.Timeline != "" {
		fmt.Fprintf(w, "Timeline: %s\n", oneLine(r.Timeline))
	}
}

var actionSymbols = map[string]string{"create": "+", "update": "~", "replace": "-/+", "destroy": "-", "start": "~"}

// WriteActions prints actions grouped by host group, in the order of
// groups and then of first appearance, with the plan's symbols and
// counts. It is the plan as kept: addresses and actions, no arguments.
func WriteActions(w io.Writer, groups []string, actions []engine.ActionRecord) {
	if len(actions) == 0 {
		fmt.Fprintln(w, "No changes.")
		return
	}
	order := slices.Clone(groups)
	byGroup := map[string][]engine.ActionRecord{}
	add, change, destroy := 0, 0, 0
	for _, a := range actions {
		if !slices.Contains(order, a.Group) {
			order = append(order, a.Group)
		}
		byGroup[a.Group] = append(byGroup[a.Group], a)
		switch a.Action {
		case "create":
			add++
		case "update", "start":
			change++
		case "replace":
			add++
			destroy++
		case "destroy":
			destroy++
		}
	}
	for _, g := range order {
		as := byGroup[g]
		if len(as) == 0 {
			continue
		}
		if g == "" {
			fmt.Fprintln(w, "\n== (no host group) ==")
		} else {
			fmt.Fprintf(w, "\n== hosts %q ==\n", g)
		}
		for _, a := range as {
			sym, ok := actionSymbols[a.Action]
			suffix := ""
			if !ok || a.Action == "start" {
				suffix = " (" + oneLine(a.Action) + ")"
			}
			fmt.Fprintf(w, "  %-3s %s%s\n", sym, oneLine(a.Address), suffix)
		}
	}
	fmt.Fprintf(w, "\nPlan: %d to add, %d to change, %d to destroy.\n", add, change, destroy)
}

// PlanFileInfo is what the views show of a saved plan.
type PlanFileInfo struct {
	Path      string
	Workspace string
	Recipe    string // the recipe argument it was made with
	Digest    string
	Provider  string
	Vars      []string // sensitive values already hidden
	VarFiles  []string
	Site      string
	Targets   []string
	Replace   []string
	Serial    uint64
	Lineage   string
	Simulated string // "" or how it was simulated
	Note      string // e.g. why variable values are hidden
	Groups    []string
	Actions   []engine.ActionRecord
}

// WritePlanFile prints a saved plan: the inputs it was made with, the
// state it was made against and its actions.
func WritePlanFile(w io.Writer, p PlanFileInfo) {
	fmt.Fprintf(w, "Saved plan %s\n\n", oneLine(p.Path))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  Recipe\t%s (digest %s)\n", oneLine(p.Recipe), oneLine(p.Digest))
	fmt.Fprintf(tw, "  Workspace\t%s\n", oneLine(p.Workspace))
	fmt.Fprintf(tw, "  Provider\t%s\n", oneLine(p.Provider))
	// A value with a space, a quote or a newline is shell-quoted: it
	// cannot pass for two, or for a line of its own.
	list := func(name string, vs []string) {
		if len(vs) > 0 {
			words := make([]string, len(vs))
			for i, v := range vs {
				words[i] = v
				if v == "" || strings.ContainsAny(v, " \t\n\r'\"\\") {
					words[i] = steps.ShellQuote(v)
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\n", name, oneLine(strings.Join(words, " ")))
		}
	}
	list("Variables", p.Vars)
	list("Var files", p.VarFiles)
	if p.Site != "" {
		fmt.Fprintf(tw, "  Site\t%s\n", oneLine(p.Site))
	}
	list("Targets", p.Targets)
	list("Replace", p.Replace)
	if p.Serial == 0 {
		fmt.Fprintf(tw, "  State\tnone yet (made on an empty workspace)\n")
	} else {
		fmt.Fprintf(tw, "  State\tserial %d, lineage %s\n", p.Serial, oneLine(p.Lineage))
	}
	if p.Simulated != "" {
		fmt.Fprintf(tw, "  Simulated\t%s\n", oneLine(p.Simulated))
	}
	_ = tw.Flush()
	if p.Note != "" {
		fmt.Fprintf(w, "\nNote: %s\n", Printable(p.Note))
	}
	WriteActions(w, p.Groups, p.Actions)
	fmt.Fprintf(w, "\ndiffuser apply %s carries out exactly these actions, and refuses the plan if the recipe or state changed since.\n", oneLine(p.Path))
}

// oneLine is s for one line of a listing: Printable, with newline and tab
// as escapes too. Saved plans and run records are files that may come
// from elsewhere (a plan made by CI, reviewed with show before apply): an
// escape or a newline in a variable, a target or an address could hide or
// forge lines of what apply would do.
func oneLine(s string) string { return lineEscaper.Replace(Printable(s)) }

var lineEscaper = strings.NewReplacer("\n", `\n`, "\t", `\t`)

package views

import (
	"diffuser/internal/shell"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"diffuser/engine"
	"diffuser/state"
)

// Summary writes the end of an apply or destroy for a person: failures
// (with exit status, output tail and log) and warnings to errw, the
// counts and the outputs to w. `show RUN` renders a past run with it too.
func Summary(w, errw io.Writer, operation string, o engine.Outcome, outputs map[string]state.Output) {
	wall := o.End.Sub(o.Start).Round(100 * time.Millisecond)
	for _, warn := range o.Warnings {
		fmt.Fprintf(errw, "Warning: %s\n", Printable(warn))
	}
	if len(o.Failures) > 0 {
		fmt.Fprintf(errw, "\n%d step instance(s) failed:\n", len(o.Failures))
		for _, f := range o.Failures {
			fmt.Fprintf(errw, "\n  %s", f.Address)
			if f.Host != "" {
				fmt.Fprintf(errw, " on host %s", f.Host)
			}
			if f.Exit >= 0 {
				fmt.Fprintf(errw, " exited with status %d", f.Exit)
			}
			fmt.Fprintf(errw, "\n    %s\n", strings.ReplaceAll(Printable(f.Message()), "\n", "\n    "))
			if f.Declared != "" {
				fmt.Fprintf(errw, "    step declared at %s\n", f.Declared)
			}
			if f.Tail != "" {
				fmt.Fprintf(errw, "    last output:\n      %s\n", strings.ReplaceAll(strings.TrimRight(Printable(f.Tail), "\n"), "\n", "\n      "))
			}
			if f.Log != "" {
				fmt.Fprintf(errw, "    log: %s%s\n", f.Log, logsHint(f))
			}
		}
		if o.Skipped > 0 {
			fmt.Fprintf(errw, "\n%d dependent step instance(s) were skipped. Fix the cause and run apply again: finished work is not redone.\n", o.Skipped)
		}
	}
	fmt.Fprintf(w, "\n%s finished in %s: %d done, %d failed, %d skipped (step time %s, parallelism %.1f).\n",
		strings.ToUpper(operation[:1])+operation[1:], wall, o.Done, o.Failed, o.Skipped, o.StepTime.Round(100*time.Millisecond),
		float64(o.StepTime)/float64(max(o.End.Sub(o.Start), 1)))
	if len(o.Failures) == 0 && len(outputs) > 0 {
		fmt.Fprintln(w, "\nOutputs:")
		WriteOutputs(w, outputs, "  ", false)
	}
}

// WriteOutputs prints outputs as `name = value`, sorted, sensitive ones
// as (sensitive) unless showSensitive.
func WriteOutputs(w io.Writer, outputs map[string]state.Output, indent string, showSensitive bool) {
	for _, k := range sortedKeys(outputs) {
		o := outputs[k]
		v := o.Value
		if o.Sensitive && !showSensitive {
			v = "(sensitive)"
		}
		fmt.Fprintf(w, "%s%s = %s\n", indent, k, Printable(v))
	}
}

// SummaryJSON writes the summary line of a JSON-lines apply or destroy to
// w; human-readable failure details still go to errw. run and timeline
// name the run's id and its timeline page ("" when there is none).
func SummaryJSON(w, errw io.Writer, operation string, o engine.Outcome, outputs map[string]state.Output, run, timeline string) {
	wall := o.End.Sub(o.Start)
	js := jsonSummary{Type: "summary", Operation: operation, Run: run, WallS: wall.Seconds(), StepS: o.StepTime.Seconds(),
		Parallelism: float64(o.StepTime) / float64(max(wall, 1)), Done: o.Done, Failed: o.Failed, Skipped: o.Skipped,
		Timeline: timeline}
	for _, f := range o.Failures {
		jf := jsonFailure{Address: f.Address, Declared: f.Declared, Host: f.Host, Error: f.Message(), Tail: f.Tail, Log: f.Log}
		if f.Exit >= 0 {
			exit := f.Exit
			jf.Exit = &exit
		}
		js.Failures = append(js.Failures, jf)
	}
	if len(o.Failures) == 0 && len(outputs) > 0 {
		js.Outputs = map[string]string{}
		for k, v := range outputs {
			js.Outputs[k] = v.Value
			if v.Sensitive {
				js.Outputs[k] = "(sensitive)"
			}
		}
	}
	_ = json.NewEncoder(w).Encode(js)
	for _, warn := range o.Warnings {
		fmt.Fprintf(errw, "Warning: %s\n", Printable(warn))
	}
	for _, f := range o.Failures {
		fmt.Fprintf(errw, "%s failed: %s\n", f.Address, firstLineOf(f.Error))
	}
}

// logsHint is how to read a failure's log when it is a run's step log
// (the records of every instance): " (diffuser logs STEP HOST)".
func logsHint(f engine.FailureRecord) string {
	if filepath.Base(f.Log) != "steps.log" || f.Step == "" || f.Host == "" {
		return ""
	}
	return " (diffuser logs " + shellWord(f.Step) + " " + shellWord(f.Host) + ")"
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string { return shell.Quote(s) }

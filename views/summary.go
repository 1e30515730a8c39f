package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"diffuser/engine"
	"diffuser/state"
)

// Summary writes the end of an apply or destroy for a person: failures
// (with exit status, output tail and log) and warnings to errw, the
// counts and the outputs to w.
func Summary(w, errw io.Writer, operation string, res *engine.Result, outputs map[string]state.Output) {
	wall := res.End.Sub(res.Start).Round(100 * time.Millisecond)
	sum := stepTime(res)
	for _, warn := range res.Warnings {
		fmt.Fprintf(errw, "Warning: %s\n", warn)
	}
	if len(res.Failures) > 0 {
		fmt.Fprintf(errw, "\n%d step instance(s) failed:\n", len(res.Failures))
		for _, f := range res.Failures {
			fmt.Fprintf(errw, "\n  %s", f.Addr)
			if f.Host != "" {
				fmt.Fprintf(errw, " on host %s", f.Host)
			}
			if f.Exit >= 0 {
				fmt.Fprintf(errw, " exited with status %d", f.Exit)
			}
			fmt.Fprintf(errw, "\n    %s\n", strings.ReplaceAll(f.Err.Error(), "\n", "\n    "))
			if f.Tail != "" {
				fmt.Fprintf(errw, "    last output:\n      %s\n", strings.ReplaceAll(strings.TrimRight(f.Tail, "\n"), "\n", "\n      "))
			}
			if f.Log != "" {
				fmt.Fprintf(errw, "    log: %s\n", f.Log)
			}
		}
		if res.Skipped > 0 {
			fmt.Fprintf(errw, "\n%d dependent step instance(s) were skipped. Fix the cause and run apply again: finished work is not redone.\n", res.Skipped)
		}
	}
	fmt.Fprintf(w, "\n%s finished in %s: %d done, %d failed, %d skipped (step time %s, parallelism %.1f).\n",
		strings.ToUpper(operation[:1])+operation[1:], wall, res.Ran, len(res.Failures), res.Skipped, sum.Round(100*time.Millisecond),
		float64(sum)/float64(max(res.End.Sub(res.Start), 1)))
	if len(res.Failures) == 0 && len(outputs) > 0 {
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
		fmt.Fprintf(w, "%s%s = %s\n", indent, k, v)
	}
}

func stepTime(res *engine.Result) time.Duration {
	var sum time.Duration
	for _, s := range res.Spans {
		sum += s.End.Sub(s.Start)
	}
	return sum
}

// SummaryJSON writes the summary line of a JSON-lines apply or destroy to
// w; human-readable failure details still go to errw.
func SummaryJSON(w, errw io.Writer, operation string, res *engine.Result, outputs map[string]state.Output, timeline string) {
	sum := stepTime(res)
	wall := res.End.Sub(res.Start)
	js := jsonSummary{Type: "summary", Operation: operation, WallS: wall.Seconds(), StepS: sum.Seconds(),
		Parallelism: float64(sum) / float64(max(wall, 1)), Done: res.Ran, Failed: len(res.Failures), Skipped: res.Skipped,
		Timeline: timeline}
	for _, f := range res.Failures {
		jf := jsonFailure{Address: f.Addr, Host: f.Host, Error: f.Err.Error(), Tail: f.Tail, Log: f.Log}
		if f.Exit >= 0 {
			exit := f.Exit
			jf.Exit = &exit
		}
		js.Failures = append(js.Failures, jf)
	}
	if len(res.Failures) == 0 && len(outputs) > 0 {
		js.Outputs = map[string]string{}
		for k, o := range outputs {
			js.Outputs[k] = o.Value
			if o.Sensitive {
				js.Outputs[k] = "(sensitive)"
			}
		}
	}
	_ = json.NewEncoder(w).Encode(js)
	for _, warn := range res.Warnings {
		fmt.Fprintf(errw, "Warning: %s\n", warn)
	}
	for _, f := range res.Failures {
		fmt.Fprintf(errw, "%s failed: %s\n", f.Addr, firstLineOf(f.Err.Error()))
	}
}

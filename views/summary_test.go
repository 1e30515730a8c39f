package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"diffuser/engine"
)

// TestSummaryFailureDeclared: a failure's summary says where its step is
// written, in text and in the JSON summary line; one without (a launch)
// prints no such line.
func TestSummaryFailureDeclared(t *testing.T) {
	start := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	o := engine.Outcome{Start: start, End: start.Add(time.Second), Failed: 2, Failures: []engine.FailureRecord{
		{Address: `module.data.step.format["a[0]"]`, Step: "module.data.step.format", Host: "a[0]", Exit: 5, Error: "mkfs.xfs exited with status 5",
			Declared: "builtin/xfs-volume/main.hcl:40 (In module.data, called at r/main.hcl:11.)"},
		{Address: `launch["a[1]"]`, Host: "a[1]", Exit: -1, Error: "no capacity"},
	}}
	var out, errw bytes.Buffer
	Summary(&out, &errw, "apply", o, nil)
	text := errw.String()
	if !strings.Contains(text, "mkfs.xfs exited with status 5\n    step declared at builtin/xfs-volume/main.hcl:40 (In module.data, called at r/main.hcl:11.)\n") {
		t.Errorf("text summary:\n%s", text)
	}
	if strings.Count(text, "step declared at") != 1 {
		t.Errorf("a launch failure says where a step is declared:\n%s", text)
	}
	out.Reset()
	SummaryJSON(&out, &errw, "apply", o, nil, "run", "")
	var line struct {
		Failures []struct {
			Address  string `json:"address"`
			Declared string `json:"declared"`
		} `json:"failures"`
	}
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if len(line.Failures) != 2 || line.Failures[0].Declared != o.Failures[0].Declared || line.Failures[1].Declared != "" {
		t.Errorf("JSON failures: %+v", line.Failures)
	}
}

// TestSummaryJSONErrorWithoutTail: a failure's output tail is in
// output_tail once; error is the message without it, as the text summary
// prints it.
func TestSummaryJSONErrorWithoutTail(t *testing.T) {
	start := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tail := "E: Unable to locate package glusterfs-srv\n"
	o := engine.Outcome{Start: start, End: start.Add(time.Second), Failed: 1, Failures: []engine.FailureRecord{
		{Address: `step.packages["server[0]"]`, Host: "server[0]", Exit: 100, Error: "command exited with status 100:\n" + tail, Tail: tail},
	}}
	var out, errw bytes.Buffer
	SummaryJSON(&out, &errw, "apply", o, nil, "run", "")
	var line struct {
		Failures []struct {
			Error string `json:"error"`
			Tail  string `json:"output_tail"`
		} `json:"failures"`
	}
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if len(line.Failures) != 1 {
		t.Fatalf("failures: %+v", line.Failures)
	}
	f := line.Failures[0]
	if f.Error != "command exited with status 100" || f.Tail != tail {
		t.Errorf("error %q, output_tail %q: want the message without the tail, and the tail", f.Error, f.Tail)
	}
}

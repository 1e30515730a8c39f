package steptest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"diffuser/steps"

	"github.com/zclconf/go-cty/cty"
)

// RunCases runs every testdata/<kind>/<case>.json file of the package under
// test as a subtest: facts in, commands out (steps/testdata/README.md says
// what a case holds). Each case's kind is looked up in kinds, called with a
// fresh fake Clock per case; the directory's name is the kind unless the
// case names one. With update, RunCases rewrites the expectations from what
// the kinds do now. It returns how many cases each kind directory holds, so
// that a package can require cases for every kind it owns.
func RunCases(t *testing.T, kinds func(steps.Clock) steps.Registry, update bool) map[string]int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no cases in testdata/*/*.json")
	}
	seen := map[string]int{}
	for _, file := range files {
		kindDir := filepath.Base(filepath.Dir(file))
		seen[kindDir]++
		t.Run(kindDir+"/"+strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			runCase(t, file, kindDir, kinds, update)
		})
	}
	return seen
}

// kindCase is one testdata/<kind>/<name>.json file: facts in, commands out.
type kindCase struct {
	// Doc says what the case shows.
	Doc string `json:"doc,omitempty"`
	// Kind defaults to the directory's name.
	Kind string `json:"kind,omitempty"`
	// Args is the kind's block in HCL's JSON syntax, decoded with its Spec
	// (DecodeArgs); with RawArgs it is converted without hcldec,
	// as the loader's shorthands do (RawArgs).
	Args    json.RawMessage `json:"args"`
	RawArgs bool            `json:"raw_args,omitempty"`
	// DecodeError, when set, is a substring of the expected decoding error;
	// nothing else runs.
	DecodeError string `json:"decode_error,omitempty"`
	Facts       []Fact `json:"facts,omitempty"`
	// UploadError makes every upload fail with this text.
	UploadError string `json:"upload_error,omitempty"`
	// Check, Apply and Destroy each run on a fresh fake host with the same facts.
	Check   *checkWant `json:"check,omitempty"`
	Apply   *phaseWant `json:"apply,omitempty"`
	Destroy *phaseWant `json:"destroy,omitempty"`
}

type checkWant struct {
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
	// Error is a substring of the expected error.
	Error    string   `json:"error,omitempty"`
	Commands []string `json:"commands"`
}

type phaseWant struct {
	Commands []string          `json:"commands"`
	Uploads  []uploadWant      `json:"uploads,omitempty"`
	Outputs  map[string]string `json:"outputs,omitempty"`
	// Slept is the fake clock's total sleep, for kinds that poll.
	Slept string `json:"slept,omitempty"`
	// Error is a substring of the expected error.
	Error string `json:"error,omitempty"`
}

type uploadWant struct {
	Path    string `json:"path"`
	Mode    string `json:"mode"`
	Content string `json:"content"`
}

func runCase(t *testing.T, file, kindDir string, kinds func(steps.Clock) steps.Registry, update bool) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var c kindCase
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	name := c.Kind
	if name == "" {
		name = kindDir
	}
	clock := NewClock()
	kind, ok := kinds(clock).Lookup(name)
	if !ok {
		t.Fatalf("no kind %q", name)
	}
	var args cty.Value
	if c.RawArgs {
		args, err = RawArgs(kind.Schema().Spec(), c.Args)
	} else {
		args, err = DecodeArgs(kind.Schema().Spec(), c.Args)
	}
	if c.DecodeError != "" || err != nil {
		if err == nil || c.DecodeError == "" || !strings.Contains(err.Error(), c.DecodeError) {
			t.Fatalf("decoding args: got error %v, want one containing %q", err, c.DecodeError)
		}
		return
	}
	if c.Check == nil && c.Apply == nil && c.Destroy == nil {
		t.Fatal("case has none of check, apply, destroy")
	}
	ctx := context.Background()
	changed := false
	fake := func() *Runner {
		r := New(c.Facts...)
		if c.UploadError != "" {
			r.UploadErr = errors.New(c.UploadError)
		}
		return r
	}

	if c.Check != nil {
		r := fake()
		got, err := kind.Check(ctx, r, args)
		gotW := checkWant{OK: got.OK, Reason: got.Reason, Error: errorText(c.Check.Error, err), Commands: rendered(r)}
		if !equalJSON(gotW, *c.Check) {
			if update {
				*c.Check, changed = gotW, true
			} else {
				t.Errorf("check:\n got %s\nwant %s", show(gotW), show(*c.Check))
			}
		}
	}
	if c.Apply != nil {
		r := fake()
		start := clock.Slept()
		out, err := kind.Apply(ctx, r, args)
		gotW := phaseResult(r, err, c.Apply.Error, clock.Slept()-start)
		gotW.Outputs = out
		if !equalJSON(gotW, *c.Apply) {
			if update {
				*c.Apply, changed = gotW, true
			} else {
				t.Errorf("apply:\n got %s\nwant %s", show(gotW), show(*c.Apply))
			}
		}
	}
	if c.Destroy != nil {
		d, ok := kind.(steps.Destroyer)
		if !ok {
			t.Fatalf("kind %s is no Destroyer", name)
		}
		r := fake()
		start := clock.Slept()
		err := d.Destroy(ctx, r, args)
		gotW := phaseResult(r, err, c.Destroy.Error, clock.Slept()-start)
		if !equalJSON(gotW, *c.Destroy) {
			if update {
				*c.Destroy, changed = gotW, true
			} else {
				t.Errorf("destroy:\n got %s\nwant %s", show(gotW), show(*c.Destroy))
			}
		}
	}
	if changed {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", file)
	}
}

// phaseResult is what an Apply or Destroy did.
func phaseResult(r *Runner, err error, wantErr string, slept time.Duration) phaseWant {
	p := phaseWant{Error: errorText(wantErr, err), Commands: rendered(r)}
	for _, u := range r.Uploads() {
		p.Uploads = append(p.Uploads, uploadWant{Path: u.Path, Mode: fmt.Sprintf("%04o", u.Mode), Content: u.Content})
	}
	if slept > 0 {
		p.Slept = slept.String()
	}
	return p
}

// errorText is what to compare with an expected error substring: want
// itself when err contains it, so that a substring expectation holds.
func errorText(want string, err error) string {
	switch {
	case err == nil:
		return ""
	case want != "" && strings.Contains(err.Error(), want):
		return want
	}
	return err.Error()
}

// rendered lists the fake's commands, with their environment in front.
func rendered(r *Runner) []string {
	out := []string{}
	for _, c := range r.Calls() {
		if len(c.Env) == 0 {
			out = append(out, c.Cmd)
			continue
		}
		keys := make([]string, 0, len(c.Env))
		for k := range c.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var env []string
		for _, k := range keys {
			env = append(env, k+"="+c.Env[k])
		}
		out = append(out, "[env "+strings.Join(env, " ")+"] "+c.Cmd)
	}
	return out
}

func equalJSON(a, b any) bool { return show(a) == show(b) }

func show(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(err)
	}
	return string(b)
}

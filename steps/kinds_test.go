package steps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"diffuser/runner"
	"diffuser/steps"
	"diffuser/steps/steptest"
)

var update = flag.Bool("update", false, "rewrite the expectations in testdata/<kind>/*.json")

// kindCase is one testdata/<kind>/<name>.json file: facts in, commands out.
type kindCase struct {
	// Doc says what the case shows.
	Doc string `json:"doc,omitempty"`
	// Kind defaults to the directory's name.
	Kind string `json:"kind,omitempty"`
	// Args is the kind's block in HCL's JSON syntax, decoded with its Spec
	// (steptest.DecodeArgs); with RawArgs it is converted without hcldec,
	// as the loader's shorthands do (steptest.RawArgs).
	Args    json.RawMessage `json:"args"`
	RawArgs bool            `json:"raw_args,omitempty"`
	// DecodeError, when set, is a substring of the expected decoding error;
	// nothing else runs.
	DecodeError string          `json:"decode_error,omitempty"`
	Facts       []steptest.Fact `json:"facts,omitempty"`
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

func TestKinds(t *testing.T) {
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
			runCase(t, file, kindDir)
		})
	}
	for _, name := range steps.Default().Names() {
		if seen[name] == 0 {
			t.Errorf("kind %s has no cases in testdata/%s", name, name)
		}
	}
}

func runCase(t *testing.T, file, kindDir string) {
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
	clock := steptest.NewClock()
	kind, ok := steps.WithClock(clock).Lookup(name)
	if !ok {
		t.Fatalf("no kind %q", name)
	}
	var args cty.Value
	if c.RawArgs {
		args, err = steptest.RawArgs(kind.Spec(), c.Args)
	} else {
		args, err = steptest.DecodeArgs(kind.Spec(), c.Args)
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
	fake := func() *steptest.Runner {
		r := steptest.New(c.Facts...)
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
			if *update {
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
			if *update {
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
			if *update {
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
func phaseResult(r *steptest.Runner, err error, wantErr string, slept time.Duration) phaseWant {
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
func rendered(r *steptest.Runner) []string {
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

// TestExitErrorCarriesStatusAndTail checks what the engine's diagnostics read.
func TestExitErrorCarriesStatusAndTail(t *testing.T) {
	var lines []string
	for i := 1; i <= 30; i++ {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	r := steptest.New(steptest.Fact{Match: "make", Exit: 2, Stdout: strings.Join(lines, "\n") + "\n", Stderr: "make: *** failed\n"})
	args := cty.ObjectVal(map[string]cty.Value{"command": cty.StringVal("make all")})
	_, err := steps.RunKind{}.Apply(context.Background(), r, args)
	var ee *runner.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("got %v, want an *ExitError", err)
	}
	if ee.Status != 2 || ee.Cmd != "make all" {
		t.Errorf("status %d cmd %q, want 2 and %q", ee.Status, ee.Cmd, "make all")
	}
	tail := strings.Split(ee.Tail, "\n")
	if len(tail) != 20 || tail[0] != "line 12" || tail[19] != "make: *** failed" {
		t.Errorf("tail is %d lines from %q to %q, want 20 from \"line 12\" to the stderr line", len(tail), tail[0], tail[len(tail)-1])
	}
	if strings.Contains(err.Error(), "make all") {
		t.Errorf("error %q repeats the command, which may be sensitive", err)
	}
}

// TestRegistry checks that Default lists every kind under its own name with
// a Spec, and the optional abilities the engine looks for.
func TestRegistry(t *testing.T) {
	reg := steps.Default()
	want := []string{"distribute", "file", "format", "mount", "package", "run", "service", "wait"}
	if got := reg.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, n := range want {
		k, _ := reg.Lookup(n)
		if k.Name() != n || k.Spec() == nil || reg.Specs()[n] == nil {
			t.Errorf("kind %s: Name() %q, Spec %v", n, k.Name(), k.Spec())
		}
	}
	if _, ok := reg.Lookup("launch"); ok {
		t.Error("Lookup(launch) found a kind: launches belong to cloud")
	}
	locks := map[string]string{}
	for _, n := range want {
		k, _ := reg.Lookup(n)
		if l, ok := k.(steps.HostLocker); ok {
			locks[n] = l.HostLock()
		}
		if _, ok := k.(steps.Destroyer); ok != (n == "mount") {
			t.Errorf("kind %s: Destroyer = %v", n, ok)
		}
	}
	if !maps.Equal(locks, map[string]string{"package": "pkg", "mount": "fstab"}) {
		t.Errorf("host locks = %v", locks)
	}
}

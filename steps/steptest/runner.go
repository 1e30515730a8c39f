package steptest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"diffuser/runner"
)

// Fact is one scripted answer of the fake host.
type Fact struct {
	// Match selects commands: a prefix of the command, or with a "re:"
	// prefix a regular expression (Go syntax, unanchored) it must match.
	Match  string `json:"match"`
	Exit   int    `json:"exit,omitempty"`
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
	// Times is how many commands this fact answers before it is used up
	// and later facts get their turn (scripting "fails twice, then works");
	// 0 is unlimited.
	Times int `json:"times,omitempty"`
	// Err, when set, makes Run return a transport error with this text.
	Err string `json:"err,omitempty"`
}

// Call is one recorded command.
type Call struct {
	Cmd     string
	Env     map[string]string
	Timeout time.Duration
}

// Upload is one recorded upload.
type Upload struct {
	Path    string
	Mode    os.FileMode
	Content string
}

// Runner is a fake runner.Runner. Facts are tried in order; the first that
// matches and is not used up answers. A command no fact matches succeeds
// with no output (as mutations do), or, when Strict is set, fails with a
// transport error; either way it is listed by Unmatched. Runner is safe for
// concurrent use; the zero value has no facts.
type Runner struct {
	// Strict makes unmatched commands return an error.
	Strict bool
	// UploadErr, when set, is returned by every Upload (which is still recorded).
	UploadErr error

	mu        sync.Mutex
	facts     []Fact
	used      []int
	calls     []Call
	uploads   []Upload
	unmatched []string
}

var _ runner.Runner = (*Runner)(nil)

// New returns a Runner answering from facts.
func New(facts ...Fact) *Runner {
	return &Runner{facts: facts, used: make([]int, len(facts))}
}

// Run records cmd and answers it from the facts. It also copies the
// answer's stdout and stderr to opt.Output when set.
func (r *Runner) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	if err := ctx.Err(); err != nil {
		return runner.Result{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, Call{Cmd: cmd, Env: maps.Clone(opt.Env), Timeout: opt.Timeout})
	for i, f := range r.facts {
		if f.Times > 0 && r.used[i] >= f.Times {
			continue
		}
		ok, err := matches(f.Match, cmd)
		if err != nil {
			return runner.Result{}, err
		}
		if !ok {
			continue
		}
		r.used[i]++
		if f.Err != "" {
			return runner.Result{}, errors.New(f.Err)
		}
		if opt.Output != nil {
			_, _ = io.WriteString(opt.Output, f.Stdout+f.Stderr)
		}
		return runner.Result{Exit: f.Exit, Stdout: f.Stdout, Stderr: f.Stderr}, nil
	}
	r.unmatched = append(r.unmatched, cmd)
	if r.Strict {
		return runner.Result{}, fmt.Errorf("steptest: no fact matches %q", cmd)
	}
	return runner.Result{}, nil
}

// matches reports whether the fact pattern m selects cmd.
func matches(m, cmd string) (bool, error) {
	if re, ok := strings.CutPrefix(m, "re:"); ok {
		rx, err := regexp.Compile(re)
		if err != nil {
			return false, fmt.Errorf("steptest: fact %q: %w", m, err)
		}
		return rx.MatchString(cmd), nil
	}
	return strings.HasPrefix(cmd, m), nil
}

// Upload records the upload and returns UploadErr.
func (r *Runner) Upload(ctx context.Context, rd io.Reader, path string, mode os.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return fmt.Errorf("steptest: reading upload for %s: %w", path, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.uploads = append(r.uploads, Upload{Path: path, Mode: mode, Content: string(b)})
	return r.UploadErr
}

// Calls returns the commands run so far, in order.
func (r *Runner) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Commands returns the command lines run so far, in order.
func (r *Runner) Commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.calls))
	for i, c := range r.calls {
		out[i] = c.Cmd
	}
	return out
}

// Uploads returns the uploads so far, in order.
func (r *Runner) Uploads() []Upload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Upload(nil), r.uploads...)
}

// Unmatched returns the commands no fact answered.
func (r *Runner) Unmatched() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.unmatched...)
}

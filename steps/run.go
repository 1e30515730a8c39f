package steps

import (
	"context"
	"fmt"
	"strings"

	"diffuser/internal/text"
	"diffuser/runner"

	"github.com/zclconf/go-cty/cty"
)

// RunKind runs a shell command (the `run` kind and the `run = "..."` shorthand).
//
// A run step is not declarative: with neither `creates` nor `unless` its
// Check is never OK. That is harmless because the engine calls Check only on
// refresh; a run step whose input digest is unchanged is not re-run at all.
// Apply evaluates the guards again before running (as Ansible's creates does),
// so a changed command whose guard already holds is not run twice: only its
// captures run. Env applies to the guard, the command and the captures.
type RunKind struct{}

var _ Kind = RunKind{}

// runArgs are RunKind's decoded arguments.
type runArgs struct {
	command string
	creates string
	unless  string
	env     map[string]string
	capture map[string]string
}

// Name returns "run".
func (RunKind) Name() string { return "run" }

// runSchema: command (required, not empty), creates (an absolute path),
// unless, env (map(string) keyed by environment variable names), and a
// capture block whose attributes map an output key to a command whose
// trimmed stdout becomes that output (map(string) in the decoded object).
var runSchema = &Schema{Kind: "run", Args: []Arg{
	{Name: "command", Type: cty.String, Required: true, Check: NotEmpty("a shell command"),
		Doc: "the shell command"},
	{Name: "creates", Type: cty.String, Check: AbsPath("an absolute path (it is tested on the host)"),
		Doc: "skip the command when this path exists"},
	{Name: "unless", Type: cty.String, Doc: "skip the command when this command exits 0"},
	{Name: "env", Type: cty.Map(cty.String), Check: Keys(StringRule("an environment variable name (letters, digits and _, not starting with a digit)", validEnvName)),
		Doc: "environment of the command, guards and captures"},
	// capture is a block, as in recipes: capture { key = "cat /etc/ceph/key" }.
	{Name: "capture", Type: cty.String, Block: true, Doc: "outputs: the trimmed stdout of each command"},
}}

// Schema returns the run kind's arguments.
func (RunKind) Schema() *Schema { return runSchema }

func parseRunArgs(args cty.Value) (runArgs, error) {
	var a runArgs
	if err := runSchema.Validate(args).Err(); err != nil {
		return a, err
	}
	var err error
	if a.command, err = ReqString(args, "command"); err != nil {
		return a, err
	}
	if a.creates, err = OptString(args, "creates", ""); err != nil {
		return a, err
	}
	if a.unless, err = OptString(args, "unless", ""); err != nil {
		return a, err
	}
	if a.env, err = stringMap(args, "env"); err != nil {
		return a, err
	}
	if a.capture, err = stringMap(args, "capture"); err != nil {
		return a, err
	}
	return a, nil
}

// validEnvName reports whether s is a POSIX environment variable name.
func validEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Check is OK when `creates` exists or `unless` exits 0.
func (RunKind) Check(ctx context.Context, r runner.Runner, args cty.Value) (Check, error) {
	a, err := parseRunArgs(args)
	if err != nil {
		return Check{}, err
	}
	return a.guard(ctx, r)
}

// guard evaluates creates, then unless.
func (a runArgs) guard(ctx context.Context, r runner.Runner) (Check, error) {
	if a.creates == "" && a.unless == "" {
		return Check{Reason: "no creates or unless guard: will run"}, nil
	}
	var reasons []string
	if a.creates != "" {
		res, err := runWith(ctx, r, "checking creates", "test -e "+ShellQuote(a.creates), runner.Options{Env: a.env})
		if err != nil {
			return Check{}, err
		}
		if res.Exit == 0 {
			return Check{OK: true}, nil
		}
		reasons = append(reasons, a.creates+" does not exist")
	}
	if a.unless != "" {
		res, err := runWith(ctx, r, "running unless", a.unless, runner.Options{Env: a.env})
		if err != nil {
			return Check{}, err
		}
		if res.Exit == 0 {
			return Check{OK: true}, nil
		}
		reasons = append(reasons, fmt.Sprintf("unless exited with status %d", res.Exit))
	}
	return Check{Reason: strings.Join(reasons, "; ") + ": will run"}, nil
}

var (
	_ Checker  = RunKind{}
	_ Capturer = RunKind{}
)

// Checkable is nil when the step has a creates or unless guard: only then
// can Check tell that its command has run.
func (RunKind) Checkable(args cty.Value) error {
	a, err := parseRunArgs(args)
	if err != nil {
		return err
	}
	if a.creates == "" && a.unless == "" {
		return fmt.Errorf("a run step without creates or unless cannot be checked on the host: add a guard that holds once the command has run (creates = \"/path/it/makes\" or unless = \"command that succeeds then\")")
	}
	return nil
}

var _ Rerunner = RunKind{}

// Reruns marks the run kind as a Rerunner: restart_on runs the command
// again.
func (RunKind) Reruns() {}

// RestartArgs are the arguments that run the command once more when a step
// named in restart_on changed: the declared ones without creates and
// unless (a guard would skip the command the change calls for). A run
// step has nothing to reload (ok false).
func (RunKind) RestartArgs(args cty.Value, reload bool) (cty.Value, bool) {
	if reload || args.IsNull() || !args.IsKnown() || !args.Type().IsObjectType() {
		return args, false
	}
	m := args.AsValueMap()
	for _, guard := range []string{"creates", "unless"} {
		if v, ok := m[guard]; ok {
			m[guard] = cty.NullVal(v.Type())
		}
	}
	return cty.ObjectVal(m), true
}

// Apply runs the command unless a guard holds, then every capture (in key
// order), whose trimmed stdout become the outputs.
func (RunKind) Apply(ctx context.Context, r runner.Runner, args cty.Value) (Outputs, error) {
	a, err := parseRunArgs(args)
	if err != nil {
		return nil, err
	}
	if err := a.guardThenRun(ctx, r); err != nil {
		return nil, err
	}
	return a.captures(ctx, r)
}

// guardThenRun runs the command unless a guard holds, as guard then
// MustRunWith would, but the last guard and the command go in one round
// trip (runner.RunThen): `creates` alone as `test -e` then the command,
// `unless` (after `creates`, when both) then the command. The log shows
// the guard and the command as two commands, as before.
func (a runArgs) guardThenRun(ctx context.Context, r runner.Runner) error {
	opt := runner.Options{Env: a.env}
	cmd := runner.Command{Cmd: a.command, Opt: opt}
	if a.creates == "" && a.unless == "" {
		_, err := MustRunWith(ctx, r, "command", a.command, opt)
		return err
	}
	what, guard := "checking creates", "test -e "+ShellQuote(a.creates)
	if a.unless != "" {
		if a.creates != "" {
			res, err := runWith(ctx, r, what, guard, opt)
			if err != nil || res.Exit == 0 {
				return err
			}
		}
		what, guard = "running unless", a.unless
	}
	_, res2, err := runner.RunThen(ctx, r, runner.Command{Cmd: guard, Opt: opt}, runner.IfFailed, cmd)
	switch {
	case err != nil && res2 == nil:
		return fmt.Errorf("%s: %w", what, err)
	case err != nil:
		return fmt.Errorf("command: %w", err)
	case res2 != nil && res2.Exit != 0:
		return ExitError("command", a.command, *res2)
	}
	return nil
}

// Capture runs the captures only (in key order): the outputs of a command
// found already run.
func (RunKind) Capture(ctx context.Context, r runner.Runner, args cty.Value) (Outputs, error) {
	a, err := parseRunArgs(args)
	if err != nil {
		return nil, err
	}
	return a.captures(ctx, r)
}

func (a runArgs) captures(ctx context.Context, r runner.Runner) (Outputs, error) {
	if len(a.capture) == 0 {
		return nil, nil
	}
	out := Outputs{}
	for _, k := range sortedKeys(a.capture) {
		res, err := MustRunWith(ctx, r, fmt.Sprintf("capture %q", k), a.capture[k], runner.Options{Env: a.env})
		if err != nil {
			return nil, err
		}
		v := strings.TrimSpace(res.Stdout)
		if err := CheckCapture(v); err != nil {
			return nil, fmt.Errorf("capture %q: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// MaxCaptureBytes bounds one capture. It is below what a runner keeps of a
// command's stdout (remote keeps the last MiB), so a capture a runner cut
// short is refused, never recorded as the tail of what the host printed.
const MaxCaptureBytes = 256 << 10

// CheckCapture refuses what a host printed for a capture unless it can
// become a value unchanged: UTF-8 text without NUL, at most
// MaxCaptureBytes. State is JSON (an invalid byte would be recorded as
// U+FFFD, so the next plan would see the step's input changed for good)
// and a capture ends up in other hosts' commands, where a NUL ends the
// text. The error never quotes the value: a capture may be a secret.
func CheckCapture(v string) error {
	const how = "; print it encoded (for example `| base64 -w0`) and decode it on the host where it is used (base64 -d), or capture a digest"
	if len(v) > MaxCaptureBytes {
		return fmt.Errorf("the host printed %d bytes or more, past the limit of %d for a capture (state and other steps' commands hold it)%s; for a file, use a file or distribute step instead",
			len(v), MaxCaptureBytes, how)
	}
	if why := text.Problem(v); why != "" {
		return fmt.Errorf("what the host printed %s, which state cannot record unchanged%s", why, how)
	}
	return nil
}

package steps

import (
	"context"
	"fmt"
	"strings"
	"time"

	"diffuser/runner"

	"github.com/zclconf/go-cty/cty"
)

// ServiceKind drives a systemd unit. state "restarted" and "reloaded" are
// actions, not states: their Check is never OK, and like a run step they run
// again only when the step's input digest changes (or a `after` step forces
// it). After starting, restarting or reloading, Apply confirms that the unit
// is active, waits Settle and confirms again, because a daemon that exits
// a moment after `systemctl start` returned is the usual silent failure; when
// it is not active the error carries the tail of its journal. A unit
// masked by someone else (systemctl mask) is drift for every state but
// stopped, and Apply fails naming it instead of starting, restarting or
// reloading it: diffuser never unmasks (as Ansible's systemd module, it
// leaves a mask to whoever set it).
type ServiceKind struct {
	// Clock paces the settle wait; nil is the real clock.
	Clock Clock
	// Settle is how long after a start the unit must still be active; 0
	// checks once, right away.
	Settle time.Duration
}

var (
	_ Kind     = ServiceKind{}
	_ Replacer = ServiceKind{}
)

// journalLines is how much of the unit's journal a failed start shows.
const journalLines = 30

type serviceArgs struct {
	name         string
	state        string
	enabled      bool
	enabledSet   bool
	daemonReload bool
}

// Name returns "service".
func (ServiceKind) Name() string { return "service" }

// serviceSchema: name (required, a systemd unit), state (started, stopped,
// restarted or reloaded; default "started"), enabled (bool; null leaves
// boot-time enablement alone), daemon_reload (bool, default false: run
// `systemctl daemon-reload` first when systemd says the unit file changed).
var serviceSchema = &Schema{Kind: "service", Args: []Arg{
	{Name: "name", Type: cty.String, Required: true, Check: Word(`a systemd unit name such as "glusterd" or "ceph-mon@a.service" (no spaces or "/", not starting with "-")`, "/"),
		Doc: "the systemd unit"},
	{Name: "state", Default: cty.StringVal("started"), Check: OneOf("started", "stopped", "restarted", "reloaded"),
		Doc: "the last two are actions: they run when the inputs change"},
	{Name: "enabled", Type: cty.Bool, Doc: "enable or disable at boot; unset leaves it alone"},
	{Name: "daemon_reload", Default: cty.False, Doc: "`systemctl daemon-reload` first when the unit file changed"},
}}

// Schema returns the service kind's arguments.
func (ServiceKind) Schema() *Schema { return serviceSchema }

func parseServiceArgs(args cty.Value) (serviceArgs, error) {
	var a serviceArgs
	if err := serviceSchema.Validate(args).Err(); err != nil {
		return a, err
	}
	var err error
	if a.name, err = ReqString(args, "name"); err != nil {
		return a, err
	}
	if a.state, err = OptString(args, "state", "started"); err != nil {
		return a, err
	}
	if a.enabled, a.enabledSet, err = optBool(args, "enabled"); err != nil {
		return a, err
	}
	if a.daemonReload, err = boolOr(args, "daemon_reload", false); err != nil {
		return a, err
	}
	return a, nil
}

// serviceFacts is what systemd says about the unit.
type serviceFacts struct {
	active      string // is-active: active, inactive, failed, activating, ...
	enabled     string // is-enabled: enabled, disabled, static, masked, ... ("" when not asked)
	needsReload bool   // NeedDaemonReload=yes
}

func (f serviceFacts) isActive() bool { return f.active == "active" || f.active == "reloading" }

// isStopped reports whether the unit is down and stays down: "activating"
// (which includes a pending auto-restart) and "deactivating" are not.
func (f serviceFacts) isStopped() bool { return f.active == "inactive" || f.active == "failed" }

// maskedAgainst reports whether the unit is masked (systemctl mask), so
// that systemd refuses to start it, while a wants it anything but stopped.
func (f serviceFacts) maskedAgainst(a serviceArgs) bool {
	return (f.enabled == "masked" || f.enabled == "masked-runtime") && a.state != "stopped"
}

// isEnabled reports whether the unit starts at boot.
func (f serviceFacts) isEnabled() bool {
	return f.enabled == "enabled" || f.enabled == "enabled-runtime"
}

// canEnable reports whether enabling is meaningful: static, indirect,
// generated and transient units have no [Install] section to act on.
func (f serviceFacts) canEnable() bool {
	switch f.enabled {
	case "static", "indirect", "generated", "transient", "alias":
		return false
	}
	return true
}

func (a serviceArgs) read(ctx context.Context, r runner.Runner) (serviceFacts, error) {
	var f serviceFacts
	q := ShellQuote(a.name)
	// is-active prints the state and exits non-zero unless active: any exit is an answer.
	res, err := Probe(ctx, r, "reading the state of "+a.name, "systemctl is-active -- "+q)
	if err != nil {
		return f, err
	}
	f.active = strings.TrimSpace(res.Stdout)
	if a.enabledSet || a.state != "stopped" {
		res, err := Probe(ctx, r, "reading whether "+a.name+" is enabled", "systemctl is-enabled -- "+q)
		if err != nil {
			return f, err
		}
		f.enabled = strings.TrimSpace(res.Stdout)
	}
	if a.daemonReload {
		res, err := Probe(ctx, r, "reading whether systemd must reload", "systemctl show -p NeedDaemonReload --value -- "+q)
		if err != nil {
			return f, err
		}
		f.needsReload = strings.TrimSpace(res.Stdout) == "yes"
	}
	return f, nil
}

// diff lists what differs; actions (restarted, reloaded) always differ.
func (a serviceArgs) diff(f serviceFacts) []string {
	var d []string
	if a.daemonReload && f.needsReload {
		d = append(d, "unit file changed on disk")
	}
	if f.maskedAgainst(a) {
		// A masked unit may still run (masked while active), but it will
		// not start again: never OK, whatever is-active says.
		d = append(d, fmt.Sprintf("%s is %s", a.name, f.enabled))
	}
	switch a.state {
	case "started":
		if !f.isActive() {
			d = append(d, fmt.Sprintf("%s is %s", a.name, orUnknown(f.active)))
		}
	case "stopped":
		if !f.isStopped() {
			d = append(d, fmt.Sprintf("%s is %s", a.name, orUnknown(f.active)))
		}
	case "restarted":
		d = append(d, a.name+" will be restarted")
	case "reloaded":
		d = append(d, a.name+" will be reloaded")
	}
	if a.enabledSet && f.canEnable() && f.isEnabled() != a.enabled {
		d = append(d, fmt.Sprintf("%s is %s at boot", a.name, orUnknown(f.enabled)))
	}
	return d
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Check is OK when the unit is in the declared state and enablement.
func (ServiceKind) Check(ctx context.Context, r runner.Runner, args cty.Value) (Check, error) {
	a, err := parseServiceArgs(args)
	if err != nil {
		return Check{}, err
	}
	f, err := a.read(ctx, r)
	if err != nil {
		return Check{}, err
	}
	if d := a.diff(f); len(d) > 0 {
		return Check{Reason: strings.Join(d, "; ")}, nil
	}
	return Check{OK: true}, nil
}

// Apply reloads systemd when needed, changes the unit's state, confirms it
// is active, then enables or disables it.
func (k ServiceKind) Apply(ctx context.Context, r runner.Runner, args cty.Value) (Outputs, error) {
	a, err := parseServiceArgs(args)
	if err != nil {
		return nil, err
	}
	f, err := a.read(ctx, r)
	if err != nil {
		return nil, err
	}
	if f.maskedAgainst(a) {
		return nil, fmt.Errorf("%s is %s (systemctl mask: another tool or an administrator means it never to start), so it cannot be %s; diffuser does not unmask a unit: run 'systemctl unmask %s' on the host if it should run, then apply again", a.name, f.enabled, a.state, a.name)
	}
	q := ShellQuote(a.name)
	if a.daemonReload && f.needsReload {
		if _, err := MustRun(ctx, r, "systemctl daemon-reload", "systemctl daemon-reload"); err != nil {
			return nil, err
		}
	}
	var verb string
	switch {
	case a.state == "started" && !f.isActive():
		verb = "start"
	case a.state == "stopped" && !f.isStopped():
		verb = "stop"
	case a.state == "restarted":
		verb = "restart"
	case a.state == "reloaded" && f.isActive():
		verb = "reload"
	case a.state == "reloaded":
		verb = "start" // reloading a stopped unit fails; starting reads the new config anyway
	}
	if verb != "" && verb != "stop" && f.active == "failed" {
		// A unit that failed (often: restarted too quickly) keeps its
		// start-rate counter: clear it, or the retry after fixing the
		// cause is refused with "start request repeated too quickly".
		if _, err := MustRun(ctx, r, "systemctl reset-failed", "systemctl reset-failed -- "+q); err != nil {
			return nil, err
		}
	}
	if verb != "" {
		cmd := "systemctl " + verb + " -- " + q
		// Unless stopping, the first check that the unit is active goes
		// with the command, run only when it succeeded: one round trip.
		var res runner.Result
		var active *runner.Result
		var err error
		if verb == "stop" {
			res, err = runWith(ctx, r, "systemctl "+verb, cmd, runner.Options{})
		} else {
			res, active, err = runner.RunThen(ctx, r, runner.Command{Cmd: cmd}, runner.IfSucceeded,
				runner.Command{Cmd: isActiveCmd(a.name)})
			switch {
			case err != nil && active == nil:
				err = fmt.Errorf("systemctl %s: %w", verb, err)
			case err != nil:
				err = fmt.Errorf("confirming %s is active: %w", a.name, err)
			}
		}
		if err != nil {
			return nil, err
		}
		if res.Exit != 0 {
			return nil, k.failed(ctx, r, a.name, ExitError("systemctl "+verb+" "+a.name, cmd, res))
		}
		if verb != "stop" {
			if err := k.confirmActive(ctx, r, a.name, active); err != nil {
				return nil, err
			}
		}
	}
	if a.enabledSet && f.canEnable() && f.isEnabled() != a.enabled {
		verb := "enable"
		if !a.enabled {
			verb = "disable"
		}
		if _, err := MustRun(ctx, r, "systemctl "+verb, "systemctl "+verb+" -- "+q); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// isActiveCmd prints the unit's state (and exits non-zero unless active).
func isActiveCmd(name string) string { return "systemctl is-active -- " + ShellQuote(name) }

// confirmActive checks that the unit is active now and still after
// Settle. first, when not nil, is the answer of a first check already run
// (with the start, in one round trip).
func (k ServiceKind) confirmActive(ctx context.Context, r runner.Runner, name string, first *runner.Result) error {
	clock := k.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	cmd := isActiveCmd(name)
	for i := 0; i < 2; i++ {
		if i == 1 {
			if k.Settle <= 0 {
				return nil
			}
			if err := clock.Sleep(ctx, k.Settle); err != nil {
				return err
			}
		}
		var res runner.Result
		var err error
		if i == 0 && first != nil {
			res = *first
		} else if res, err = Probe(ctx, r, "confirming "+name+" is active", cmd); err != nil {
			return err
		}
		if st := strings.TrimSpace(res.Stdout); st != "active" && st != "reloading" {
			return k.failed(ctx, r, name, fmt.Errorf("%s is %s after start", name, orUnknown(st)))
		}
	}
	return nil
}

// failed adds the tail of the unit's journal to cause.
func (ServiceKind) failed(ctx context.Context, r runner.Runner, name string, cause error) error {
	cmd := fmt.Sprintf("journalctl -u %s -n %d --no-pager", ShellQuote(name), journalLines)
	res, err := Probe(ctx, r, "reading the journal of "+name, cmd)
	if err != nil {
		return fmt.Errorf("%w (and reading its journal failed: %v)", cause, err)
	}
	j := strings.TrimSuffix(runner.LastLines(strings.TrimSpace(res.Stdout+res.Stderr), journalLines), "\n")
	if j == "" {
		return fmt.Errorf("%w\njournal of %s is empty", cause, name)
	}
	return fmt.Errorf("%w\nlast journal lines of %s:\n%s", cause, name, j)
}

// RestartArgs are the arguments that restart (reload) the unit once: the
// declared ones with state "restarted" ("reloaded"). A unit declared
// stopped is left alone (ok false).
func (ServiceKind) RestartArgs(args cty.Value, reload bool) (cty.Value, bool) {
	a, err := parseServiceArgs(args)
	if err != nil || a.state == "stopped" {
		return args, false
	}
	m := args.AsValueMap()
	m["state"] = cty.StringVal("restarted")
	if reload {
		m["state"] = cty.StringVal("reloaded")
	}
	return cty.ObjectVal(m), true
}

// Replaces says why an update from old to new arguments is a
// replacement: the unit changes, and the old one would go on running
// (and starting at boot) beside the new, often holding what the new one
// needs (its port). Names are compared as systemctl reads them: "glusterd"
// is "glusterd.service", so spelling the suffix out is no change. The kind
// stops nothing itself, as it leaves the unit when its step leaves the
// recipe: the engine runs the step's destroy command as recorded for the
// old unit, when there is one and the step still has one (engine
// replaceWhy). State, enablement and
// daemon_reload change in place.
func (ServiceKind) Replaces(old, new cty.Value) string {
	a, err := parseServiceArgs(old)
	if err != nil {
		return ""
	}
	b, err := parseServiceArgs(new)
	if err != nil || UnitName(a.name) == UnitName(b.name) {
		return ""
	}
	return fmt.Sprintf("the unit changes from %s to %s", a.name, b.name)
}

// UnitName is the unit systemctl acts on when given name: name itself when
// it ends in a unit type's suffix, else name.service (systemd's
// unit_name_mangle: "foo.bar" is "foo.bar.service").
func UnitName(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		switch name[i+1:] {
		case "service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope":
			return name
		}
	}
	return name + ".service"
}

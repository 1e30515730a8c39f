package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"diffuser/lang"
	"diffuser/state"
	"diffuser/steps"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// groupHasWork says whether any instance of group step s must run.
func (a *applier) groupHasWork(s int) bool {
	for i := range a.g.StepHosts[s] {
		if c := a.p.vchange[a.g.StepVertex(s, i)]; c != nil && c.Action != NoOp {
			return true
		}
	}
	return false
}

// groupRun runs a steps.GroupKind step once for all its hosts that need it
// and records each instance as if it had run alone.
func (a *applier) groupRun(ctx context.Context, s int) error {
	g := a.g
	stp := g.Steps[s]
	kind, _ := a.p.Loaded.Kinds[stp.Kind].(steps.GroupKind)
	type member struct {
		c    *Change
		inst state.Instance
		host state.Host
		lr   *loggedRunner
	}
	var members []member
	var targets []steps.Target
	scope := a.live.scope()
	var firstArgs []byte
	var failures []error
	for i, h := range g.StepHosts[s] {
		c := a.p.vchange[g.StepVertex(s, i)]
		if c == nil || c.Action == NoOp {
			continue
		}
		a.emit(Event{Type: EvStart, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Action: c.Action.String()})
		args, gen, diags := scope.StepArgs(stp, a.live.hostVal(h))
		if !diags.HasErrors() {
			diags = argDiags(stp, a.p.Loaded.Kinds[stp.Kind], args, gen.Sensitive)
		}
		plain, marks := args.UnmarkDeep()
		a.mu.Lock()
		host := a.st.Hosts[c.Host]
		var old state.Instance
		oldRec := a.st.Steps[c.Addr]
		if oldRec != nil {
			old = *oldRec
		}
		a.mu.Unlock()
		var err error
		switch {
		case diags.HasErrors():
			err = fmt.Errorf("evaluating step %s: %s", stp.Name, lang.DiagText(diags))
		case !plain.IsWhollyKnown():
			err = fmt.Errorf("step %s: some inputs are still unknown at apply", stp.Name)
		case host == nil:
			err = fmt.Errorf("host %s is not in state", c.Host)
		}
		if err != nil {
			failures = append(failures, a.groupFail(c, time.Now(), -1, err))
			continue
		}
		dg, _ := Digest(stp.Kind, plain, c.Host, host.ProviderID)
		b, _ := ctyjson.Marshal(plain, plain.Type())
		if firstArgs == nil {
			firstArgs = b
		} else if string(b) != string(firstArgs) {
			failures = append(failures, a.groupFail(c, time.Now(), -1,
				fmt.Errorf("step %s is a %s step: its arguments must be the same on every host (do not use `host` in them)", stp.Name, stp.Kind)))
			continue
		}
		sensitive := gen.Sensitive || len(marks) > 0
		inst := state.Instance{Step: stp.Name, Host: c.Host, Kind: stp.Kind, Digest: dg, Sensitive: sensitive, Started: time.Now(),
			SucceededOn: a.succeededOn(oldRec != nil, old, host.ProviderID)}
		if !sensitive {
			inst.Args = b
		}
		hc := *host
		r, err := a.connect(ctx, &hc)
		if err != nil {
			failures = append(failures, a.groupFail(c, inst.Started, -1, fmt.Errorf("connecting to %s: %w", c.Host, err)))
			continue
		}
		// Each host's commands and output go to its instance's log, as for any step.
		lr := &loggedRunner{r: r, sensitive: sensitive, logs: a.logs, step: stp.Name, host: c.Host}
		members = append(members, member{c: c, inst: inst, host: hc, lr: lr})
		targets = append(targets, steps.Target{Host: c.Host, Address: hc.PrivateIP, Runner: lr})
	}
	if len(targets) > 0 {
		args, gen, _ := scope.StepArgs(stp, a.live.hostVal(g.Ref[g.StepVertex(s, 0)]))
		plain, _ := args.UnmarkDeep()
		outs, errs := a.applyGroupRetried(ctx, stp.Name, kind, targets, plain, gen.Timeout, gen.Retries)
		for i, m := range members {
			err := errs[i]
			m.inst.Finished = time.Now()
			if err != nil {
				m.inst.Status, m.inst.Error = state.StatusFailed, firstLine(err.Error())
				_ = a.putInstance(m.c.Addr, m.inst)
				failures = append(failures, a.groupFailLog(m.c, m.inst.Started, exitOf(err), err, m.lr.path()))
				continue
			}
			m.inst.Status, m.inst.SucceededOn = state.StatusApplied, m.host.ProviderID
			m.inst.Outputs = map[string]string(outs[i])
			if err := a.putInstance(m.c.Addr, m.inst); err != nil {
				failures = append(failures, a.groupFail(m.c, m.inst.Started, -1, err))
				continue
			}
			a.groupDone(m.c, m.inst.Started)
		}
	}
	return errors.Join(failures...)
}

func (a *applier) groupFail(c *Change, start time.Time, exit int, err error) error {
	return a.groupFailLog(c, start, exit, err, "")
}

// groupFailLog is groupFail naming the file the instance logged to.
func (a *applier) groupFailLog(c *Change, start time.Time, exit int, err error, log string) error {
	end := time.Now()
	a.mu.Lock()
	a.done++
	a.res.Failures = append(a.res.Failures, Failure{Addr: c.Addr, Step: c.Step, Host: c.Host, Exit: exit, Err: err, Log: log})
	a.res.Spans = append(a.res.Spans, Span{Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Start: start, End: end, Status: "failed", V: c.V})
	a.mu.Unlock()
	a.emit(Event{Type: EvFail, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Duration: end.Sub(start), Exit: exit, Message: err.Error()})
	return fmt.Errorf("%s: %w", c.Addr, err)
}

func (a *applier) groupDone(c *Change, start time.Time) {
	end := time.Now()
	a.mu.Lock()
	a.done++
	a.res.Ran++
	a.res.Spans = append(a.res.Spans, Span{Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Start: start, End: end, Status: "ok", V: c.V})
	a.mu.Unlock()
	a.emit(Event{Type: EvDone, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Duration: end.Sub(start)})
}

// applyGroupRetried runs kind.ApplyGroup with the step's timeout (or the
// apply's default) on each attempt, and retries the targets that failed
// up to retries times, as a single-host step retries its instance. It
// returns one Outputs and one error per target.
func (a *applier) applyGroupRetried(ctx context.Context, step string, kind steps.GroupKind, targets []steps.Target,
	args cty.Value, own time.Duration, retries int) ([]steps.Outputs, []error) {
	outs, errs := make([]steps.Outputs, len(targets)), make([]error, len(targets))
	timeout := a.stepTimeout(own)
	pending := make([]int, len(targets))
	for i := range pending {
		pending[i] = i
	}
	for attempt := 0; ; attempt++ {
		tg := make([]steps.Target, len(pending))
		for j, i := range pending {
			tg[j] = targets[i]
		}
		actx, cancel := attemptCtx(ctx, timeout)
		o, e := kind.ApplyGroup(actx, tg, args)
		var failed []int
		for j, i := range pending {
			outs[i], errs[i] = nil, nil
			if j < len(o) {
				outs[i] = o[j]
			}
			if j < len(e) && e[j] != nil {
				errs[i] = timedOut(e[j], actx, ctx, step, timeout)
				failed = append(failed, i)
			}
		}
		cancel()
		if len(failed) == 0 || attempt >= retries || ctx.Err() != nil {
			return outs, errs
		}
		for _, i := range failed {
			a.emit(Event{Type: EvWarn, Addr: InstanceAddr(step, targets[i].Host), Step: step, Host: targets[i].Host,
				Message: fmt.Sprintf("attempt %d failed, retrying: %s", attempt+1, firstLine(errs[i].Error()))})
		}
		select {
		case <-time.After(time.Duration(attempt+1) * a.retryPause()):
		case <-ctx.Done():
		}
		pending = failed
	}
}

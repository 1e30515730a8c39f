package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"diffuser/cloud"
	"diffuser/lang"
	"diffuser/runner"
	"diffuser/state"
	"diffuser/steps"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// destroyPhase runs what leaves: step instances first (their destroy
// commands and kind-level undo, per host in order, hosts in parallel),
// then the hosts themselves, then cluster-wide provider resources once no
// host is left. A failed undo on a host that is itself going away is a
// warning; on a host that stays it is a failure and that host's remaining
// undos are not attempted. The instances of a host whose machine refresh
// found gone are forgotten without connecting (forgetGone), and a host
// that could not be connected to once is not tried again for its other
// instances (undo).
func (a *applier) destroyPhase(ctx context.Context) {
	goneHost := map[string]bool{}
	var hostDestroys []*Change
	byHost := map[string][]*Change{}
	var hostOrder []string
	for _, c := range a.p.Destroys {
		if c.Kind == "launch" {
			goneHost[c.Host] = true
			hostDestroys = append(hostDestroys, c)
			continue
		}
		if _, ok := byHost[c.Host]; !ok {
			hostOrder = append(hostOrder, c.Host)
		}
		byHost[c.Host] = append(byHost[c.Host], c)
	}
	failedHost := map[string]bool{}
	var fmu sync.Mutex
	handed := a.handOvers()
	a.parallel(ctx, len(hostOrder), func(i int) {
		host := hostOrder[i]
		for _, c := range byHost[host] {
			if gone, err := a.forgetGone(c); gone {
				if err != nil {
					fmu.Lock()
					failedHost[host] = true
					fmu.Unlock()
					return
				}
				continue
			}
			if err := a.undoInstance(ctx, c, goneHost[host], handed[c.Addr]); err != nil {
				fmu.Lock()
				failedHost[host] = true
				fmu.Unlock()
				return
			}
		}
	})
	a.parallel(ctx, len(hostDestroys), func(i int) {
		c := hostDestroys[i]
		if failedHost[c.Host] {
			return
		}
		a.destroyHost(ctx, c)
	})
	a.mu.Lock()
	left := len(a.st.Hosts)
	a.mu.Unlock()
	if left == 0 && (len(hostDestroys) > 0 || a.p.Cleanup) && a.opt.Provider != nil {
		if err := a.opt.Provider.Cleanup(ctx, a.opt.Cluster); err != nil {
			a.mu.Lock()
			a.res.Failures = append(a.res.Failures, Failure{Addr: "cluster " + a.opt.Cluster, Exit: -1, Err: fmt.Errorf("cleaning up: %w", err)})
			a.mu.Unlock()
		}
	}
}

func (a *applier) parallel(ctx context.Context, n int, f func(i int)) {
	limit := a.opt.Parallelism
	if limit <= 0 || limit > n {
		limit = n
	}
	eachBounded(ctx, limit, n, f)
}

// eachBounded runs f(i) for i in [0, n), at most limit (at least 1) at
// once, starts none once ctx ends, and returns when every call started
// has.
func eachBounded(ctx context.Context, limit, n int, f func(i int)) {
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

func (a *applier) finish(c *Change, start time.Time, err error, warn bool) {
	end := time.Now()
	a.mu.Lock()
	a.done++
	status := "ok"
	switch {
	case err != nil && warn:
		status = "warning"
		a.res.Warnings = append(a.res.Warnings, fmt.Sprintf("%s: %v", c.Addr, err))
	case err != nil:
		status = "failed"
		a.res.Failures = append(a.res.Failures, Failure{Addr: c.Addr, Step: c.Step, Host: c.Host, Exit: exitOf(err), Err: err})
	default:
		a.res.Ran++
	}
	a.res.Spans = append(a.res.Spans, Span{Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Start: start, End: end, Status: "destroy " + status, V: -1})
	a.mu.Unlock()
	switch {
	case err != nil && warn:
		a.emit(Event{Type: EvWarn, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Action: "destroy", Duration: end.Sub(start), Message: err.Error()})
	case err != nil:
		a.emit(Event{Type: EvFail, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Action: "destroy", Duration: end.Sub(start), Exit: exitOf(err), Message: err.Error()})
	default:
		a.emit(Event{Type: EvDone, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Action: "destroy", Duration: end.Sub(start)})
	}
}

func exitOf(err error) int {
	var ee *runner.ExitError
	if errors.As(err, &ee) {
		return ee.Status
	}
	return -1
}

// undoInstance undoes the instance c destroys and forgets it; handedTo
// (handOvers) is the instance that owns what it made now, when one does:
// then its undo is not run, only Leave's part (leaveHandedOver).
func (a *applier) undoInstance(ctx context.Context, c *Change, hostGoing bool, handedTo string) error {
	start := time.Now()
	a.emit(Event{Time: start, Type: EvStart, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Action: "destroy"})
	a.mu.Lock()
	var inst state.Instance
	if i := a.st.Steps[c.Addr]; i != nil {
		inst = *i
	}
	var host *state.Host
	if h := a.st.Hosts[c.Host]; h != nil {
		cp := *h
		host = a.p.reachedNow(&cp)
	}
	a.mu.Unlock()
	if handedTo != "" {
		return a.handOverInstance(ctx, c, start, inst, host, handedTo)
	}
	err := a.undo(ctx, inst, host)
	if err != nil {
		// Undoing a step that never succeeded on its host is best effort:
		// it may have done part of its work, or none, and its destroy
		// command may fail for the same reason the step did. That must not
		// keep the rest of the cluster from being destroyed. A step that
		// succeeded once made what its undo removes, even if a later run
		// failed: a failed undo is a failure, and the instance stays in
		// state so that the next destroy tries again. A failed instance
		// recorded before state kept that history counts as never
		// succeeded (its undo still runs, as for every failed instance).
		warn := hostGoing
		if host != nil {
			if ok, _ := inst.EverSucceeded(host.ProviderID); !ok {
				warn = true
			}
		}
		a.finish(c, start, err, warn)
		if !warn {
			return err
		}
	}
	return a.forget(c, start, err == nil)
}

// handOverInstance forgets inst, which c destroys, without its undo,
// which would undo the work of handedTo, the instance that owns what it
// made now: a warning says so. What only inst kept (a mount's fstab line,
// when handedTo has fstab false) is removed first; when that fails on a
// host that stays, the step's destroy fails and inst stays in state.
func (a *applier) handOverInstance(ctx context.Context, c *Change, start time.Time, inst state.Instance, host *state.Host, handedTo string) error {
	_, shown, _ := a.p.Loaded.recordedThing(&inst)
	if host != nil && a.opt.Connector != nil {
		if _, ok := a.p.Loaded.Kinds[inst.Kind].(steps.Leaver); ok {
			r, err := a.connectOnce(ctx, host)
			if err == nil {
				err = a.leaveHandedOver(ctx, r, inst, handedTo)
			}
			if err != nil {
				err = fmt.Errorf("handed over to %s, but removing what only it kept failed: %w", handedTo, err)
				a.finish(c, start, err, false)
				return err
			}
		}
	}
	a.finish(c, start, errors.New(handOverNote(handedTo, shown)), true)
	return a.forget(c, start, false)
}

// forget deletes c's instance from state, and reports it done when done.
func (a *applier) forget(c *Change, start time.Time, done bool) error {
	a.mu.Lock()
	delete(a.st.Steps, c.Addr)
	a.mu.Unlock()
	if rerr := a.opt.Recorder.DeleteInstance(c.Addr); rerr != nil {
		a.finish(c, start, rerr, false)
		return rerr
	}
	if done {
		a.finish(c, start, nil, false)
	}
	return nil
}

func (a *applier) undo(ctx context.Context, inst state.Instance, host *state.Host) error {
	if host == nil || !a.p.Loaded.undoable(inst) {
		return nil
	}
	if a.opt.Connector == nil {
		return errors.New("no way to reach the host")
	}
	r, err := a.connectOnce(ctx, host)
	if err != nil {
		return err
	}
	if err := runDestroy(ctx, r, inst); err != nil {
		return err
	}
	return a.undoKind(ctx, r, inst)
}

// connectOnce connects to host to undo an instance there, unless this
// apply failed to before: one failed connection (the connector's whole
// retry budget, minutes) is enough for all of a host's instances.
func (a *applier) connectOnce(ctx context.Context, host *state.Host) (runner.Runner, error) {
	if err := a.unreachedBefore(host.Name); err != nil {
		return nil, err
	}
	r, err := a.connect(ctx, host)
	if err != nil {
		err = fmt.Errorf("connecting to %s: %w", host.Name, err)
		a.setUnreached(host.Name, err)
		return nil, err
	}
	return r, nil
}

// runDestroy runs inst's recorded destroy command, if any, on r. A
// sensitive step's command and output are not told in the error.
func runDestroy(ctx context.Context, r runner.Runner, inst state.Instance) error {
	if inst.Destroy == "" {
		return nil
	}
	res, err := r.Run(ctx, inst.Destroy, runner.Options{Timeout: 10 * time.Minute})
	if err != nil {
		if inst.Sensitive {
			// The command holds sensitive values; an error may quote it.
			if ctx.Err() != nil {
				return fmt.Errorf("the destroy command of a sensitive step did not finish (details hidden): %w", ctx.Err())
			}
			return errors.New("running the destroy command of a sensitive step failed (details hidden: sensitive step)")
		}
		return err
	}
	if res.Exit != 0 {
		tail := runner.LastLines(res.Stdout+res.Stderr, 10)
		if inst.Sensitive {
			tail = "(output hidden: sensitive step)"
		}
		return &runner.ExitError{What: "destroy command", Cmd: inst.Destroy, Status: res.Exit, Tail: tail}
	}
	return nil
}

// undoable reports whether undoing inst would do anything: it ran (a
// failed instance is undone too: it may have done part of its work, or an
// earlier run of it succeeded, as Terraform destroys tainted resources),
// and it has a destroy command or a kind that undoes itself with the
// arguments state recorded.
func (l *Loaded) undoable(inst state.Instance) bool {
	return ran(inst) && (inst.Destroy != "" || l.kindUndoes(inst))
}

// kindUndoes reports whether inst's kind undoes itself (a steps.Destroyer)
// and state recorded the arguments it needs for that.
func (l *Loaded) kindUndoes(inst state.Instance) bool {
	_, canUndo := l.Kinds[inst.Kind].(steps.Destroyer)
	return canUndo && inst.Args != nil
}

// ran reports whether an instance ran on its host (applied, or failed
// part-way).
func ran(inst state.Instance) bool {
	return inst.Status == state.StatusApplied || inst.Status == state.StatusFailed
}

// undoKind is inst's kind's own undo (a mount's unmount) with the
// arguments state recorded, when its kind has one and they were recorded.
func (a *applier) undoKind(ctx context.Context, r runner.Runner, inst state.Instance) error {
	kind := a.p.Loaded.Kinds[inst.Kind]
	destroyer, canUndo := kind.(steps.Destroyer)
	if !canUndo || inst.Args == nil {
		return nil
	}
	args, err := ctyjson.Unmarshal(inst.Args, hcldec.ImpliedType(kind.Schema().Spec()))
	if err != nil {
		return fmt.Errorf("reading recorded arguments: %w", err)
	}
	return destroyer.Destroy(ctx, r, args)
}

func (a *applier) destroyHost(ctx context.Context, c *Change) {
	start := time.Now()
	a.emit(Event{Time: start, Type: EvStart, Addr: c.Addr, Host: c.Host, Kind: "launch", Action: "destroy"})
	a.mu.Lock()
	var h *state.Host
	if sh := a.st.Hosts[c.Host]; sh != nil {
		cp := *sh
		h = &cp
	}
	a.mu.Unlock()
	if h == nil {
		a.finish(c, start, nil, false)
		return
	}
	settings := cty.EmptyObjectVal
	if a.p.settingsFn != nil {
		if v, d := a.p.settingsFn(h.Group); !d.HasErrors() {
			settings = v
		}
	}
	spec := cloud.HostSpec{Cluster: a.opt.Cluster, Group: h.Group, Index: h.Index, Name: h.Name,
		Hostname: lang.Hostname(h.Group, h.Index), Settings: settings, Provider: h.Provider}
	if a.opt.Provider == nil {
		a.finish(c, start, errors.New("no provider configured"), false)
		return
	}
	if err := a.removeAptProxy(ctx, a.p.reachedNow(h)); err != nil {
		a.emit(Event{Type: EvWarn, Addr: c.Addr, Host: c.Host, Kind: "launch",
			Message: fmt.Sprintf("the package cache's apt files stay on %s (remove %s and %s by hand): %v", h.Name, steps.AptProxyConf, steps.AptProxyDetect, err)})
	}
	if err := a.opt.Provider.Destroy(ctx, spec, CloudHost(h)); err != nil {
		a.finish(c, start, fmt.Errorf("destroying %s: %w", h.Name, err), false)
		return
	}
	a.mu.Lock()
	a.deleteHostLocked(c.Host)
	a.mu.Unlock()
	if err := a.opt.Recorder.DeleteHost(c.Host); err != nil {
		a.finish(c, start, err, false)
		return
	}
	a.finish(c, start, nil, false)
}

// removeAptProxy removes the package cache's apt files from a host that
// stays when destroyed (cloud.MachineKeeper) and was given a cache.
// Machines the provider deletes take the files with them.
func (a *applier) removeAptProxy(ctx context.Context, h *state.Host) error {
	k, ok := a.opt.Provider.(cloud.MachineKeeper)
	if !ok || !k.KeepsMachines() || h.Attrs[cloud.AttrAptProxy] == "" || a.opt.Connector == nil {
		return nil
	}
	if err := a.unreachedBefore(h.Name); err != nil {
		return err
	}
	r, err := a.connect(ctx, h)
	if err != nil {
		return err
	}
	_, err = steps.MustRun(ctx, r, "removing the package cache's apt files", steps.AptProxyRemoveCmd)
	return err
}

// forgetGone forgets c's instance without undoing it when refresh found
// the machine of its host gone (and apply has not launched another in
// its place since): nothing is left to undo, and connecting to a machine
// that does not exist would retry until the connect budget runs out
// (minutes), once per instance. A warning names the host; the host's own
// destroy then proceeds. It reports whether it handled c, and the error
// of recording that.
func (a *applier) forgetGone(c *Change) (bool, error) {
	a.mu.Lock()
	h, inst := a.st.Hosts[c.Host], a.st.Steps[c.Addr]
	gone := h != nil && inst != nil && a.p.foundGone(h) && a.p.Loaded.undoable(*inst)
	a.mu.Unlock()
	if !gone {
		return false, nil
	}
	start := time.Now()
	a.emit(Event{Time: start, Type: EvStart, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Action: "destroy"})
	a.finish(c, start, fmt.Errorf("its host %s is gone (found by refresh): forgotten without undoing it (its destroy command is not run)", c.Host), true)
	return true, a.forget(c, start, false)
}

// unreachedBefore is the error of this apply's failed connection to host
// (by name) for an undo, or nil: one failed connection is enough for all
// of a host's instances, each of which would otherwise retry for the
// whole connect budget.
func (a *applier) unreachedBefore(host string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.unreached[host]; err != nil {
		return fmt.Errorf("not tried again: %w", err)
	}
	return nil
}

// setUnreached records that connecting to host for an undo failed with err.
func (a *applier) setUnreached(host string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.unreached == nil {
		a.unreached = map[string]error{}
	}
	a.unreached[host] = err
}

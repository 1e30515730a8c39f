package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"diffuser/cloud"
	"diffuser/lang"
	"diffuser/runner"
	"diffuser/state"
	"diffuser/steps"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Recorder makes changes to state durable. Each call returns once the change
// is on disk; calls may come from many goroutines at once.
type Recorder interface {
	PutHost(h state.Host) error
	DeleteHost(name string) error
	PutInstance(addr string, i state.Instance) error
	DeleteInstance(addr string) error
	SetOutputs(out map[string]state.Output) error
}

// Connector hands out a command runner for a host, connected and ready.
// onHostKey is called with each host key accepted on first use: hop 0 is
// the host's own, hop 1 that of h.SSH.Jump, hop 2 that of h.SSH.Jump.Jump
// and so on (jump hosts are pinned like targets).
type Connector interface {
	Runner(ctx context.Context, h state.Host, onHostKey func(hop int, key string) error) (runner.Runner, error)
}

// ApplyOptions are what Apply needs from outside.
type ApplyOptions struct {
	Provider cloud.Provider
	Cluster  string
	// Expires is the cluster's deadline handed to every launch (zero:
	// none); see docs/expiry.md.
	Expires   time.Time
	Connector Connector
	Recorder  Recorder
	// Parallelism caps the step instances (and launches) running at once;
	// 0 = unlimited. What is scarce (connections, sessions, uploads) is
	// bounded by Limits instead, around the work that needs it.
	Parallelism int
	Limits      Limits
	Stop        <-chan struct{} // closed on the first Ctrl-C: start nothing new
	OnEvent     func(Event)
	// LogDir is the run's log directory: every step instance that runs a
	// command logs to <LogDir>/steps.log (remote.RunLog), one file for
	// the apply. "" writes no logs.
	LogDir string
	// StepTimeout bounds one attempt of every step instance whose step
	// sets no `timeout` (0 = DefaultStepTimeout, negative = no bound).
	StepTimeout time.Duration
	// RetryPause is the wait before a step's first retry; the n-th retry
	// waits n times as long (0 = 2s).
	RetryPause time.Duration
	// HostLocks maps a kind's HostLock key to nothing: kinds implementing
	// steps.HostLocker are serialized per host automatically.
}

// Failure is one step instance (or launch, or destroy) that failed.
type Failure struct {
	Addr string
	Step string
	// Declared is where the step is written ("main.hcl:12", a module's
	// with its call), "" for what no step block declares.
	Declared string
	Host     string
	Exit     int // -1 when the command did not run to an exit status
	Err      error
	Tail     string
	Log      string // path of the file the instance logged to (its run's log), when it logged
}

// Result summarizes an apply.
type Result struct {
	Failures []Failure
	Ran      int
	Skipped  int
	Total    int
	Start    time.Time
	End      time.Time
	Spans    []Span
	Warnings []string
}

type applier struct {
	p    *Plan
	opt  ApplyOptions
	g    *Instances
	live *liveScope

	mu       sync.Mutex // guards st, index, res, done
	st       *state.State
	index    *hostIndex // of st.Hosts
	limits   *limiter
	logs     *runLogs
	res      *Result
	done     int
	settings map[string]cty.Value
	changed  map[int32]bool // step instances that ran in this apply (restart_on)
	// hostsAtStart is each host's provider id before any launch of this
	// apply: what an instance recorded as applied by an older version
	// (without SucceededOn) succeeded on.
	hostsAtStart map[string]string
	claims       liveClaims // paths owned on each host (engine/claims.go)
	// unreached: by name, the hosts an undo could not connect to in this
	// apply, and why (destroy.go: not tried again).
	unreached map[string]error
}

// Apply carries out the plan against live state st, which it updates in
// memory and records through opt.Recorder after every finished vertex.
func (p *Plan) Apply(ctx context.Context, st *state.State, opt ApplyOptions) *Result {
	a := &applier{p: p, opt: opt, g: p.Loaded.Graph, st: st, res: &Result{Start: time.Now()}, settings: map[string]cty.Value{},
		index: newHostIndex(st.Hosts), limits: newLimiter(opt.Limits), logs: &runLogs{dir: opt.LogDir}}
	for gi, grp := range a.g.Groups {
		a.settings[grp] = p.settings[gi]
	}
	a.hostsAtStart = make(map[string]string, len(st.Hosts))
	for n, h := range st.Hosts {
		a.hostsAtStart[n] = h.ProviderID
	}
	// Connections are made longest remaining chain first (servers
	// before their clients), and so are ready vertices started.
	heights := a.g.Heights()
	a.limits.priority = func(host string) int32 {
		if i, ok := a.g.HostIdx[host]; ok {
			return heights[a.g.LaunchV[i]]
		}
		return 0
	}
	a.res.Total = len(p.Changes) + len(p.Destroys)
	a.applyMoves()
	a.recordDestroys()
	a.live = newLiveScope(p, a)
	w := &walker{g: a.g, parallelism: opt.Parallelism, stop: opt.Stop, classify: a.classify, exec: a.exec, priority: heights,
		onSkip: func(v int32, why string) {
			c := p.vchange[v]
			if c == nil || c.Action == NoOp {
				return
			}
			a.mu.Lock()
			a.res.Skipped++
			a.mu.Unlock()
			a.emit(Event{Type: EvSkip, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Message: why})
		}}
	if len(p.Changes) > 0 {
		w.run(ctx)
	}
	if (len(p.Destroys) > 0 || p.Cleanup) && len(a.res.Failures) == 0 && ctx.Err() == nil && !stopped(opt.Stop) {
		a.destroyPhase(ctx)
	}
	switch {
	case p.DestroyAll:
		a.clearOutputs()
	case len(p.Targets) > 0:
		a.forgetOutputs()
	case len(a.res.Failures) == 0:
		a.recordOutputs()
	}
	if err := a.logs.close(); err != nil {
		a.res.Warnings = append(a.res.Warnings, fmt.Sprintf("step logs: %v (the steps ran; their output is not all in the log)", err))
	}
	a.res.End = time.Now()
	sort.Slice(a.res.Spans, func(i, j int) bool { return a.res.Spans[i].Start.Before(a.res.Spans[j].Start) })
	return a.res
}

func stopped(ch <-chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (a *applier) emit(e Event) {
	if a.opt.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	a.mu.Lock()
	e.Done, e.Total = a.done, a.res.Total
	a.mu.Unlock()
	a.opt.OnEvent(e)
}

func (a *applier) classify(v int32) task {
	g := a.g
	switch {
	case g.Kind[v] == VGroupRun:
		return task{v: v, inline: !a.groupHasWork(int(g.Ref[v]))}
	case g.Kind[v] == VStep && g.GroupRun[g.Step[v]]:
		return task{v: v, inline: true} // collects prerequisites; the group vertex runs it
	}
	c := a.p.vchange[v]
	if c == nil || c.Action == NoOp {
		return task{v: v, inline: true}
	}
	t := task{v: v}
	if a.g.Kind[v] == VStep {
		if hl, ok := a.p.Loaded.Kinds[c.Kind].(steps.HostLocker); ok {
			t.lock = c.Host + "\x00" + hl.HostLock()
		}
	}
	return t
}

func (a *applier) exec(ctx context.Context, v int32) error {
	g := a.g
	switch g.Kind[v] {
	case VJoin:
		a.live.stepDone(int(g.Ref[v]))
		return nil
	case VGroupJoin:
		a.live.groupDone(int(g.Ref[v]))
		return nil
	case VGroupRun:
		err := a.groupRun(ctx, int(g.Ref[v]))
		a.live.stepDone(int(g.Ref[v]))
		return err
	case VStep:
		if g.GroupRun[g.Step[v]] {
			return nil
		}
	}
	c := a.p.vchange[v]
	if c == nil || c.Action == NoOp {
		return nil
	}
	start := time.Now()
	a.emit(Event{Time: start, Type: EvStart, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Action: c.Action.String()})
	var f *Failure
	var note string
	if g.Kind[v] == VLaunch {
		f = a.launch(ctx, v, c)
	} else {
		note, f = a.step(ctx, v, c)
	}
	end := time.Now()
	a.mu.Lock()
	a.done++
	status := "ok"
	if f != nil {
		status = "failed"
		a.res.Failures = append(a.res.Failures, *f)
	} else {
		if note != "" {
			status = note
		}
		// A restart or reload did work on the host: it counts as done
		// (the summary's "N done" matched the plan's changes otherwise
		// only when no service restarted).
		if note == "" || note == "restarted" || note == "reloaded" {
			a.res.Ran++
		}
	}
	a.res.Spans = append(a.res.Spans, Span{Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Start: start, End: end, Status: status, V: v})
	a.mu.Unlock()
	if f != nil {
		a.emit(Event{Type: EvFail, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Duration: end.Sub(start), Exit: f.Exit, Message: f.Err.Error()})
		return f.Err
	}
	a.emit(Event{Type: EvDone, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind, Duration: end.Sub(start), Message: note})
	return nil
}

func (a *applier) hostSpec(slot HostSlot) cloud.HostSpec {
	spec := a.p.Loaded.HostSpec(slot, a.opt.Cluster, a.settings[slot.Group])
	if a.p.groupProvider != nil {
		spec.Provider = a.p.groupProvider(slot.Group)
	}
	spec.Expires = a.opt.Expires
	return spec
}

// providerName is the provider a host launched with spec is recorded
// under: its group's provider key in a cluster over several providers,
// else the provider's name.
func (a *applier) providerName(spec cloud.HostSpec) string {
	if spec.Provider != "" {
		return spec.Provider
	}
	return a.opt.Provider.Name()
}

// CloudHost converts a recorded host for its provider.
func CloudHost(h *state.Host) cloud.Host {
	ch := cloud.Host{ProviderID: h.ProviderID, PrivateIP: h.PrivateIP, PublicIP: h.PublicIP,
		SSHAddress: h.SSH.Address, SSHPort: h.SSH.Port, SSHUser: h.SSH.User, SSHIdentityFiles: h.SSH.IdentityFiles,
		SSHJump: cloudJump(h.SSH.Jump), Attrs: h.Attrs, Volumes: map[string]cloud.Volume{}}
	for n, v := range h.Volumes {
		ch.Volumes[n] = cloud.Volume{Device: v.Device, ProviderID: v.ProviderID, SizeGB: v.SizeGB}
	}
	return ch
}

func (a *applier) launch(ctx context.Context, v int32, c *Change) *Failure {
	slot := a.g.Hosts[a.g.Ref[v]]
	spec := a.hostSpec(slot)
	fail := func(err error) *Failure {
		return &Failure{Addr: c.Addr, Host: slot.Name, Exit: -1, Err: err}
	}
	a.mu.Lock()
	var old *state.Host
	if h := a.st.Hosts[slot.Name]; h != nil {
		cp := *h
		old = &cp
	}
	a.mu.Unlock()
	if c.GatherFacts && old != nil {
		return a.refreshHostFacts(ctx, v, old, fail)
	}
	if a.opt.Provider == nil {
		return fail(errors.New("no provider configured"))
	}
	var ch cloud.Host
	var err error
	// kept: old is replaced by a machine that exists already (static), so
	// its record stays until that machine answers (see replaceKept).
	kept := false
	switch {
	case c.Action == Start && old != nil:
		ch, err = a.opt.Provider.Start(ctx, spec, CloudHost(old))
	default:
		if old != nil {
			spec.Address = old.PrivateIP
		}
		if c.Action == Replace && old != nil {
			kept = keepsMachines(old.Provider) && keepsMachines(a.providerName(spec))
			if !kept {
				if err := a.retire(ctx, a.g.Ref[v], spec, old); err != nil {
					return fail(err)
				}
			}
		}
		ch, err = a.opt.Provider.Launch(ctx, spec)
	}
	if err != nil {
		return fail(fmt.Errorf("launching %s: %w", slot.Name, err))
	}
	if c.Action == Update && old != nil {
		// The same machine reached another way (refresh found it moved or
		// rerouted; a static host named at another address, port or user
		// answered with its pinned host key): its provider id stays, and
		// with it what ran on it (step digests and SucceededOn name it).
		ch.ProviderID = old.ProviderID
	}
	if other := a.recordedAs(a.providerName(spec), ch.ProviderID, slot.Name); other != "" {
		return fail(fmt.Errorf("launching %s: the provider answered with machine %s, which state records as %s (moved there with state mv or imported?): "+
			"one machine cannot be two hosts; rename one of them (state mv) or remove the other from state (state rm)", slot.Name, ch.ProviderID, other))
	}
	h := RecordedHost(slot, a.providerName(spec), ch, a.p.launchDg[a.g.Ref[v]])
	if err := CheckAnswer(h.Provider, &h); err != nil {
		return fail(err)
	}
	if old != nil && old.ProviderID == h.ProviderID && c.Action != Replace {
		// Same machine (started or adopted): keep the pinned key, and the
		// facts until the machine is asked again (a host that fails to
		// answer after its start keeps what state knew of it). A replaced
		// host keeps its provider id only where the provider cannot make a
		// new machine (static): replacing is how a person says it is new.
		h.SSH.HostKey = old.SSH.HostKey
		h.Facts = old.Facts
	}
	a.mu.Lock()
	// The index keeps the jump keys of old too: when it was replaced
	// (deleted above), its bastion is still the bastion.
	pinJumps(&h, a.index.jumpKeys)
	a.mu.Unlock()
	// The same machine reached another way (refresh found it moved or
	// rerouted) is recorded once it answers that way: until then state
	// keeps the way that worked, and the next plan plans this launch
	// again. So is a machine that exists already put in place of a
	// recorded one (kept): until it answers, state holds the recorded
	// one. A machine launched or started now is recorded at once.
	reroute := c.Action == Update && old != nil && old.ProviderID == h.ProviderID
	if !(reroute || kept) || a.opt.Connector == nil {
		if err := a.putHost(h); err != nil {
			return fail(err)
		}
	}
	if a.opt.Connector == nil {
		return nil
	}
	r, learned, err := a.connectLearning(ctx, &h)
	switch {
	case err != nil && reroute:
		return fail(fmt.Errorf("connecting to %s over SSH the new way (%s): %w; state still records the way it was reached before, and nothing ran on it: make the machine accept the new way, or put the site file (or ssh config) back",
			slot.Name, describeReach(h), err))
	case err != nil && kept:
		return fail(fmt.Errorf("connecting to %s over SSH: %w; %s", slot.Name, err, keptNote(old)))
	case err != nil:
		return fail(fmt.Errorf("connecting to %s over SSH: %w", slot.Name, err))
	}
	// The key learned on first use goes to state with the facts (below);
	// if the host fails before that, it is recorded on its own, unless
	// state still holds the machine it replaces.
	failPinned := func(err error) *Failure {
		if kept {
			return fail(fmt.Errorf("%w; %s", err, keptNote(old)))
		}
		if learned {
			if perr := a.putHost(h); perr != nil {
				err = fmt.Errorf("%w (and recording its host key: %v)", err, perr)
			}
		}
		return fail(err)
	}
	res, err := r.Run(ctx, "true", runner.Options{Timeout: 2 * time.Minute})
	if err != nil || res.Exit != 0 {
		return failPinned(fmt.Errorf("%s is not ready: %v (exit %d)", slot.Name, err, res.Exit))
	}
	if err := askFacts(ctx, &h, r); err != nil {
		return failPinned(err)
	}
	if kept {
		// A drain that failed says so itself; state still holds old.
		if err := a.replaceKept(ctx, a.g.Ref[v], old); err != nil {
			return fail(err)
		}
	}
	if err := a.putHost(h); err != nil {
		return fail(err)
	}
	a.live.hostLaunched(a.g.Ref[v])
	return nil
}

// refreshHostFacts is a launch planned only to record facts: the host is
// reached as state says and asked again.
func (a *applier) refreshHostFacts(ctx context.Context, v int32, h *state.Host, fail func(error) *Failure) *Failure {
	if a.opt.Connector == nil {
		return nil
	}
	r, err := a.connect(ctx, h)
	if err != nil {
		return fail(fmt.Errorf("connecting to %s over SSH: %w", h.Name, err))
	}
	if err := a.gatherFacts(ctx, h, r); err != nil {
		return fail(err)
	}
	a.live.hostLaunched(a.g.Ref[v])
	return nil
}

// recordedAs returns the name of another host state records with provider
// id id, or "". A provider that makes machines never hands out one machine
// for two hosts unless state was edited (a host moved by state mv to a new
// name is still found under its old one by docker's container name), so
// such a launch must not record it twice. Static sites may list one
// machine for two hosts on purpose (a server that is also a client).
func (a *applier) recordedAs(provider, id, name string) string {
	if id == "" || keepsMachines(provider) {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.index.other(id, name)
}

// deleteHostLocked removes a host from state in memory. Needs a.mu.
func (a *applier) deleteHostLocked(name string) {
	if old := a.st.Hosts[name]; old != nil {
		a.index.remove(old)
	}
	delete(a.st.Hosts, name)
}

func (a *applier) putHost(h state.Host) error {
	a.mu.Lock()
	cp := h
	a.index.put(a.st.Hosts[h.Name], &cp)
	a.st.Hosts[h.Name] = &cp
	a.mu.Unlock()
	if err := a.opt.Recorder.PutHost(h); err != nil {
		return fmt.Errorf("recording host %s: %w", h.Name, err)
	}
	return nil
}

// step runs one step instance. note is non-empty when it turned out to
// have nothing to do.
func (a *applier) step(ctx context.Context, v int32, c *Change) (string, *Failure) {
	g := a.g
	stp := g.Steps[g.Step[v]]
	slot := g.Hosts[g.Ref[v]]
	fail := func(exit int, err error, tail, log string) *Failure {
		return &Failure{Addr: c.Addr, Step: stp.Name, Declared: stp.Declared(), Host: slot.Name, Exit: exit, Err: err, Tail: tail, Log: log}
	}
	a.mu.Lock()
	sh := a.st.Hosts[slot.Name]
	var host state.Host
	if sh != nil {
		host = *sh
	}
	old := a.st.Steps[c.Addr]
	var oldCopy state.Instance
	if old != nil {
		oldCopy = *old
	}
	a.mu.Unlock()
	if sh == nil {
		return "", fail(-1, fmt.Errorf("host %s is not in state; was its launch skipped?", slot.Name), "", "")
	}
	args, gen, diags := a.live.stepArgs(stp, int(g.Step[v]), g.Ref[v])
	if !diags.HasErrors() {
		// What only apply knows (addresses, captures) is checked here,
		// before the host is touched, as validate and plan checked the rest.
		diags = argDiags(stp, a.p.Loaded.Kinds[stp.Kind], args, gen.Sensitive)
	}
	if diags.HasErrors() {
		return "", fail(-1, fmt.Errorf("evaluating step %s: %s", stp.Name, lang.DiagText(diags)), "", "")
	}
	if err := a.claims.take(a.p, int(g.Step[v]), g.Ref[v], args); err != nil {
		return "", fail(-1, err, "", "")
	}
	// One walk digests the arguments, encodes them for state, finds
	// unknowns and finds marks.
	dg, argsJS, known, marked := encodeArgs(stp.Kind, args, slot.Name, host.ProviderID)
	if !known {
		return "", fail(-1, fmt.Errorf("step %s: some inputs are still unknown at apply; add the step that produces them to after", stp.Name), "", "")
	}
	plain, sensitive := args, gen.Sensitive
	if marked {
		plain, _ = args.UnmarkDeep()
		sensitive = true
	}
	kind := a.p.Loaded.Kinds[stp.Kind]
	applyArgs, restarted, restart := a.restartDue(v, kind, plain, oldCopy.Pending)
	same := old != nil && oldCopy.Status == state.StatusApplied && oldCopy.Digest == dg
	if same && !restart && (c.Deferred || c.Restart != "") {
		if c.Restart != "" {
			return "no restart needed", nil
		}
		return "unchanged", nil
	}
	if err := a.markPending(v, c.Addr); err != nil {
		return "", fail(-1, err, "", "")
	}
	r, err := a.connect(ctx, &host)
	if err != nil {
		return "", fail(-1, fmt.Errorf("connecting to %s: %w", slot.Name, err), "", "")
	}
	lr := &loggedRunner{r: r, sensitive: sensitive, logs: a.logs, step: stp.Name, host: slot.Name}
	if f := a.undoReplaced(ctx, v, c, lr, old != nil, oldCopy, host, plain, gen.Destroy); f != nil {
		return "", fail(-1, f, "", lr.path())
	}
	inst := state.Instance{Step: stp.Name, Host: slot.Name, Kind: stp.Kind, Digest: dg, Sensitive: sensitive, Started: time.Now(),
		SucceededOn: a.succeededOn(old != nil, oldCopy, host.ProviderID)}
	if !sensitive {
		inst.Args = argsJS
	}
	if d, _ := gen.Destroy.UnmarkDeep(); !d.IsNull() && d.IsKnown() {
		inst.Destroy = d.AsString()
	}
	var outs steps.Outputs
	timeout := a.stepTimeout(gen.Timeout)
	for attempt := 0; ; attempt++ {
		actx, cancel := attemptCtx(ctx, timeout)
		outs, err = kind.Apply(stepCtx(actx, c.Addr, host), lr, applyArgs)
		err = timedOut(err, actx, ctx, stp.Name, timeout)
		cancel()
		if err == nil || attempt >= gen.Retries || ctx.Err() != nil {
			break
		}
		a.emit(Event{Type: EvWarn, Addr: c.Addr, Step: stp.Name, Host: slot.Name, Kind: stp.Kind,
			Message: retryMessage(attempt+1, err, sensitive)})
		select {
		case <-time.After(time.Duration(attempt+1) * a.retryPause()):
		case <-ctx.Done():
		}
	}
	inst.Finished = time.Now()
	if err != nil {
		exit, tail := -1, ""
		var ee *runner.ExitError
		if errors.As(err, &ee) {
			exit, tail = ee.Status, ee.Tail
		}
		if sensitive {
			tail = "(output hidden: sensitive step)"
		}
		inst.Status, inst.Error = state.StatusFailed, firstLine(err.Error())
		inst.Pending = oldCopy.Pending // a restart it owes is still owed
		if sensitive {
			inst.Error = "failed (sensitive step)"
		}
		a.putInstance(c.Addr, inst)
		msg := err
		if sensitive {
			msg = fmt.Errorf("sensitive step failed with exit status %d", exit)
		}
		return "", fail(exit, msg, tail, lr.path())
	}
	inst.Status, inst.SucceededOn = state.StatusApplied, host.ProviderID
	inst.Outputs = map[string]string(outs)
	if err := a.putInstance(c.Addr, inst); err != nil {
		return "", fail(-1, err, "", lr.path())
	}
	a.noteChanged(v)
	return restarted, nil
}

// undoReplaced undoes the instance as state records it (old, when
// recorded) before the step runs with new arguments (args, and destroy,
// its destroy value now), when replaceWhy says the update is a
// replacement, through the step's own logged runner: with its kind's own
// undo, else its recorded destroy command (undoOld). An update in place
// of a steps.Leaver removes instead what the old arguments made that the
// new ones do not keep (leaveUpdated: a mount's fstab line when fstab
// turns false). On a host launched anew by this apply there is nothing of
// old to undo. An undo that fails keeps the old record and fails the step
// when old once succeeded on this host (what it made is still there);
// else it is a warning, as in destroy.
func (a *applier) undoReplaced(ctx context.Context, v int32, c *Change, r runner.Runner, recorded bool, old state.Instance, host state.Host, args, destroy cty.Value) error {
	if launch := a.p.Actions[a.g.LaunchV[a.g.Ref[v]]]; !recorded || launch == Create || launch == Replace {
		return nil
	}
	kind := a.g.Steps[a.g.Step[v]].Kind
	why := a.p.Loaded.replaceWhy(&old, kind, args, destroy)
	if why != "" && a.p.keptOld[v] != "" {
		return nil // another instance has what the old one made (planKeptOld)
	}
	var err error
	var what, warn string
	if why != "" {
		err = a.undoOld(ctx, r, old)
		what = fmt.Sprintf("undoing the %s instance as last applied (%s)", old.Kind, why)
		warn = fmt.Sprintf("undoing the %s instance of a run that never succeeded here (%s)", old.Kind, why)
	} else {
		err = a.leaveUpdated(ctx, r, old, kind, args)
		what = fmt.Sprintf("removing what the %s instance as last applied made and its new arguments no longer keep", old.Kind)
		warn = fmt.Sprintf("removing what the %s instance of a run that never succeeded here made and its new arguments no longer keep", old.Kind)
	}
	if err == nil {
		return nil
	}
	if ok, _ := old.EverSucceeded(host.ProviderID); ok {
		return fmt.Errorf("%s failed, so nothing new was done: %w", what, err)
	}
	a.emit(Event{Type: EvWarn, Addr: c.Addr, Step: c.Step, Host: c.Host, Kind: c.Kind,
		Message: fmt.Sprintf("%s failed: %v", warn, err)})
	return nil
}

// leaveUpdated calls the kind's Leave (steps.Leaver) for an update in
// place of an instance that ran on this host with the same kind, with the
// arguments state recorded for it and the new ones (args, wholly known
// here). Without recorded arguments (a sensitive step, older state) there
// is nothing to go by: nothing is done.
func (a *applier) leaveUpdated(ctx context.Context, r runner.Runner, old state.Instance, kind string, args cty.Value) error {
	lv, ok := a.p.Loaded.Kinds[kind].(steps.Leaver)
	if !ok || old.Kind != kind || !ran(old) || args == cty.NilVal || !args.IsWhollyKnown() {
		return nil
	}
	prev := a.p.Loaded.prevArgs(&old)
	if prev == cty.NilVal {
		return nil
	}
	plain, _ := args.UnmarkDeep()
	return lv.Leave(ctx, r, prev, plain)
}

// succeededOn is what a new record of an instance keeps of old's success
// (recorded: state has old)
// while it runs: the provider id of the host old succeeded on, if that is
// the host it runs on now (providerID). A record written before
// SucceededOn existed succeeded, if applied, on the host state had when
// this apply started. A failed run does not erase it: what the earlier
// run made is still there, and destroy must undo it.
func (a *applier) succeededOn(recorded bool, old state.Instance, providerID string) string {
	if !recorded {
		return ""
	}
	on := old.SucceededOn
	if on == "" && old.Status == state.StatusApplied {
		on = a.hostsAtStart[old.Host] // written once, before the walk
	}
	if on != providerID {
		return ""
	}
	return on
}

func (a *applier) putInstance(addr string, inst state.Instance) error {
	a.mu.Lock()
	cp := inst
	a.st.Steps[addr] = &cp
	a.mu.Unlock()
	if err := a.opt.Recorder.PutInstance(addr, inst); err != nil {
		return fmt.Errorf("recording %s: %w", addr, err)
	}
	return nil
}

// clearOutputs forgets the outputs of a destroyed cluster.
func (a *applier) clearOutputs() {
	a.mu.Lock()
	a.st.Outputs = map[string]state.Output{}
	a.mu.Unlock()
	if err := a.opt.Recorder.SetOutputs(map[string]state.Output{}); err != nil {
		a.res.Warnings = append(a.res.Warnings, err.Error())
	}
}

// recordOutputs evaluates recipe outputs with everything now known.
func (a *applier) recordOutputs() {
	if len(a.p.Loaded.Recipe.Outputs) == 0 {
		return
	}
	a.live.stepsAllDone()
	scope := a.live.scope()
	out := map[string]state.Output{}
	for _, o := range a.p.Loaded.Recipe.Outputs {
		v, diags := o.Value.Value(scope.Ctx(cty.NilVal))
		if diags.HasErrors() {
			continue
		}
		v, marks := v.UnmarkDeep()
		if !v.IsWhollyKnown() {
			continue
		}
		s := ""
		if v.Type() == cty.String {
			s = v.AsString()
		} else if b, err := ctyjson.Marshal(v, v.Type()); err == nil {
			s = string(b)
		}
		out[o.Name] = state.Output{Value: s, Sensitive: o.Sensitive || len(marks) > 0}
	}
	a.mu.Lock()
	a.st.Outputs = out
	a.mu.Unlock()
	if err := a.opt.Recorder.SetOutputs(out); err != nil {
		a.res.Warnings = append(a.res.Warnings, err.Error())
	}
}

// retryMessage is the warning of a failed attempt. A sensitive step's
// error may quote its output or its values: only the exit status is told.
func retryMessage(attempt int, err error, sensitive bool) string {
	if !sensitive {
		return fmt.Sprintf("attempt %d failed, retrying: %s", attempt, firstLine(err.Error()))
	}
	var ee *runner.ExitError
	if errors.As(err, &ee) {
		return fmt.Sprintf("attempt %d failed (exit status %d; output hidden: sensitive step), retrying", attempt, ee.Status)
	}
	return fmt.Sprintf("attempt %d failed (error hidden: sensitive step), retrying", attempt)
}

// stepCtx is what a kind's Apply learns besides its arguments: its
// instance address and the host's package cache (the apt_proxy attribute
// its provider recorded at launch, from the package_cache setting).
func stepCtx(ctx context.Context, addr string, h state.Host) context.Context {
	ctx = steps.WithInstance(ctx, addr)
	if p := h.Attrs[cloud.AttrAptProxy]; p != "" {
		ctx = steps.WithAptProxy(ctx, p)
	}
	return ctx
}

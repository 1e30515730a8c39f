package workspace

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/runner"
	"diffuser/state"
)

// Expiry: an apply given a ttl (apply --ttl, or the site file's ttl)
// records the cluster's deadline in state and hands it to every launch,
// which marks it where the provider can (docker labels, aws tags, and
// on aws an instance that ends itself then). diffuser destroy --expired
// sweeps the workspaces whose deadline has passed (Env.Expired).

// Time is the environment's clock: Now, else time.Now.
func (e *Env) Time() time.Time { return e.now() }

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// setDeadline sets the cluster's deadline for an apply: from ttl when
// given (0 removes it), else from the site's ttl, else unchanged — except
// a deadline already passed in a workspace without hosts: that was the
// deadline of a cluster destroyed since, and a new cluster does not
// inherit it (the sweep would remove it at the next command). Every
// apply with a ttl renews it from now, which is how a ttl is extended. It
// says whether state changed.
func (ws *Workspace) setDeadline(ttl *time.Duration) bool {
	d, given := ws.ttlGiven(ttl)
	switch {
	case given:
	case !ws.State.Expires.IsZero() && len(ws.State.Hosts) == 0 && !ws.State.Expires.After(ws.env.now()):
		d = 0
	default:
		return false
	}
	var deadline time.Time
	if d > 0 {
		deadline = ws.env.now().Add(d).UTC().Truncate(time.Second)
	}
	if deadline.Equal(ws.State.Expires) {
		return false
	}
	ws.State.Expires = deadline
	return true
}

// ttlGiven is the ttl an apply renews the deadline with: ttl (--ttl) when
// given, else the site file's ttl; false: neither (0 removes it).
func (ws *Workspace) ttlGiven(ttl *time.Duration) (time.Duration, bool) {
	switch {
	case ttl != nil:
		return *ttl, true
	case ws.Site != nil && ws.Site.TTL > 0:
		return ws.Site.TTL, true
	}
	return 0, false
}

// TTLAhead is the ttl this apply will give the cluster's deadline (now
// plus it, when the apply starts), for the plan to say before anything
// is applied; false when it sets none (a destroy, no ttl given, or
// --ttl 0).
func (pl *Planned) TTLAhead() (time.Duration, bool) {
	if pl.Request.Destroy {
		return 0, false
	}
	d, ok := pl.WS.ttlGiven(pl.Request.TTL)
	return d, ok && d > 0
}

// CheckDeadline refuses an apply given no ttl that launches hosts
// (creates, replaces or starts one) while the cluster is past its
// deadline: every launch is handed the deadline state holds, and on aws
// an instance given one already passed is wrong either way: its systemd
// timer, installed after its time, never fires (the machine outlives the
// deadline it is tagged with), and without systemd it shuts down, so
// terminates with its volumes, a minute after it boots. An apply that launches nothing goes on, the deadline
// kept (destroy --expired is due); a workspace without hosts starts
// without it (setDeadline).
func (pl *Planned) CheckDeadline() error {
	ws := pl.WS
	if pl.Request.Destroy || pl.Plan == nil {
		return nil
	}
	if _, given := ws.ttlGiven(pl.Request.TTL); given {
		return nil
	}
	exp := ws.State.Expires
	if exp.IsZero() || exp.After(ws.env.now()) || len(ws.State.Hosts) == 0 {
		return nil
	}
	var hosts []string
	for _, c := range pl.Plan.Changes {
		if c.Kind == "launch" && !c.GatherFacts && (c.Action == engine.Create || c.Action == engine.Replace || c.Action == engine.Start) {
			hosts = append(hosts, c.Host)
		}
	}
	if len(hosts) == 0 {
		return nil
	}
	return fmt.Errorf("workspace %s's cluster is past its deadline (%s), and this apply launches %s: each would be given that deadline "+
		"(on aws an instance given a passed deadline never ends itself, or, without systemd, terminates a minute after it boots). Give apply --ttl DURATION to set a new deadline "+
		"(--ttl 0 removes it), or remove the cluster: diffuser destroy --expired -workspace %s",
		ws.Name, exp.UTC().Format(time.RFC3339), strings.Join(hosts, ", "), ws.Name)
}

// Expired lists the workspaces whose deadline has passed, sorted by name:
// all under the data directory, or only the one named. Unknown are those
// whose state cannot be read (damaged, written by a newer diffuser,
// encrypted without the key): their deadline is not known, so they are
// neither due nor not. A named workspace that does not exist is an error.
func (e *Env) Expired(only string) (due, unknown []Info, err error) {
	list, err := e.List()
	if err != nil {
		return nil, nil, err
	}
	now := e.now()
	found := false
	for _, in := range list {
		if only != "" && in.Name != only {
			continue
		}
		found = true
		switch {
		case in.Err != nil:
			unknown = append(unknown, in)
		case !in.Expires.IsZero() && !in.Expires.After(now):
			due = append(due, in)
		}
	}
	if only != "" && !found {
		return nil, nil, fmt.Errorf("there is no workspace %s under %s (diffuser workspace list)", only, e.dataDir())
	}
	return due, unknown, nil
}

// NotExpiredError is a workspace destroy --expired listed as past its
// deadline whose state, read again under the lock, is not: an apply
// moved the deadline (Expires) or removed it (zero) in the meantime.
type NotExpiredError struct {
	Workspace string
	Expires   time.Time
}

func (e *NotExpiredError) Error() string {
	if e.Expires.IsZero() {
		return fmt.Sprintf("Workspace %s is no longer past its deadline: it has none now (an apply removed it since the workspace was listed): left as it is.", e.Workspace)
	}
	return fmt.Sprintf("Workspace %s is no longer past its deadline: it is now %s (an apply moved it since the workspace was listed): left as it is.",
		e.Workspace, e.Expires.UTC().Format(time.RFC3339))
}

// checkExpired is destroy --expired's check under the lock: the deadline
// state holds now has passed.
func (ws *Workspace) checkExpired() error {
	if exp := ws.State.Expires; exp.IsZero() || exp.After(ws.env.now()) {
		return &NotExpiredError{Workspace: ws.Name, Expires: exp}
	}
	return nil
}

// recipeArg is how a sweep names this workspace's recipe: a built-in's
// name, or the path made absolute.
func (ws *Workspace) recipeArg() string {
	if ws.Source.Builtin || ws.Source.Arg == "" {
		return ws.Loaded.Recipe.Name
	}
	abs, err := filepath.Abs(ws.Source.Arg)
	if err != nil {
		return ws.Source.Arg
	}
	return abs
}

// WorkspaceName is the workspace in names: in.Workspace, else the name of
// in.Recipe's recipe.
func (e *Env) WorkspaceName(in Inputs) (string, error) {
	if in.Workspace != "" {
		return in.Workspace, CheckName(in.Workspace)
	}
	src, _, err := resolveRecipe(in.Recipe)
	if err != nil {
		return "", err
	}
	kinds, err := e.Kinds()
	if err != nil {
		return "", err
	}
	r, diags := lang.Load(src, engine.KindSpecs(kinds))
	if diags.HasErrors() {
		return "", &DiagError{Diags: diags}
	}
	return r.Name, CheckName(r.Name)
}

// ParseTTL reads a ttl as apply --ttl takes it: a duration of 1m to 366d
// (90m, 4h, 7d), or 0 to remove the deadline.
func ParseTTL(s string) (time.Duration, error) {
	if t := strings.TrimSpace(s); t == "0" || t == "none" {
		return 0, nil
	}
	d, err := lang.ParseTTL(s)
	if err != nil {
		return 0, fmt.Errorf("%w, or 0 to remove the deadline", err)
	}
	return d, nil
}

// markDeadline hands a moved deadline to the hosts already running, where
// the provider marks it (cloud.Expirer: aws retags its instances). It
// returns one warning per host it could not mark.
func (pl *Planned) markDeadline(ctx context.Context) []string {
	e, ok := pl.Provider.(cloud.Expirer)
	if !ok {
		return nil
	}
	ws := pl.WS
	var warns []string
	for _, name := range sortedHostNames(ws.State) {
		h := ws.State.Hosts[name]
		spec := cloud.HostSpec{Cluster: ws.Cluster(), Group: h.Group, Index: h.Index, Name: h.Name,
			Hostname: lang.Hostname(h.Group, h.Index), Provider: h.Provider, Expires: ws.State.Expires}
		if err := e.Expire(ctx, spec, engine.CloudHost(h)); err != nil {
			warns = append(warns, fmt.Sprintf("marking the deadline on %s: %v", name, err))
			continue
		}
		if w := pl.moveTimer(ctx, spec, h); w != "" {
			warns = append(warns, w)
		}
	}
	return warns
}

// moveTimer runs the provider's command that moves the host's own end to
// the new deadline (cloud.DeadlineMover: aws's timer), over SSH. It
// returns a warning when that fails: state and the tag already hold the
// new deadline, so the sweep is right, but the host would end itself at
// the old one.
func (pl *Planned) moveTimer(ctx context.Context, spec cloud.HostSpec, h *state.Host) string {
	d, ok := pl.Provider.(cloud.DeadlineMover)
	if !ok || pl.Conn == nil {
		return ""
	}
	cmd := d.DeadlineCommand(spec)
	if cmd == "" {
		return ""
	}
	fail := func(format string, args ...any) string {
		return fmt.Sprintf("moving the self-termination timer of %s to the new deadline: %s; it still ends itself at the deadline it had (replace it, or see docs/expiry.md)",
			h.Name, fmt.Sprintf(format, args...))
	}
	r, err := pl.Conn.Runner(ctx, *h, nil)
	if err != nil {
		return fail("%v", err)
	}
	res, err := r.Run(ctx, cmd, runner.Options{Timeout: time.Minute})
	if err != nil {
		return fail("%v", err)
	}
	if res.Exit != 0 {
		return fail("exit %d: %s", res.Exit, strings.TrimSpace(res.Stderr))
	}
	return ""
}

func sortedHostNames(st *state.State) []string {
	out := make([]string, 0, len(st.Hosts))
	for n := range st.Hosts {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

package workspace

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/runner"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

// moverProvider retags (Expire) and hands out a command per host.
type moverProvider struct {
	cloud.Provider
	expired []string
}

func (p *moverProvider) Expire(_ context.Context, spec cloud.HostSpec, _ cloud.Host) error {
	p.expired = append(p.expired, spec.Name+"@"+spec.Expires.Format(time.RFC3339))
	return nil
}

func (p *moverProvider) DeadlineCommand(spec cloud.HostSpec) string {
	if spec.Provider == "static" {
		return ""
	}
	return "move " + spec.Name + " " + spec.Expires.Format(time.RFC3339)
}

// moverConn records the commands run per host; host "bad[0]" exits 3.
type moverConn struct{ ran map[string][]string }

type moverRunner struct {
	c    *moverConn
	host string
}

func (c *moverConn) Runner(_ context.Context, h state.Host, _ func(int, string) error) (runner.Runner, error) {
	return &moverRunner{c, h.Name}, nil
}

func (r *moverRunner) Run(_ context.Context, cmd string, _ runner.Options) (runner.Result, error) {
	r.c.ran[r.host] = append(r.c.ran[r.host], cmd)
	if r.host == "bad[0]" {
		return runner.Result{Exit: 3, Stderr: "launched without a deadline\n"}, nil
	}
	return runner.Result{}, nil
}

func (r *moverRunner) Upload(context.Context, io.Reader, string, os.FileMode) error { return nil }

// TestMoveTimer: a moved deadline retags every host and runs the
// provider's command on each host it gives one for (not the static one),
// once; a host where it fails is a warning naming it and saying it keeps
// its old end, and the others are still moved.
func TestMoveTimer(t *testing.T) {
	deadline := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	st := &state.State{Cluster: "c1", Expires: deadline, Hosts: map[string]*state.Host{
		"server[0]": {Name: "server[0]", Group: "server", Provider: "aws"},
		"bad[0]":    {Name: "bad[0]", Group: "bad", Provider: "aws"},
		"lab[0]":    {Name: "lab[0]", Group: "lab", Provider: "static"},
	}}
	prov := &moverProvider{}
	conn := &moverConn{ran: map[string][]string{}}
	pl := &Planned{WS: &Workspace{State: st}, Provider: prov, Conn: conn}
	warns := pl.markDeadline(context.Background())
	if len(prov.expired) != 3 {
		t.Errorf("retagged %v, want every host", prov.expired)
	}
	if got := conn.ran["server[0]"]; len(got) != 1 || got[0] != "move server[0] 2026-12-07T10:00:00Z" {
		t.Errorf("server[0] ran %q", got)
	}
	if got := conn.ran["lab[0]"]; len(got) != 0 {
		t.Errorf("the static host ran %q", got)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "bad[0]") || !strings.Contains(warns[0], "exit 3") || !strings.Contains(warns[0], "deadline it had") {
		t.Errorf("warnings %q, want one for bad[0]", warns)
	}
	// No connector (a plan without hosts reached): retag only.
	prov.expired, conn.ran = nil, map[string][]string{}
	pl.Conn = nil
	if warns := pl.markDeadline(context.Background()); len(warns) != 0 || len(prov.expired) != 3 {
		t.Errorf("without a connector: warnings %q, retagged %v", warns, prov.expired)
	}
}

// TestParseTTLSaysHowToRemove: a ttl refused by apply --ttl says what to
// write, and that 0 removes the deadline (0s used to be refused as "at
// least 1m" only, without the way to say none).
func TestParseTTLSaysHowToRemove(t *testing.T) {
	for _, in := range []string{"", "0s", "0d", "-0", "30s", "-1h", "367d", "-1d", "1w", "4 h", "$(reboot)", "1e9h", "9999999h", "0x10h", "nan", "7d12h"} {
		if _, err := ParseTTL(in); err == nil || !strings.HasSuffix(err.Error(), ", or 0 to remove the deadline") {
			t.Errorf("ParseTTL(%q): %v, want an error saying how to write a ttl and 0", in, err)
		}
	}
}

// TestWriteKnownHostsLeavesLinksAlone: a known_hosts.tmp planted as a link
// beside the known_hosts diffuser ssh writes is not written through (it
// used to be: os.WriteFile of the fixed name followed it).
func TestWriteKnownHostsLeavesLinksAlone(t *testing.T) {
	dir, away := t.TempDir(), t.TempDir()
	precious := filepath.Join(away, "precious")
	if err := os.WriteFile(precious, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "known_hosts")
	if err := os.Symlink(precious, path+".tmp"); err != nil {
		t.Fatal(err)
	}
	st := &state.State{Hosts: map[string]*state.Host{"server[0]": {Name: "server[0]", SSH: state.SSH{HostKey: "ssh-ed25519 AAAAC3Nza"}}}}
	if err := writeKnownHosts(path, "w", st); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(precious); string(b) != "keep\n" {
		t.Errorf("the planted link's target changed: %q", b)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "ssh-ed25519 AAAAC3Nza") {
		t.Errorf("known_hosts: %q", b)
	}
}

// launchRecorder records the deadline every launch is handed.
type launchRecorder struct {
	cloud.Factory
	launched *[]string
}

type recordingProvider struct {
	cloud.Provider
	launched *[]string
}

func (f launchRecorder) New(ctx context.Context, settings cty.Value, env cloud.Env) (cloud.Provider, error) {
	p, err := f.Factory.New(ctx, settings, env)
	return recordingProvider{p, f.launched}, err
}

func (p recordingProvider) Launch(ctx context.Context, spec cloud.HostSpec) (cloud.Host, error) {
	*p.launched = append(*p.launched, spec.Name+"@"+spec.Expires.Format(time.RFC3339))
	return p.Provider.Launch(ctx, spec)
}

// TestApplyPastDeadlineLaunches: an apply given no ttl on a cluster past
// its deadline (not yet swept: destroy --expired has not run, or aws
// instances that ended themselves are still in state) hands every launch
// the deadline state holds, which has passed. On aws such an instance
// powers itself off, which terminates it, volumes and all, as it boots
// (user data: shutdown in a minute, or a timer whose time is gone). The
// apply must not launch anything with it: it is refused, saying to give
// a ttl; with one, the new host gets the new deadline. An apply that
// launches nothing is not refused (the deadline stays: destroy --expired
// is due).
func TestApplyPastDeadlineLaunches(t *testing.T) {
	m := newMemEnv(t)
	var launched []string
	now := time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC)
	plan := func(in Inputs, ttl *time.Duration) (*Planned, error) {
		e := m.env()
		e.Now = func() time.Time { return now }
		e.Factories["sim"] = launchRecorder{e.Factories["sim"], &launched}
		return e.Plan(context.Background(), PlanRequest{Inputs: in, Command: "apply", Lock: true, TTL: ttl})
	}
	apply := func(in Inputs, ttl *time.Duration) error {
		pl, err := plan(in, ttl)
		if err != nil {
			return err
		}
		defer pl.Close()
		if !pl.Plan.HasChanges() {
			return pl.SaveUnchanged()
		}
		res, err := pl.Apply(context.Background(), ApplyOptions{})
		if err == nil && len(res.Failures) > 0 {
			err = res.Failures[0].Err
		}
		return err
	}
	hour := time.Hour
	in := m.inputs()
	in.Provider = "sim"
	if err := apply(in, &hour); err != nil {
		t.Fatal(err)
	}
	deadline := now.Add(time.Hour)
	now = now.Add(2 * time.Hour)
	launched = nil

	more := m.inputs("servers=2")
	more.Provider = "sim"
	err := apply(more, nil)
	if len(launched) != 0 {
		t.Errorf("launched %v past the deadline %s", launched, deadline.Format(time.RFC3339))
	}
	if err == nil || !strings.Contains(err.Error(), "--ttl") || !strings.Contains(err.Error(), deadline.Format(time.RFC3339)) {
		t.Fatalf("an apply launching a host past the deadline: %v; want a refusal naming the deadline and --ttl", err)
	}
	if st := m.state(); len(st.Hosts) != 2 || !st.Expires.Equal(deadline) {
		t.Errorf("after the refusal: %d hosts, deadline %s", len(st.Hosts), st.Expires)
	}
	// Nothing to launch: the apply goes on, the deadline stays.
	if err := apply(in, nil); err != nil {
		t.Errorf("an apply launching nothing past the deadline: %v", err)
	}
	// With a ttl: the new host is launched with the new deadline.
	four := 4 * time.Hour
	if err := apply(more, &four); err != nil {
		t.Fatal(err)
	}
	if want := "server[1]@" + now.Add(four).Format(time.RFC3339); len(launched) != 1 || launched[0] != want {
		t.Errorf("launched %v, want [%s]", launched, want)
	}
}

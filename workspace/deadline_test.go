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

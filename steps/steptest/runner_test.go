package steptest

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"diffuser/runner"
)

func TestRunnerAnswersInOrderAndRecords(t *testing.T) {
	r := New(
		Fact{Match: "systemctl is-active", Exit: 3, Stdout: "inactive\n", Times: 1},
		Fact{Match: "re:^systemctl is-(active|enabled)", Stdout: "active\n"},
		Fact{Match: "boom", Err: "ssh: connection lost"},
	)
	ctx := context.Background()
	var log bytes.Buffer
	first, _ := r.Run(ctx, "systemctl is-active glusterd", runner.Options{Output: &log})
	second, _ := r.Run(ctx, "systemctl is-active glusterd", runner.Options{Env: map[string]string{"A": "b"}, Timeout: time.Second})
	if first.Exit != 3 || first.Stdout != "inactive\n" || second.Exit != 0 || second.Stdout != "active\n" {
		t.Errorf("answers %+v then %+v, want inactive (3) then active (0)", first, second)
	}
	if log.String() != "inactive\n" {
		t.Errorf("Output got %q", log.String())
	}
	if _, err := r.Run(ctx, "boom now", runner.Options{}); err == nil || err.Error() != "ssh: connection lost" {
		t.Errorf("Err fact: got %v", err)
	}
	other, err := r.Run(ctx, "mkfs.xfs /dev/loop3", runner.Options{})
	if err != nil || other != (runner.Result{}) {
		t.Errorf("unmatched: got %+v, %v; want success with no output", other, err)
	}
	want := []string{"systemctl is-active glusterd", "systemctl is-active glusterd", "boom now", "mkfs.xfs /dev/loop3"}
	if got := r.Commands(); !slices.Equal(got, want) {
		t.Errorf("Commands() = %q, want %q", got, want)
	}
	if c := r.Calls()[1]; c.Env["A"] != "b" || c.Timeout != time.Second {
		t.Errorf("Calls()[1] = %+v: env and timeout not recorded", c)
	}
	if got := r.Unmatched(); !slices.Equal(got, []string{"mkfs.xfs /dev/loop3"}) {
		t.Errorf("Unmatched() = %q", got)
	}
}

func TestRunnerStrictAndUploads(t *testing.T) {
	r := New()
	r.Strict = true
	if _, err := r.Run(context.Background(), "rm -rf /", runner.Options{}); err == nil {
		t.Error("Strict runner answered an unmatched command")
	}
	if err := r.Upload(context.Background(), strings.NewReader("x = 1\n"), "/etc/x.conf", 0o600); err != nil {
		t.Fatal(err)
	}
	if got := r.Uploads(); len(got) != 1 || got[0] != (Upload{Path: "/etc/x.conf", Mode: 0o600, Content: "x = 1\n"}) {
		t.Errorf("Uploads() = %+v", got)
	}
	if _, err := New(Fact{Match: "re:("}).Run(context.Background(), "x", runner.Options{}); err == nil {
		t.Error("a bad regexp fact did not fail")
	}
}

func TestClock(t *testing.T) {
	c := NewClock()
	t0 := c.Now()
	if err := c.Sleep(context.Background(), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if c.Now().Sub(t0) != 3*time.Second || c.Slept() != 3*time.Second {
		t.Errorf("after Sleep(3s): moved %v, slept %v", c.Now().Sub(t0), c.Slept())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); err == nil || c.Slept() != 3*time.Second {
		t.Errorf("Sleep on a done context: err %v, slept %v", err, c.Slept())
	}
}

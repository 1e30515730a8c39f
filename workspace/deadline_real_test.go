package workspace_test

import (
	"strings"
	"testing"
	"time"

	"diffuser/cloud/aws"
	"diffuser/cloud/docker/dockertest"
)

// TestRealDeadlineTimer runs the aws instance's end-of-life scripts on a
// real systemd host (a node container): the user data installs the timer
// at the launch deadline; the command an extending apply runs moves it
// (systemd reports the new calendar and a next elapse at it); a ttl of 0
// cancels it, a later ttl brings it back; a host launched without a
// deadline is refused with exit 3.
func TestRealDeadlineTimer(t *testing.T) {
	c := dockertest.Launch(t, 1)
	// systemd boots while the test starts: wait for it, as an instance's
	// cloud-init runs once the system is up.
	c.MustExec(t, 0, "for i in $(seq 1 120); do systemctl is-system-running --wait >/dev/null 2>&1 && exit 0; systemctl is-system-running 2>/dev/null | grep -q degraded && exit 0; sleep 0.5; done; exit 1")
	calendar := func() (string, string) {
		out := c.MustExec(t, 0, "systemctl show diffuser-expire.timer -p TimersCalendar --value; systemctl is-active diffuser-expire.timer || true")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[0], lines[len(lines)-1]
	}
	if out, err := c.Exec(0, aws.MoveDeadlineCommand(time.Now().Add(time.Hour))); err == nil || !strings.Contains(out, "launched without a deadline") {
		t.Fatalf("moving the timer of a host launched without one: %v %q", err, out)
	}
	d1 := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	c.MustExec(t, 0, aws.ExpireUserData(d1))
	if cal, state := calendar(); !strings.Contains(cal, d1.Format("2006-01-02 15:04:05")) || state != "active" {
		t.Fatalf("after launch: calendar %q, %s; want %s, active", cal, state, d1)
	}
	d2 := d1.Add(5 * time.Hour)
	c.MustExec(t, 0, aws.MoveDeadlineCommand(d2))
	if cal, state := calendar(); !strings.Contains(cal, d2.Format("2006-01-02 15:04:05")) || strings.Contains(cal, d1.Format("15:04:05")) || state != "active" {
		t.Fatalf("after extending: calendar %q, %s; want %s, active", cal, state, d2)
	}
	if got := strings.TrimSpace(c.MustExec(t, 0, "cat /etc/diffuser/expires")); got != d2.Format(time.RFC3339) {
		t.Errorf("marker %q, want %s", got, d2.Format(time.RFC3339))
	}
	next := strings.TrimSpace(c.MustExec(t, 0, "systemctl show diffuser-expire.timer -p NextElapseUSecRealtime --value"))
	if next == "" || next == "n/a" {
		t.Errorf("the moved timer has no next elapse: %q", next)
	}
	c.MustExec(t, 0, aws.MoveDeadlineCommand(time.Time{}))
	if _, state := calendar(); state == "active" {
		t.Fatal("ttl 0: the timer is still active")
	}
	d3 := d1.Add(24 * time.Hour)
	c.MustExec(t, 0, aws.MoveDeadlineCommand(d3))
	if cal, state := calendar(); !strings.Contains(cal, d3.Format("2006-01-02 15:04:05")) || state != "active" {
		t.Fatalf("a ttl again after 0: calendar %q, %s", cal, state)
	}
}

// TestRealDeadlinePassedAtBoot: the user data runs when the instance has
// booted, which can be after the deadline (a ttl of a minute or two, a
// slow boot, a clock that runs ahead). systemd never fires a calendar
// timer installed after its time (next elapse: none), so the instance
// ran on for ever, tagged with a deadline long gone. The user data must
// end it then, as the fallback without systemd does (shutdown in a
// minute). The poweroff is replaced by a marker file, so that the
// container survives to be looked at.
func TestRealDeadlinePassedAtBoot(t *testing.T) {
	c := dockertest.Launch(t, 1)
	c.MustExec(t, 0, "for i in $(seq 1 120); do systemctl is-system-running --wait >/dev/null 2>&1 && exit 0; systemctl is-system-running 2>/dev/null | grep -q degraded && exit 0; sleep 0.5; done; exit 1")
	ud := aws.ExpireUserData(time.Now().Add(-30 * time.Second))
	marked := strings.Replace(ud, "'ExecStart=/bin/systemctl poweroff'", "'ExecStart=/bin/touch /root/ended'", 1)
	if marked == ud {
		t.Fatal("the user data no longer powers off with ExecStart=/bin/systemctl poweroff: update the test")
	}
	c.MustExec(t, 0, marked)
	out, err := c.Exec(0, "for i in $(seq 1 20); do [ -e /root/ended ] && exit 0; sleep 0.5; done; systemctl show diffuser-expire.timer -p TimersCalendar -p NextElapseUSecRealtime; exit 1")
	if err != nil {
		t.Fatalf("a host whose user data ran after its deadline was not ended: %v\n%s", err, out)
	}
}

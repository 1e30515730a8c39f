package aws

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMoveDeadlineCommand: the command parses as sh, names the new
// deadline in the timer and the marker, cancels for a zero deadline, and
// refuses an instance launched without one.
func TestMoveDeadlineCommand(t *testing.T) {
	d := time.Date(2026, 12, 7, 10, 30, 0, 0, time.FixedZone("x", 3600))
	for _, c := range []struct {
		deadline time.Time
		want     []string
		not      []string
	}{
		{d, []string{"OnCalendar=2026-12-07 09:30:00 UTC", "echo 2026-12-07T09:30:00Z > /etc/diffuser/expires", "systemctl restart diffuser-expire.timer", "deadline=1796635800", "exit 3"}, []string{"disable"}},
		{time.Time{}, []string{"echo none > /etc/diffuser/expires", "systemctl disable --now diffuser-expire.timer", "shutdown -c", "exit 3"}, []string{"OnCalendar", "shutdown -h"}},
	} {
		cmd := MoveDeadlineCommand(c.deadline)
		for _, w := range c.want {
			if !strings.Contains(cmd, w) {
				t.Errorf("%v: command lacks %q:\n%s", c.deadline, w, cmd)
			}
		}
		for _, w := range c.not {
			if strings.Contains(cmd, w) {
				t.Errorf("%v: command has %q:\n%s", c.deadline, w, cmd)
			}
		}
		if out, err := exec.Command("sh", "-n", "-c", cmd).CombinedOutput(); err != nil {
			t.Errorf("%v: not valid sh: %v %s", c.deadline, err, out)
		}
	}
}

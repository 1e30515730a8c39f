package aws

import (
	"fmt"
	"time"

	"diffuser/cloud"
)

// Moving a running instance's end. The user data (ExpireUserData) runs
// once, at the first boot, so an apply that extends the ttl also moves the
// timer on the instance itself: the workspace runs DeadlineCommand over SSH
// on every instance after retagging it (Expire).

var _ cloud.DeadlineMover = (*Provider)(nil)

// DeadlineCommand implements cloud.DeadlineMover.
func (p *Provider) DeadlineCommand(spec cloud.HostSpec) string {
	return MoveDeadlineCommand(spec.Expires)
}

// MoveDeadlineCommand is the shell command that moves an instance's end to
// deadline, or cancels it (zero deadline). It holds no value from a user.
// An instance launched without a deadline has no timer and was launched
// with shutdown behaviour stop, so it is not given one: the command fails
// (exit 3) saying to replace the host. The marker /etc/diffuser/expires
// says which deadline is in force ("none" once cancelled).
func MoveDeadlineCommand(deadline time.Time) string {
	head := `[ -f /etc/diffuser/expires ] || { echo "this instance was launched without a deadline: it has no timer to move (replace it to give it one)" >&2; exit 3; }
`
	if deadline.IsZero() {
		return head + `echo none > /etc/diffuser/expires
if [ -f /etc/systemd/system/diffuser-expire.timer ]; then
  systemctl disable --now diffuser-expire.timer
  exit $?
fi
shutdown -c 2>/dev/null || true
`
	}
	deadline = deadline.UTC()
	return head + fmt.Sprintf(`deadline=%d
echo %s > /etc/diffuser/expires
if [ -f /etc/systemd/system/diffuser-expire.timer ]; then
  printf '%%s\n' '[Unit]' 'Description=diffuser: cluster deadline' '[Timer]' 'OnCalendar=%s' \
    'Persistent=true' 'AccuracySec=1s' '[Install]' 'WantedBy=timers.target' > /etc/systemd/system/diffuser-expire.timer
  systemctl daemon-reload && systemctl enable diffuser-expire.timer && systemctl restart diffuser-expire.timer
  exit $?
fi
shutdown -c 2>/dev/null || true
left=$(( (deadline - $(date +%%s) + 59) / 60 ))
[ "$left" -lt 1 ] && left=1
shutdown -h +"$left" "diffuser: cluster deadline reached"
`, deadline.Unix(), deadline.Format(time.RFC3339), deadline.Format("2006-01-02 15:04:05 UTC"))
}

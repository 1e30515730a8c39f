package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Holder says who holds the workspace lock. It is written into the lock
// file once the lock is taken, so that a second run can name it.
type Holder struct {
	PID      int       `json:"pid"`
	User     string    `json:"user"`
	Hostname string    `json:"hostname"`
	Command  string    `json:"command"` // e.g. "diffuser apply glusterfs"
	Since    time.Time `json:"since"`
	// ProcStart tells this process apart from a later one given the same
	// pid (Linux: its start time in clock ticks after boot); empty where
	// unknown.
	ProcStart string `json:"proc_start,omitempty"`
	// ID names one taking of a lock that outlives its holder (an object
	// store's lock object): state unlock -force ID removes that lock and no
	// other. Empty for a flock(2) lock.
	ID string `json:"id,omitempty"`
}

// CurrentHolder describes this process running command. Lock fills in the
// same way any field left zero.
func CurrentHolder(command string) Holder {
	return Holder{Command: command}.complete()
}

func (h Holder) complete() Holder {
	if h.PID == 0 {
		h.PID = os.Getpid()
		h.ProcStart = procStart(h.PID)
	}
	if h.User == "" {
		h.User = currentUser()
	}
	if h.Hostname == "" {
		h.Hostname, _ = os.Hostname()
	}
	if h.Command == "" {
		h.Command = strings.Join(os.Args, " ")
	}
	if h.Since.IsZero() {
		h.Since = time.Now()
	}
	return h
}

// String reads like `pid 4242 (alice@build1) running "diffuser apply
// glusterfs" since 2025-06-01T10:00:00+02:00 (3m12s ago)`.
func (h Holder) String() string {
	s := fmt.Sprintf("pid %d (%s@%s) running %q since %s (%s ago)",
		h.PID, h.User, h.Hostname, h.Command,
		h.Since.Local().Format(time.RFC3339), time.Since(h.Since).Round(time.Second))
	if h.ID != "" {
		s += ", lock id " + h.ID
	}
	return s
}

// Alive tells whether the holder process still runs. known is false when
// that cannot be told from here: the holder ran on another host.
func (h Holder) Alive() (alive, known bool) {
	host, _ := os.Hostname()
	if h.PID <= 0 || h.Hostname == "" || h.Hostname != host {
		return false, false
	}
	if err := unix.Kill(h.PID, 0); errors.Is(err, unix.ESRCH) {
		return false, true
	}
	// The pid exists (EPERM too: it belongs to another user). Is it still
	// the same process?
	if h.ProcStart != "" {
		if now := procStart(h.PID); now != "" && now != h.ProcStart {
			return false, true
		}
	}
	return true, true
}

// Stale reports whether the holder is known to be gone: it ran on this host
// and its process no longer exists.
func (h Holder) Stale() bool {
	alive, known := h.Alive()
	return known && !alive
}

// procStart returns the start time of process pid from /proc, or "" where
// there is no /proc.
func procStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// fields are counted after its closing parenthesis. starttime is 22.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(string(b[i+1:]))
	const starttime = 22 - 3 // fields[0] is field 3 (state)
	if len(fields) <= starttime {
		return ""
	}
	return fields[starttime]
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return strconv.Itoa(os.Getuid())
}

// Complete fills in the fields left zero for this process, as Lock does.
func (h Holder) Complete() Holder { return h.complete() }

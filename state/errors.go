package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"diffuser/internal/strictjson"
)

// ErrNotLocked is returned by writes (Save, Record, Recorder methods) when
// this Store does not hold the workspace lock.
var ErrNotLocked = errors.New("state is not locked by this process: call Lock first")

// ErrChanged is returned by writes when the files on disk are no longer the
// ones this Store loaded (another process wrote them, or they were replaced
// by hand). Load again before writing.
var ErrChanged = errors.New("state changed on disk since it was loaded")

// CorruptError is a state or journal file that cannot be read. Line and
// Column (1-based, columns in characters) locate the problem when it is
// known and are 0 otherwise. Hint says what the operator can do about it.
type CorruptError struct {
	File   string
	Line   int
	Column int
	Err    error
	Hint   string
}

func (e *CorruptError) Error() string {
	var b bytes.Buffer
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *CorruptError) Unwrap() error { return e.Err }

// ForeignError is a state file of another workspace's cluster (see
// WithClusterPrefix).
type ForeignError struct {
	File    string
	Cluster string // the cluster the file records
	Prefix  string // how this workspace's cluster names start
}

func (e *ForeignError) Error() string {
	return fmt.Sprintf("%s records cluster %s, which is not this workspace's (its cluster is named %s...): the file was copied here from another workspace, "+
		"and commands here would change or destroy that workspace's machines. Move it back to the workspace it came from; "+
		"if this workspace's directory was renamed, give it back its old name", e.File, e.Cluster, e.Prefix)
}

// VersionError is a file written with a schema newer than this build reads.
// It is never misread or rewritten: the operator has to upgrade diffuser.
type VersionError struct {
	File      string
	Found     int // version in the file
	Supported int // highest version this build reads
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("%s has schema version %d, written by a newer diffuser; this diffuser reads versions up to %d: upgrade diffuser (and do not edit the file)",
		e.File, e.Found, e.Supported)
}

// LineageError is an attempt to combine two different states: writing a
// state over a file of another lineage, or replaying a journal recorded for
// another lineage. Lineages never change, so this is always a mix-up of
// files (a state.json copied from another workspace, say), never a race.
type LineageError struct {
	File string // the file on disk
	Disk string // lineage of the file on disk
	Have string // lineage of the state being written or replayed onto
	Hint string // what to do, when known
}

func (e *LineageError) Error() string {
	msg := fmt.Sprintf("%s belongs to state lineage %s but the state in hand is lineage %s: they are different states (was a file copied from another workspace?); refusing to mix them",
		e.File, e.Disk, e.Have)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// LockedError is returned by Lock when another process holds the workspace
// lock, and by BreakLock when the lock is not provably stale.
type LockedError struct {
	Path   string // the lock file
	Holder Holder // zero when the lock file names no holder yet
	// Stale is set only for the fallback lock (filesystems without flock):
	// the holder ran on this host and is no longer running. BreakLock
	// removes such a lock. A flock lock is never stale: the kernel frees it
	// when its holder dies.
	Stale bool
	// Reason, when set, says why BreakLock left the lock alone.
	Reason string
	// Waited is how long Lock waited for the holder before giving up
	// (WithLockWait); zero when it did not wait.
	Waited time.Duration
}

func (e *LockedError) Error() string {
	who := "an unknown holder (the lock file names nobody yet)"
	if e.Holder.PID != 0 {
		who = e.Holder.String()
	}
	msg := fmt.Sprintf("state is locked by %s (lock file %s)", who, e.Path)
	if e.Waited > 0 {
		msg = fmt.Sprintf("state is still locked after waiting %s, by %s (lock file %s)", e.Waited.Round(time.Millisecond), who, e.Path)
	}
	switch {
	case e.Reason != "":
		msg += ": " + e.Reason
	case e.Stale:
		msg += ": that process is no longer running, so the lock is stale and may be broken"
	case e.Waited > 0:
		msg += ": wait for it to finish, or wait longer (a larger -lock-timeout)"
	default:
		msg += ": wait for it to finish, or give a lock timeout to wait for it (-lock-timeout 10m)"
	}
	return msg
}

// Is makes errors.Is(err, ErrLocked) true for every *LockedError.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// ErrLocked matches any *LockedError with errors.Is.
var ErrLocked = errors.New("state is locked")

// corruptAt turns a json error over data into a CorruptError located at
// line:column when the error carries an offset.
func corruptAt(file string, data []byte, err error, lineBase int, hint string) *CorruptError {
	e := &CorruptError{File: file, Err: err, Hint: hint}
	off, ok := errorOffset(data, err)
	if ok {
		e.Line, e.Column = strictjson.Position(data, off)
		e.Line += lineBase
	}
	if ok && off == 0 && bytes.HasPrefix(data, utf8BOM) {
		e.Err = fmt.Errorf("starts with a UTF-8 byte order mark (bytes EF BB BF), which diffuser never writes: an editor added it; "+
			"remove those three bytes (save the file as UTF-8 without a BOM) [%w]", err)
	}
	return e
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// errorOffset finds the byte offset in data where err happened: the
// key given twice or the bad string strictjson refused, the offending
// character of a syntax error, the start of the value of a type
// error, the quoted value of a bad timestamp.
func errorOffset(data []byte, err error) (int, bool) {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	var de *strictjson.Error
	switch {
	case errors.As(err, &de):
		return clamp(de.Offset, len(data)), true
	case errors.As(err, &se):
		if se.Offset >= int64(len(data)) && strings.HasPrefix(se.Error(), "unexpected end") {
			return len(data), true // the place where more was expected
		}
		// Offset counts the bytes read, the offending one included.
		return clamp(int(se.Offset)-1, len(data)), true
	case errors.As(err, &te):
		return valueStart(data, clamp(int(te.Offset), len(data))), true
	case errors.As(err, &pe):
		quoted, _ := json.Marshal(pe.Value)
		if i := bytes.Index(data, quoted); i >= 0 {
			return i, true
		}
	}
	return 0, false
}

// valueStart walks back from end, the offset json reports just past a
// mistyped scalar (or just past the opening bracket of a mistyped object or
// array), to the first byte of that value.
func valueStart(data []byte, end int) int {
	if end == 0 {
		return 0
	}
	i := end - 1
	switch c := data[i]; {
	case c == '{' || c == '[':
		return i
	case c == '"':
		for j := i - 1; j >= 0; j-- {
			if data[j] != '"' {
				continue
			}
			k := j - 1
			for k >= 0 && data[k] == '\\' {
				k--
			}
			if (j-k-1)%2 == 0 { // not escaped
				return j
			}
		}
		return i
	default:
		for i > 0 && isLiteralByte(data[i-1]) {
			i--
		}
		return i
	}
}

func isLiteralByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+'
}

func clamp(n, hi int) int {
	if n < 0 {
		return 0
	}
	if n > hi {
		return hi
	}
	return n
}

package probe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/runner"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

// Check is one line of a verify report.
type Check struct {
	Verify   string
	Name     string
	Host     string
	OK       bool
	Detail   string
	Duration time.Duration
}

// VerifyOptions steer Verify.
type VerifyOptions struct {
	Connector engine.Connector
	SizeMiB   int // size of the test file (default 4)
	Timeout   time.Duration
}

// Verify runs the recipe's verify blocks against the applied cluster. An s3
// block is checked from here through its endpoints (verifyS3). Otherwise a file
// of random bytes is written through the filesystem on the first host of
// `on`, read back on every other host (or on the same host after dropping
// caches when there is only one), and compared by SHA-256. With a failover
// block, a second file is written, a daemon is stopped on one host, the
// second file is read (for the first time, with O_DIRECT: see failover.go)
// on the first reader, the filesystem is asked which servers hold it, and
// the daemon is started again whatever happened.
func Verify(ctx context.Context, l *engine.Loaded, st *state.State, opt VerifyOptions) ([]Check, error) {
	if opt.SizeMiB <= 0 {
		opt.SizeMiB = 4
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 3 * time.Minute
	}
	scope := l.StateScope(st)
	var out []Check
	for _, v := range l.Recipe.Verifies {
		on, diags := scope.VerifyEnabled(v)
		if diags.HasErrors() {
			return out, fmt.Errorf("verify %s: %s", v.Name, lang.DiagText(diags))
		}
		if !on {
			continue // enabled = false: an optional part the recipe does not deploy
		}
		if v.S3 != nil {
			out = append(out, verifyS3(ctx, scope, v, opt)...)
			continue
		}
		hosts, diags := scope.VerifyHosts(v, v.On)
		if diags.HasErrors() {
			return out, fmt.Errorf("verify %s: %s", v.Name, lang.DiagText(diags))
		}
		pv, diags := v.Path.Value(scope.VerifyCtx(v))
		if diags.HasErrors() || pv.Type() != cty.String || !pv.IsKnown() {
			return out, fmt.Errorf("verify %s: path must be a known string", v.Name)
		}
		out = append(out, verifyOne(ctx, st, scope, v, hosts, pv.AsString(), opt)...)
	}
	return out, nil
}

func randomName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return ".diffuser-verify-" + hex.EncodeToString(b)
}

func verifyOne(ctx context.Context, st *state.State, scope *lang.Scope, v *lang.Verify, hosts []string, dir string, opt VerifyOptions) []Check {
	var out []Check
	run := func(name, host, cmd string) (string, bool) {
		start := time.Now()
		c := Check{Verify: v.Name, Name: name, Host: host}
		defer func() { c.Duration = time.Since(start); out = append(out, c) }()
		cctx, cancel := context.WithTimeout(ctx, opt.Timeout)
		defer cancel()
		r, why := connectClient(cctx, opt.Connector, st, host)
		if why != "" {
			c.Detail = why
			return "", false
		}
		res, err := r.Run(cctx, cmd, runner.Options{Timeout: opt.Timeout})
		switch {
		case err != nil:
			c.Detail = err.Error()
		case res.Exit != 0:
			c.Detail = fmt.Sprintf("exit status %d: %s", res.Exit, strings.TrimSpace(runner.LastLines(res.Stdout+res.Stderr, 3)))
		default:
			c.OK = true
			c.Detail = strings.TrimSpace(res.Stdout)
			return c.Detail, true
		}
		return "", false
	}
	if len(hosts) == 0 {
		return []Check{{Verify: v.Name, Name: "hosts", Detail: "verify runs on no hosts"}}
	}
	file := strings.TrimRight(dir, "/") + "/" + randomName()
	q := lang.ShellQuote(file)
	writer := hosts[0]
	sum, ok := run("write", writer, writeCmd(file, opt.SizeMiB))
	if !ok {
		return out
	}
	out[len(out)-1].Detail = fmt.Sprintf("%d MiB, sha256 %s…", opt.SizeMiB, short(sum))
	readers := hosts[1:]
	// A file that is not there is said so, not hashed as empty: the path
	// is then not one filesystem that the hosts share.
	readCmd := "sha256sum < " + q + " | cut -d' ' -f1; [ -e " + q + " ] || { echo " +
		lang.ShellQuote("the file written on "+writer+" is not here: is the verify path on a filesystem that every host of on mounts?") + " >&2; exit 1; }"
	if len(readers) == 0 {
		readers = []string{writer}
		readCmd = "sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; " + readCmd
	}
	compare := func(name, host string) {
		got, ok := run(name, host, readCmd)
		if ok && got != sum {
			c := &out[len(out)-1]
			c.OK = false
			c.Detail = fmt.Sprintf("checksum mismatch: wrote %s…, read %s…", short(sum), short(got))
		} else if ok {
			out[len(out)-1].Detail = "sha256 matches"
		}
	}
	for _, h := range readers {
		compare("read", h)
	}
	cleanup := "rm -f " + q
	if f := v.Failover; f != nil {
		fh, diags := scope.VerifyHosts(v, f.On)
		stop, d1 := f.Stop.Value(scope.VerifyCtx(v))
		start, d2 := f.Start.Value(scope.VerifyCtx(v))
		switch {
		case !diags.HasErrors() && len(fh) == 0:
			// on names no hosts (a layout with nothing to stop, such as
			// one without copies): no failover, nothing stopped.
		case diags.HasErrors() || d1.HasErrors() || d2.HasErrors() || stop.Type() != cty.String || start.Type() != cty.String:
			out = append(out, Check{Verify: v.Name, Name: "failover", Detail: "failover block does not evaluate: " + lang.DiagText(append(append(diags, d1...), d2...))})
		default:
			fo := failover{dir: dir, file: file + "-cold", writer: writer, reader: readers[0], stopped: fh[0],
				stop: stop.AsString(), start: start.AsString(), sizeMiB: opt.SizeMiB, hosts: st.Hosts}
			fo.run(run, func() *Check { return &out[len(out)-1] })
			cleanup += " " + lang.ShellQuote(fo.file)
		}
	}
	run("cleanup", writer, cleanup)
	return out
}

// writeCmd writes sizeMiB of random bytes to file (through a temporary
// name, so a reader never sees half of it), syncs, and prints its SHA-256.
func writeCmd(file string, sizeMiB int) string {
	q := lang.ShellQuote(file)
	return fmt.Sprintf("set -e; head -c %d /dev/urandom > %s.tmp && mv %s.tmp %s && sync && sha256sum < %s | cut -d' ' -f1",
		sizeMiB<<20, q, q, q, q)
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

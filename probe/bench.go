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
)

// BenchOptions steer Bench.
type BenchOptions struct {
	Connector engine.Connector
	// Bytes is what each client writes and then reads, split evenly among
	// its Threads (rounded down to whole MiB per thread, at least 1 MiB).
	Bytes   int64
	Threads int
	// Tool is "auto" (fio when the host has it, else dd), "fio" or "dd".
	Tool string
	// InstallFio installs fio (apt-get, dnf or yum) on a client that lacks
	// it before choosing the tool; a failed install is the client's error
	// when Tool is "fio", else it falls back to dd.
	InstallFio bool
	Timeout    time.Duration // per client and phase (default 30m)
	// KeepCaches skips dropping the page cache before reads (it is
	// host-wide: on containers, the whole machine's); reads then avoid the
	// cache with O_DIRECT where the filesystem allows it.
	KeepCaches bool
}

// BenchPhase is one measured phase (write or read) on one client, or
// summed over all clients.
type BenchPhase struct {
	Bytes    int64
	Duration time.Duration
}

// MBps is the throughput in megabytes (10^6 bytes) per second, as dd and
// fio print it; 0 when nothing was measured.
func (p BenchPhase) MBps() float64 {
	if p.Duration <= 0 || p.Bytes <= 0 {
		return 0
	}
	return float64(p.Bytes) / 1e6 / p.Duration.Seconds()
}

// BenchClient is one client's measurement.
type BenchClient struct {
	Verify   string // the verify block the client comes from
	Host     string
	Path     string
	FSType   string // as findmnt reports it for Path; "" when unknown
	Tool     string // "fio" or "dd"
	ReadMode string // how reads avoided this client's page cache
	Write    BenchPhase
	Read     BenchPhase
	Err      string // why the measurement is missing or incomplete
	Note     string // why the tool is not the one asked for
}

// BenchReport is a whole run. The aggregate phases divide every client's
// bytes by the phase's wall time (first start to last finish): all clients
// write at once, then all read at once.
type BenchReport struct {
	Clients     []BenchClient
	Write, Read BenchPhase
	PerThread   int64 // bytes each thread wrote and read
	Threads     int
}

// benchMarker starts the line a bench script prints when it is done.
const benchMarker = "diffuser-bench "

// Bench measures the mounted filesystem like an operator would by hand: on
// every client of the recipe's verify blocks (the hosts of `on`, at `path`)
// at once, Threads parallel sequential writers of Bytes/Threads each,
// flushed to stable storage before the clock stops (fio --end_fsync=1, or
// dd conv=fdatasync); then, at once again, parallel readers of the same
// amount. Reads avoid the reader's page cache: when a verify block has
// more than one client each reads the files another client wrote; the
// page cache is also dropped where the host allows it (unless
// KeepCaches), else dd reads with iflag=direct (fio invalidates the
// files' cache itself). Every client's
// files are removed at the end, whatever happened.
func Bench(ctx context.Context, l *engine.Loaded, st *state.State, opt BenchOptions) (*BenchReport, error) {
	if opt.Threads <= 0 {
		opt.Threads = 4
	}
	if opt.Bytes <= 0 {
		opt.Bytes = 1 << 30
	}
	if opt.Tool == "" {
		opt.Tool = "auto"
	}
	if opt.Tool != "auto" && opt.Tool != "fio" && opt.Tool != "dd" {
		return nil, fmt.Errorf("unknown bench tool %q: use auto, fio or dd", opt.Tool)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Minute
	}
	mib := opt.Bytes / int64(opt.Threads) >> 20
	if mib < 1 {
		mib = 1
	}
	rep := &BenchReport{PerThread: mib << 20, Threads: opt.Threads}

	type client struct {
		BenchClient
		runner runner.Runner
		dir    string // this client's directory of test files
		base   string // the run's directory under Path
		peer   int    // index of the client whose files this one reads
		// readDir is where this client reads from; readFrom names the
		// client that wrote it when that is not this one.
		readDir, readFrom string
		dropped           bool // the page cache was dropped before the reads
	}
	ts, err := verifyTargets(l, st)
	if err != nil {
		return nil, err
	}
	var cs []*client
	run := randomHex()
	// Each client's peer is the next client of the same verify block.
	for i, t := range ts {
		first, n := i, 0
		for first > 0 && ts[first-1].verify == t.verify {
			first--
		}
		for j := first; j < len(ts) && ts[j].verify == t.verify; j++ {
			n++
		}
		base := strings.TrimRight(t.path, "/") + "/.diffuser-bench-" + run
		cs = append(cs, &client{BenchClient: BenchClient{Verify: t.verify, Host: t.host, Path: t.path},
			base: base, dir: base + "/" + benchSlug(t.host), peer: first + (i-first+1)%n})
	}

	// each runs f on every client still in the running, concurrently.
	each := func(f func(c *client)) { eachLive(cs, func(c *client) bool { return c.Err == "" }, f) }
	exec := func(c *client, cmd string) (string, error) {
		return execWithin(ctx, c.runner, cmd, opt.Timeout)
	}

	// Connect and look: fio present, the filesystem type, writable.
	each(func(c *client) {
		if c.runner, c.Err = connectClient(ctx, opt.Connector, st, c.Host); c.Err != "" {
			return
		}
		if opt.InstallFio && opt.Tool != "dd" {
			if _, err := exec(c, installFioScript); err != nil && opt.Tool == "fio" {
				c.Err = "installing fio: " + err.Error()
				return
			}
		}
		out, err := exec(c, probeScript(c.Path))
		if err != nil {
			c.Err = "probe: " + err.Error()
			return
		}
		f := markerFields(out)
		c.FSType = fsType(f["fstype"])
		switch {
		case f["writable"] != "yes":
			c.Err = c.Path + " is not a writable directory"
		case opt.Tool == "fio" && f["fio"] != "yes":
			c.Err = "fio is not installed on this host"
		case opt.Tool == "fio" || opt.Tool == "auto" && f["fio"] == "yes":
			c.Tool = "fio"
		default:
			c.Tool = "dd"
		}
		// fio's psync writes, fsync and cache invalidation are not what
		// every FUSE filesystem supports (GVfs's, for one): try them on
		// 1 MiB first, and with auto fall back to dd where they fail.
		if c.Err == "" && c.Tool == "fio" {
			if _, err := execWithin(ctx, c.runner, fioTrialScript(c.dir+"/trial"), min(opt.Timeout, fioTrialTimeout)); err != nil {
				why := fioError(err)
				if opt.Tool == "fio" {
					c.Err = "fio does not work here: " + why
					return
				}
				c.Tool, c.Note = "dd", "fio failed on this filesystem ("+why+"): dd"
			}
		}
	})

	// phase runs one script per client at once and records its timing.
	phase := func(name string, script func(c *client) string, set func(c *client, p BenchPhase, mode string)) BenchPhase {
		var span wallSpan
		each(func(c *client) {
			start := time.Now()
			f, took, why := timedRun(ctx, c.runner, name, script(c), opt.Timeout)
			end := time.Now()
			if why != "" {
				c.Err = why
				return
			}
			bytes := rep.PerThread * int64(opt.Threads)
			set(c, BenchPhase{Bytes: bytes, Duration: took}, f["mode"])
			span.add(start, end, bytes)
		})
		return BenchPhase{Bytes: span.total, Duration: span.wall()}
	}
	rep.Write = phase("write", func(c *client) string {
		return writeScript(c.Tool, c.dir, opt.Threads, mib)
	}, func(c *client, p BenchPhase, _ string) { c.Write = p })
	// Each client reads files another client of its verify block wrote
	// (its own when it is alone or that client's write failed).
	for _, c := range cs {
		c.readDir, c.readFrom = c.dir, ""
		if p := cs[c.peer]; p != c && p.Err == "" && p.Host != c.Host {
			c.readDir, c.readFrom = p.dir, p.Host
		}
	}
	// Flush and drop the page cache before the reads, on every client,
	// apart from the timed phase: the sync also writes out what the
	// writes left dirty anywhere on a host that containers share, which
	// is no part of reading.
	if !opt.KeepCaches {
		each(func(c *client) {
			if out, err := exec(c, dropCachesScript); err == nil {
				c.dropped = markerFields(out)["mode"] == "dropcaches"
			}
		})
	}
	rep.Read = phase("read", func(c *client) string {
		return readScript(c.Tool, c.readDir, opt.Threads, mib, c.dropped)
	}, func(c *client, p BenchPhase, mode string) {
		c.Read = p
		c.ReadMode = readModeText(c.Tool, mode)
		if c.readFrom != "" {
			c.ReadMode = "files written by " + c.readFrom + ", " + c.ReadMode
		}
	})

	dirs := make([]workDir, 0, len(cs))
	for _, c := range cs {
		dirs = append(dirs, workDir{c.runner, c.dir, c.base})
	}
	removeWorkDirs(ctx, 2*time.Minute, dirs)
	for _, c := range cs {
		rep.Clients = append(rep.Clients, c.BenchClient)
	}
	return rep, ctx.Err()
}

// fioTrialTimeout bounds the 1 MiB fio trial: a filesystem on which fio
// hangs (rather than fails) falls back to dd after it.
const fioTrialTimeout = 3 * time.Minute

// execWithin runs cmd on r within timeout; a non-zero exit is an error
// with the last lines of its output.
func execWithin(ctx context.Context, r runner.Runner, cmd string, timeout time.Duration) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := r.Run(cctx, cmd, runner.Options{Timeout: timeout})
	if err != nil {
		return "", err
	}
	if res.Exit != 0 {
		return "", fmt.Errorf("exit status %d: %s", res.Exit, strings.TrimSpace(runner.LastLines(res.Stdout+res.Stderr, 3)))
	}
	return res.Stdout, nil
}

func randomHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// benchSlug makes a host name a file name: server[1] → server-1.
func benchSlug(host string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, host), "-")
}

// markerFields parses the key=value words of the last marker line in out.
func markerFields(out string) map[string]string {
	f := map[string]string{}
	lines := strings.Split(out, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), strings.TrimSpace(benchMarker)); ok {
			for _, w := range strings.Fields(rest) {
				if k, v, ok := strings.Cut(w, "="); ok {
					f[k] = v
				}
			}
			break
		}
	}
	return f
}

// installFioScript installs fio with the host's package manager when it
// is missing; apt-get refreshes its lists only when the first try fails.
const installFioScript = `command -v fio >/dev/null 2>&1 && exit 0
s=; [ "$(id -u)" = 0 ] || s="sudo -n"
if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  $s apt-get install -y -q fio >/dev/null 2>&1 || { $s apt-get update -q >/dev/null 2>&1; $s apt-get install -y -q fio >/dev/null; }
elif command -v dnf >/dev/null 2>&1; then $s dnf install -y -q fio >/dev/null
elif command -v yum >/dev/null 2>&1; then $s yum install -y -q fio >/dev/null
else echo "no apt-get, dnf or yum to install fio with" >&2; exit 1
fi
command -v fio >/dev/null 2>&1`

// fioTrialScript writes and reads back 1 MiB with the options the
// measurement uses, in dir, and removes it.
func fioTrialScript(dir string) string {
	q := lang.ShellQuote(dir)
	return "set -u\nmkdir -p " + q + " || exit 1\nrc=0\n" +
		fioRun("fio --name=trial --directory="+q+" --rw=write --bs=1M --size=1M --numjobs=1 --ioengine=psync --end_fsync=1") + "\n" +
		"if [ $rc = 0 ]; then\n" + fioRun("fio --name=trial --directory="+q+" --rw=read --bs=1M --size=1M --numjobs=1 --ioengine=psync --invalidate=1") + "\nfi\n" +
		"rm -rf " + q + "\nexit $rc"
}

// fioRun runs a fio command line with its output in a temporary file
// (the caller sets rc=0 first); when it fails it sets rc=1 and prints fio's own error lines ("fio: ...",
// "err=...") to stderr, not the summary that ends its output.
func fioRun(cmd string) string {
	return `log=$(mktemp)
if ! ` + cmd + ` >"$log" 2>&1; then rc=1; grep -E 'fio:|err=|rror' "$log" | head -n 3 >&2; fi
rm -f "$log"`
}

// fioError is a failed fio command's error without "exit status N: ".
func fioError(err error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "exit status") {
		msg = rest
	}
	if msg == "" {
		return err.Error()
	}
	return msg
}

// fsType is the filesystem type a host's probe answered ("ext4",
// "fuse.glusterfs"), kept in reports: "unknown" for anything but one short
// token of visible ASCII (findmnt prints nothing else; a broken or hostile
// host could answer a megabyte of escape sequences).
func fsType(s string) string {
	if s == "" || len(s) > 64 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "unknown"
	}
	return s
}

func probeScript(path string) string {
	q := lang.ShellQuote(path)
	return `fio=no; command -v fio >/dev/null 2>&1 && fio=yes
fstype=$(findmnt -no FSTYPE -T ` + q + ` 2>/dev/null | head -n1)
writable=no; [ -d ` + q + ` ] && [ -w ` + q + ` ] && writable=yes
echo "` + benchMarker + `fio=$fio fstype=${fstype:-unknown} writable=$writable"`
}

// clockScript wraps body, which must leave its status in rc, with a
// nanosecond clock and prints the marker line.
func clockScript(pre, body string) string {
	return pre + `
s=$(date +%s%N)
rc=0
` + body + `
e=$(date +%s%N)
[ "$rc" = 0 ] || exit 1
echo "` + benchMarker + `ns=$((e-s)) mode=$mode"`
}

// parallelDD starts one dd per thread in the background and waits for all.
func parallelDD(threads int, dd string) string {
	return fmt.Sprintf(`pids=
i=1
while [ $i -le %d ]; do
  %s &
  pids="$pids $!"
  i=$((i+1))
done
for p in $pids; do wait $p || rc=1; done`, threads, dd)
}

func writeScript(tool, dir string, threads int, mib int64) string {
	q := lang.ShellQuote(dir)
	pre := "set -u\nmode=write\nmkdir -p " + q + " || exit 1"
	if tool == "fio" {
		return clockScript(pre, fioRun(fmt.Sprintf("fio --name=diffuser --directory=%s --rw=write --bs=1M --size=%dM --numjobs=%d "+
			"--ioengine=psync --end_fsync=1 --group_reporting", q, mib, threads)))
	}
	return clockScript(pre, parallelDD(threads, fmt.Sprintf(`dd if=/dev/zero of=%s/f$i bs=1M count=%d conv=fdatasync status=none`, q, mib)))
}

// dropCachesScript flushes dirty data and drops the page cache where the
// host allows it (root, a writable /proc/sys), saying which it did.
const dropCachesScript = `sync
mode=cached
if echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then mode=dropcaches; fi
echo "` + benchMarker + `mode=$mode"`

// readScript reads what writeScript wrote; dropped says the page cache
// was dropped just before (dropCachesScript), else reads avoid it as
// they can: fio invalidates the files' cache, dd reads with O_DIRECT
// where the filesystem takes it.
func readScript(tool, dir string, threads int, mib int64, dropped bool) string {
	q := lang.ShellQuote(dir)
	pre := "set -u\nmode=cached"
	if dropped {
		pre = "set -u\nmode=dropcaches"
	}
	if tool == "fio" {
		// fio drops the files' cache itself before reading (invalidate=1).
		return clockScript(pre+"\n[ $mode = cached ] && mode=invalidate", fioRun(fmt.Sprintf("fio --name=diffuser --directory=%s --rw=read --bs=1M --size=%dM --numjobs=%d "+
			"--ioengine=psync --invalidate=1 --group_reporting", q, mib, threads)))
	}
	pre += fmt.Sprintf(`
flag=
if [ $mode = cached ] && dd if=%s/f1 of=/dev/null bs=1M count=1 iflag=direct status=none 2>/dev/null; then flag=iflag=direct; mode=direct; fi`, q)
	return clockScript(pre, parallelDD(threads, fmt.Sprintf(`dd if=%s/f$i of=/dev/null bs=1M count=%d $flag status=none`, q, mib)))
}

func readModeText(tool, mode string) string {
	switch mode {
	case "dropcaches":
		return "page cache dropped"
	case "direct":
		return "dd iflag=direct"
	case "invalidate":
		return "fio invalidate=1"
	case "cached":
		return "may be cached (no drop_caches, no O_DIRECT)"
	}
	return mode
}

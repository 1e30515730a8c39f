package probe

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/runner"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

// SmallFileOptions steer SmallFiles.
type SmallFileOptions struct {
	Connector engine.Connector
	// Files is how many files each worker creates, stats and deletes
	// (default 1000); Workers how many work at once on each client
	// (default 4).
	Files, Workers int
	Timeout        time.Duration // per client and phase (default 10m)
}

// SmallFilePhase is one metadata phase (create, stat or delete): how many
// operations and how long they took.
type SmallFilePhase struct {
	Ops      int64
	Duration time.Duration
}

// OpsPerSec is Ops over Duration; 0 when nothing was measured.
func (p SmallFilePhase) OpsPerSec() float64 {
	if p.Duration <= 0 || p.Ops <= 0 {
		return 0
	}
	return float64(p.Ops) / p.Duration.Seconds()
}

// SmallFileClient is one client's measurement.
type SmallFileClient struct {
	Verify, Host, Path   string
	Create, Stat, Delete SmallFilePhase
	Err                  string
}

// SmallFileReport is a whole small-file run. The aggregate phases divide
// every client's operations by the phase's wall time (first start to last
// finish): all clients create at once, then all stat, then all delete.
type SmallFileReport struct {
	Clients              []SmallFileClient
	Create, Stat, Delete SmallFilePhase
	Files, Workers       int
}

// SmallFiles is an mdtest-like metadata measurement: on every client of
// the recipe's verify blocks at once, Workers parallel workers each
// create Files empty files in a directory of their own (mdtest's default
// of no data), then every client stats all its files, then deletes them;
// each phase is timed on the client, from before its workers start to
// after the last ends. A worker creates its files as mdtest does (open
// with O_CREAT, close: the shell's own redirection, no process per file
// and no utimes call, which some FUSE filesystems refuse) and hands them
// to stat and rm in batches through xargs, so the count measures the
// filesystem, not process starts. The directories are removed at the
// end, whatever happened.
func SmallFiles(ctx context.Context, l *engine.Loaded, st *state.State, opt SmallFileOptions) (*SmallFileReport, error) {
	if opt.Files <= 0 {
		opt.Files = 1000
	}
	if opt.Workers <= 0 {
		opt.Workers = 4
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Minute
	}
	ts, err := verifyTargets(l, st)
	if err != nil {
		return nil, err
	}
	rep := &SmallFileReport{Files: opt.Files, Workers: opt.Workers}
	type client struct {
		SmallFileClient
		runner    runner.Runner
		dir, base string
	}
	run := randomHex()
	var cs []*client
	for _, t := range ts {
		base := strings.TrimRight(t.path, "/") + "/.diffuser-smallfiles-" + run
		cs = append(cs, &client{SmallFileClient: SmallFileClient{Verify: t.verify, Host: t.host, Path: t.path},
			base: base, dir: base + "/" + benchSlug(t.host)})
	}
	// each runs f on every client still in the running, concurrently.
	each := func(f func(c *client)) { eachLive(cs, func(c *client) bool { return c.Err == "" }, f) }
	each(func(c *client) {
		if c.runner, c.Err = connectClient(ctx, opt.Connector, st, c.Host); c.Err != "" {
			return
		}
	})
	ops := int64(opt.Files) * int64(opt.Workers)
	phase := func(name string, set func(c *client, p SmallFilePhase)) SmallFilePhase {
		var span wallSpan
		each(func(c *client) {
			start := time.Now()
			f, took, why := timedRun(ctx, c.runner, name, smallFileScript(name, c.dir, opt.Workers, opt.Files), opt.Timeout)
			end := time.Now()
			if why != "" {
				c.Err = why
				return
			}
			if name == "stat" {
				// The stat phase counts what it found: a filesystem that
				// lost creates must not look fast.
				if n, err := strconv.ParseInt(f["found"], 10, 64); err != nil || n != ops {
					c.Err = fmt.Sprintf("stat: found %s of the %d files created", f["found"], ops)
					return
				}
			}
			set(c, SmallFilePhase{Ops: ops, Duration: took})
			span.add(start, end, ops)
		})
		return SmallFilePhase{Ops: span.total, Duration: span.wall()}
	}
	rep.Create = phase("create", func(c *client, p SmallFilePhase) { c.Create = p })
	rep.Stat = phase("stat", func(c *client, p SmallFilePhase) { c.Stat = p })
	rep.Delete = phase("delete", func(c *client, p SmallFilePhase) { c.Delete = p })

	dirs := make([]workDir, 0, len(cs))
	for _, c := range cs {
		dirs = append(dirs, workDir{c.runner, c.dir, c.base})
	}
	removeWorkDirs(ctx, 5*time.Minute, dirs)
	for _, c := range cs {
		rep.Clients = append(rep.Clients, c.SmallFileClient)
	}
	return rep, ctx.Err()
}

// smallFileScript is one phase on one client: workers 1..n each work on
// dir/wN's files f1..fN, created by the shell's redirection one by one,
// stated and removed in batches through xargs.
func smallFileScript(phase, dir string, workers, files int) string {
	q := lang.ShellQuote(dir)
	names := fmt.Sprintf(`seq -f 'f%%.0f' 1 %d`, files)
	var work, pre string
	switch phase {
	case "create":
		pre = "mkdir -p " + q + " || exit 1\ni=1; while [ $i -le " + strconv.Itoa(workers) + " ]; do mkdir -p " + q + "/w$i || exit 1; i=$((i+1)); done"
		// ": > f" opens f with O_CREAT and closes it, as mdtest's create
		// does; touch would add a utimes call per file.
		work = `(cd ` + q + `/w$i && n=1 && while [ $n -le ` + strconv.Itoa(files) + ` ]; do : > f$n || exit 1; n=$((n+1)); done)`
	case "stat":
		// stat prints one line per file it could stat; wc counts them.
		work = `(cd ` + q + `/w$i && ` + names + ` | xargs stat -c . 2>/dev/null | wc -l > ` + q + `/w$i.found)`
	case "delete":
		work = `(cd ` + q + `/w$i && ` + names + ` | xargs rm -f)`
	}
	body := fmt.Sprintf(`pids=
i=1
while [ $i -le %d ]; do
  %s &
  pids="$pids $!"
  i=$((i+1))
done
for p in $pids; do wait $p || rc=1; done`, workers, work)
	post := ""
	if phase == "stat" {
		post = "\nfound=$(cat " + q + "/w*.found | awk '{s+=$1} END {print s+0}'); rm -f " + q + "/w*.found"
	}
	return `set -u
mode=` + phase + `
` + pre + `
s=$(date +%s%N)
rc=0
` + body + `
e=$(date +%s%N)` + post + `
[ "$rc" = 0 ] || exit 1
echo "` + benchMarker + `ns=$((e-s)) mode=$mode found=${found:-0}"`
}

// target is one client of a verify block: where bench and SmallFiles
// measure.
type target struct{ verify, host, path string }

// verifyTargets lists the hosts and paths of the recipe's verify blocks.
func verifyTargets(l *engine.Loaded, st *state.State) ([]target, error) {
	scope := l.StateScope(st)
	var out []target
	for _, v := range l.Recipe.Verifies {
		on, diags := scope.VerifyEnabled(v)
		if diags.HasErrors() {
			return nil, fmt.Errorf("verify %s: %s", v.Name, lang.DiagText(diags))
		}
		if !on {
			continue
		}
		if v.S3 != nil {
			continue // an object store: nothing mounted to measure
		}
		hosts, diags := scope.VerifyHosts(v, v.On)
		if diags.HasErrors() {
			return nil, fmt.Errorf("verify %s: %s", v.Name, lang.DiagText(diags))
		}
		pv, diags := v.Path.Value(scope.VerifyCtx(v))
		if diags.HasErrors() || pv.Type() != cty.String || !pv.IsKnown() || pv.IsNull() {
			return nil, fmt.Errorf("verify %s: path must be a known string", v.Name)
		}
		for _, h := range hosts {
			out = append(out, target{verify: v.Name, host: h, path: pv.AsString()})
		}
	}
	if len(out) == 0 && len(l.Recipe.Verifies) > 0 {
		return nil, fmt.Errorf("every verify block of the recipe is turned off (enabled = false, or its module call's lifecycle) or checks an object store (s3): measurements run at a mounted verify block's path on its hosts")
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the recipe has no verify block: measurements run at the verify blocks' path on their hosts")
	}
	return out, nil
}

package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"diffuser/runner"

	"github.com/zclconf/go-cty/cty"
)

// PackageKind installs or removes distribution packages with apt-get, dnf or
// yum, whichever the host has (looked up in that order). It reads what is
// installed first and touches only the missing (or, for absent, present)
// packages: when everything asked for is installed, Check is OK and Apply
// runs no package manager at all (no apt-get update either). Names are
// package names, optionally with an architecture ("libc6:i386",
// "foo.x86_64"); on apt hosts also with a version ("foo=1.2-3", installed
// only at that version) or a release ("foo/bookworm-backports", any
// version). Virtual packages are not understood by the installed-check (a
// virtual name always looks missing).
//
// On apt hosts the host's package cache (WithAptProxy) is configured
// first (ensureAptProxy), so every host of a cluster fetches through it.
// `apt-get update` runs before installing when update_cache is
// true or when no package list is younger than an hour (a fresh image has
// none), and once more before a single retry when the install fails because
// the lists do not know a package. Every apt-get waits up to 120 s for
// any apt or dpkg lock another process holds (apt-daily and
// unattended-upgrades on a freshly booted VM hold them): apt itself waits
// for dpkg's, aptMustRun for the lists' and the archives' (aptlock.go).
type PackageKind struct {
	// Clock paces the waiting for apt locks; nil is the real clock.
	Clock Clock
}

var (
	_ Kind       = PackageKind{}
	_ HostLocker = PackageKind{}
)

// packageLock is the HostLock key: one package manager run per host.
const packageLock = "pkg"

type packageArgs struct {
	names       []string
	absent      bool
	updateCache bool
}

// Name returns "package".
func (PackageKind) Name() string { return "package" }

// HostLock returns "pkg": package steps on one host never run at once.
func (PackageKind) HostLock() string { return packageLock }

// packageSchema: names (list of package names, required), state
// ("present" or "absent", default "present"), update_cache (bool, default
// false).
var packageSchema = &Schema{Kind: "package", Args: []Arg{
	{Name: "names", Type: cty.List(cty.String), Required: true,
		Check: Each(Word(`a package name such as "xfsprogs" or "libc6:i386" (no spaces, not starting with "-")`, "")),
		Doc:   "packages to install or remove"},
	{Name: "state", Default: cty.StringVal("present"), Check: OneOf("present", "absent"),
		Doc: "installed or removed"},
	{Name: "update_cache", Default: cty.False, Doc: "refresh the package lists first"},
}}

// Schema returns the package kind's arguments.
func (PackageKind) Schema() *Schema { return packageSchema }

func parsePackageArgs(args cty.Value) (packageArgs, error) {
	var a packageArgs
	if err := packageSchema.Validate(args).Err(); err != nil {
		return a, err
	}
	var err error
	if a.names, err = stringList(args, "names"); err != nil {
		return a, err
	}
	state, err := OptString(args, "state", "present")
	if err != nil {
		return a, err
	}
	a.absent = state == "absent"
	if a.updateCache, err = boolOr(args, "update_cache", false); err != nil {
		return a, err
	}
	return a, nil
}

// pkgManager is a package manager's command line.
type pkgManager string

const (
	aptGet pkgManager = "apt-get"
	dnf    pkgManager = "dnf"
	yum    pkgManager = "yum"
)

// detectPkgManagerCmd prints the first package manager found.
const detectPkgManagerCmd = `for m in apt-get dnf yum; do if command -v "$m" >/dev/null 2>&1; then echo "$m"; exit 0; fi; done; exit 1`

func detectPkgManager(ctx context.Context, r runner.Runner) (pkgManager, error) {
	res, err := Probe(ctx, r, "detecting the package manager", detectPkgManagerCmd)
	if err != nil {
		return "", err
	}
	switch m := pkgManager(strings.TrimSpace(res.Stdout)); {
	case res.Exit != 0:
		return "", fmt.Errorf("no supported package manager (apt-get, dnf, yum) on the host")
	case m == aptGet || m == dnf || m == yum:
		return m, nil
	default:
		return "", fmt.Errorf("detecting the package manager: unexpected answer %q", m)
	}
}

// aptRequest splits an apt-get install argument into the package dpkg
// knows ("foo", "foo:i386") and the version asked for ("" for any):
// "foo=1.2-3" pins a version, "foo/bookworm-backports" picks a release
// (any version of it counts as installed).
func aptRequest(n string) (name, version string) {
	if i := strings.IndexAny(n, "=/"); i >= 0 {
		if n[i] == '=' {
			return n[:i], n[i+1:]
		}
		return n[:i], ""
	}
	return n, ""
}

// dpkgQueryFormat is what installed asks dpkg-query for, per package.
const dpkgQueryFormat = `${binary:Package} ${Package} ${Status} ${Version}\n`

// parseDpkgQuery reads dpkg-query's lines (dpkgQueryFormat): the installed
// versions by both names a package answers to (binary:Package carries the
// architecture of a foreign one). Only status state "installed" counts
// as installed; partial holds the packages dpkg left in between
// (half-configured, unpacked, half-installed, triggers-...: a dpkg or
// maintainer script that failed or was killed) with their state.
// not-installed and config-files are neither.
func parseDpkgQuery(out string) (have, partial map[string]string) {
	have, partial = map[string]string{}, map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		// binary:Package Package want ok state Version
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		switch f[4] {
		case "installed":
			v := ""
			if len(f) > 5 {
				v = f[5]
			}
			have[f[0]], have[f[1]] = v, v
		case "not-installed", "config-files":
		default:
			partial[f[0]], partial[f[1]] = f[4], f[4]
		}
	}
	return have, partial
}

// installed returns which of names are installed, and on apt hosts which
// are in a state dpkg left in between, with that state (parseDpkgQuery).
// On apt hosts a name with "=VERSION" counts as installed only at that
// version.
func (m pkgManager) installed(ctx context.Context, r runner.Runner, names []string) (map[string]bool, map[string]string, error) {
	out := map[string]bool{}
	if m == aptGet {
		query := make([]string, 0, len(names))
		for _, n := range names {
			name, _ := aptRequest(n)
			if !slices.Contains(query, name) {
				query = append(query, name)
			}
		}
		// Exit 1 means some names are unknown to dpkg: not installed.
		cmd := `dpkg-query -W -f='` + dpkgQueryFormat + `' -- ` + shellJoin(query...)
		res, err := Probe(ctx, r, "reading installed packages", cmd)
		if err != nil {
			return nil, nil, err
		}
		if res.Exit > 1 {
			return nil, nil, ExitError("dpkg-query", cmd, res)
		}
		have, partial := parseDpkgQuery(res.Stdout)
		broken := map[string]string{}
		for _, n := range names {
			name, version := aptRequest(n)
			v, ok := have[name]
			out[n] = ok && (version == "" || v == version)
			if st, ok := partial[name]; ok {
				broken[n] = st
			}
		}
		return out, broken, nil
	}
	// rpm prints "package x is not installed" and exits with the number
	// of such names: any exit is an answer.
	have := map[string]bool{}
	cmd := `rpm -q --qf '%{NAME} %{NAME}.%{ARCH}\n' -- ` + shellJoin(names...)
	res, err := Probe(ctx, r, "reading installed packages", cmd)
	if err != nil {
		return nil, nil, err
	}
	for _, line := range strings.Split(res.Stdout, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			have[f[0]], have[f[1]] = true, true
		}
	}
	for _, n := range names {
		out[n] = have[n]
	}
	return out, nil, nil
}

// todo returns the names Apply must act on, the manager, and the dpkg
// state of those dpkg left in between (parseDpkgQuery). Such a package
// is not installed for present (apt-get install configures it) and not
// absent for absent (its files are there: apt-get remove removes it).
func (a packageArgs) todo(ctx context.Context, r runner.Runner) (pkgManager, []string, map[string]string, error) {
	if len(a.names) == 0 {
		return "", nil, nil, nil
	}
	m, err := detectPkgManager(ctx, r)
	if err != nil {
		return "", nil, nil, err
	}
	inst, broken, err := m.installed(ctx, r, a.names)
	if err != nil {
		return "", nil, nil, err
	}
	var todo []string
	for _, n := range a.names {
		_, partial := broken[n]
		if (!a.absent && !inst[n]) || (a.absent && (inst[n] || partial)) {
			todo = append(todo, n)
		}
	}
	return m, todo, broken, nil
}

// Check is OK when every name is installed (present) or none is (absent).
func (PackageKind) Check(ctx context.Context, r runner.Runner, args cty.Value) (Check, error) {
	a, err := parsePackageArgs(args)
	if err != nil {
		return Check{}, err
	}
	_, todo, broken, err := a.todo(ctx, r)
	if err != nil {
		return Check{}, err
	}
	if len(todo) == 0 {
		return Check{OK: true}, nil
	}
	what := "not installed"
	if a.absent {
		what = "installed"
	}
	shown := make([]string, len(todo))
	for i, n := range todo {
		shown[i] = n
		if st, ok := broken[n]; ok {
			shown[i] = fmt.Sprintf("%s (left %s by an earlier dpkg run)", n, st)
		}
	}
	return Check{Reason: fmt.Sprintf("%s %s: %s", plural(len(todo), "package"), what, strings.Join(shown, ", "))}, nil
}

// plural returns "package" or "packages" for n.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// clock returns k's Clock, the real one when unset.
func (k PackageKind) clock() Clock {
	if k.Clock == nil {
		return SystemClock{}
	}
	return k.Clock
}

// Apply installs the missing packages or removes the present ones.
func (k PackageKind) Apply(ctx context.Context, r runner.Runner, args cty.Value) (Outputs, error) {
	a, err := parsePackageArgs(args)
	if err != nil {
		return nil, err
	}
	m, todo, _, err := a.todo(ctx, r)
	if err != nil || len(todo) == 0 {
		return nil, err
	}
	if a.absent {
		return nil, m.remove(ctx, r, k.clock(), todo)
	}
	if m == aptGet {
		return nil, aptInstall(ctx, r, k.clock(), todo, a.updateCache)
	}
	if a.updateCache {
		if _, err := MustRun(ctx, r, string(m)+" makecache", string(m)+" -y -q makecache"); err != nil {
			return nil, err
		}
	}
	cmd := string(m) + " -y -q install -- " + shellJoin(todo...)
	_, err = MustRun(ctx, r, string(m)+" install", cmd)
	return nil, err
}

// apt-get options common to every call.
const (
	aptEnv  = "DEBIAN_FRONTEND=noninteractive "
	aptOpts = "-y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
	aptUpd  = "apt-get -q -o DPkg::Lock::Timeout=120 update"
)

// aptListsFreshCmd prints a package list younger than an hour, if any.
const aptListsFreshCmd = "find /var/lib/apt/lists -maxdepth 1 -type f -name '*_Packages*' -mmin -60 2>/dev/null | head -n 1"

func aptInstall(ctx context.Context, r runner.Runner, clock Clock, names []string, update bool) error {
	if err := ensureAptProxy(ctx, r, AptProxyFrom(ctx)); err != nil {
		return err
	}
	if !update {
		res, err := Probe(ctx, r, "reading the apt lists' age", aptListsFreshCmd)
		if err != nil {
			return err
		}
		update = strings.TrimSpace(res.Stdout) == ""
	}
	if update {
		if _, err := aptRun(ctx, r, clock, "apt-get update", aptUpd, aptUpdateBound); err != nil {
			return err
		}
	}
	cmd := aptEnv + "apt-get " + aptOpts + " install --no-install-recommends -- " + shellJoin(names...)
	res, err := aptRun(ctx, r, clock, "apt-get install", cmd, 0)
	if err == nil || update || !staleAptLists(res) {
		return err
	}
	if _, err := aptRun(ctx, r, clock, "apt-get update", aptUpd, aptUpdateBound); err != nil {
		return err
	}
	_, err = aptRun(ctx, r, clock, "apt-get install", cmd, 0)
	return err
}

// aptUpdateBound ends an `apt-get update` through a package cache that
// stalls (apt-cacher-ng was seen to hang a download for minutes while it
// failed to rename its own index files, when two hosts asked for the same
// InRelease in one second); the update is then done again without the
// cache. An update fetches a few MiB, in seconds through a cache on the
// LAN: two minutes are plenty (it was 5, and the stall then cost 5 minutes
// of a deploy twice on 2026-12-07).
const aptUpdateBound = 2 * time.Minute

// aptDirect is the option that makes one apt-get run ignore the package
// cache's detect script (an empty command turns detection off), so it
// fetches from the mirror directly.
const aptDirect = "-o Acquire::http::Proxy-Auto-Detect= "

// aptRun runs an apt-get command with aptMustRun (waiting for apt locks).
// With a package cache, the command runs bounded by bound (0: the step's
// own bound); when it fails for any reason but unknown packages or a lock
// still taken, it runs once more without the cache, so a cache that
// stalls or fails mid-download costs time, never the install. The retry
// is logged with what failed first.
func aptRun(ctx context.Context, r runner.Runner, clock Clock, what, cmd string, bound time.Duration) (runner.Result, error) {
	if AptProxyFrom(ctx) == "" {
		return aptMustRun(ctx, r, clock, what, cmd, runner.Options{})
	}
	res, err := aptMustRun(ctx, r, clock, what, cmd, runner.Options{Timeout: bound})
	// apt-get update exits 0 when an index failed to download ("W: Failed
	// to fetch"): through a cache that is a failure of the cache too.
	fetchFailed := strings.Contains(res.Stdout+res.Stderr, "Failed to fetch")
	var locked *aptLockedError
	if ctx.Err() != nil || (err == nil && !fetchFailed) || (err != nil && staleAptLists(res)) || errors.As(err, &locked) {
		return res, err
	}
	first := "some downloads failed"
	if err != nil {
		first = err.Error()
	}
	direct := strings.Replace(cmd, "apt-get ", "apt-get "+aptDirect, 1)
	res2, err2 := aptMustRun(ctx, r, clock, what+" without the package cache", direct, runner.Options{})
	if err2 != nil {
		return res2, fmt.Errorf("%w (through the package cache: %s)", err2, first)
	}
	return res2, nil
}

// staleAptLists reports whether a failed install says the lists are too old
// (or too few: a source added since the last update, such as a package
// repository whose own refresh made its lists the only fresh ones) to know
// a package or one it depends on.
func staleAptLists(res runner.Result) bool {
	out := res.Stdout + res.Stderr
	for _, s := range []string{"Unable to locate package", "has no installation candidate", "but it is not installable"} {
		if strings.Contains(out, s) {
			return true
		}
	}
	return false
}

func (m pkgManager) remove(ctx context.Context, r runner.Runner, clock Clock, names []string) error {
	if m == aptGet {
		cmd := aptEnv + "apt-get " + aptOpts + " remove -- " + shellJoin(names...)
		_, err := aptMustRun(ctx, r, clock, "apt-get remove", cmd, runner.Options{})
		return err
	}
	cmd := string(m) + " -y -q remove -- " + shellJoin(names...)
	_, err := MustRun(ctx, r, string(m)+" remove", cmd)
	return err
}

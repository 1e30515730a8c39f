package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"diffuser/runner"
	"diffuser/steps"

	"github.com/zclconf/go-cty/cty"
)

// Dist is a duration distribution: mostly around Mean ± Spread (normal,
// clipped at zero), and with probability OutlierProb OutlierFactor times
// longer. FailProb is the chance an instance fails.
type Dist struct {
	Mean Duration `json:"mean"`
	// PerLine is added for every non-empty line of a run step's command:
	// a command that loops over N hosts (rendered as N lines) costs N times
	// as much, as it would on a real host.
	PerLine       Duration `json:"per_line"`
	Spread        Duration `json:"spread"`
	OutlierProb   float64  `json:"outlier_prob"`
	OutlierFactor float64  `json:"outlier_factor"`
	FailProb      float64  `json:"fail_prob"`
}

// Duration is a time.Duration written as "30s" in profiles.
type Duration time.Duration

// UnmarshalJSON reads "30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("a duration is \"30s\" or a number of seconds")
	}
	if math.Abs(f) > maxSimDuration.Seconds() {
		return fmt.Errorf("a duration of %g seconds: give at most %v", f, maxSimDuration)
	}
	*d = Duration(f * float64(time.Second))
	return nil
}

// Profile says how long simulated work takes, per step kind ("launch" for
// host launches), and how much faster than real time to run it.
type Profile struct {
	Kinds map[string]Dist `json:"kinds"`
	// Scale multiplies every drawn duration before sleeping (0.001 runs a
	// 30 s step in 30 ms). Reported durations are the slept ones.
	Scale float64 `json:"scale"`
	Seed  uint64  `json:"seed"`
	// Record, when set, keeps every duration drawn, by address (launches
	// by "cluster/host"), so a benchmark can compute the critical path of
	// the same draws.
	Record *Draws `json:"-"`
	// Connect models what SSH connections cost (see ConnectModel).
	Connect ConnectModel `json:"connect"`
}

// ConnectModel is what reaching a simulated host costs, so that a
// simulated apply pays for what a real one does: a handshake per host
// whose CPU share is spread over the controller's cores (a thousand at
// once each take a thousand times their share, and fail past the connect
// timeout as a real client's would), and sshd's cap on sessions per
// connection (a command beyond it is refused, as sshd refuses it).
// Durations are simulated (multiplied by Profile.Scale); zero values
// cost nothing and cap nothing.
type ConnectModel struct {
	// Handshake is one connection's wall time when it is alone: round
	// trips plus the controller's CPU share (CPU).
	Handshake Duration `json:"handshake"`
	// CPU is the part of Handshake spent on the controller's cores: with k
	// handshakes at once on C cores it takes CPU·k/C when k > C.
	CPU   Duration `json:"cpu"`
	Cores int      `json:"cores"` // 0 = 2
	// Timeout fails a handshake that takes longer (0 = none).
	Timeout Duration `json:"timeout"`
	// MaxSessions refuses a command or upload on a host that already runs
	// this many (sshd's MaxSessions, 10 by default; 0 = no cap).
	MaxSessions int `json:"max_sessions"`
}

// DefaultConnect is what reaching a host costs when a profile does not
// say: measured on a 2-core controller (workspace's BenchmarkConnects), a
// handshake of 0.1 s of which 3 ms is the controller's CPU, the client's
// 15 s connect timeout, and sshd's default MaxSessions of 10.
var DefaultConnect = ConnectModel{Handshake: Duration(100 * time.Millisecond), CPU: Duration(3 * time.Millisecond),
	Cores: 2, Timeout: Duration(15 * time.Second), MaxSessions: 10}

func (p Profile) scaled(d Duration) time.Duration {
	scale := p.Scale
	if scale <= 0 {
		scale = 1
	}
	return time.Duration(float64(d) * scale)
}

// Draws records drawn durations. Safe for concurrent use.
type Draws struct {
	mu sync.Mutex
	m  map[string]time.Duration
}

// NewDraws returns an empty record.
func NewDraws() *Draws { return &Draws{m: map[string]time.Duration{}} }

func (d *Draws) put(addr string, v time.Duration) {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.m[addr] = v
	d.mu.Unlock()
}

// Get returns the duration drawn for addr.
func (d *Draws) Get(addr string) (time.Duration, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.m[addr]
	return v, ok
}

// maxProfileSize bounds a profile file: a few kinds need a few hundred bytes.
const maxProfileSize = 1 << 20

// maxSimDuration bounds every duration of a profile: a simulated step of
// more than a day is a typo (and 1e300 seconds overflows).
const maxSimDuration = 24 * time.Hour

// LoadProfile reads a JSON profile: a regular file of at most 1 MiB whose
// every field is known and in range.
func LoadProfile(path string) (Profile, error) {
	var p Profile
	f, err := os.Open(path)
	if err != nil {
		return p, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return p, err
	} else if !fi.Mode().IsRegular() || fi.Size() > maxProfileSize {
		return p, fmt.Errorf("%s: a profile is a JSON file of at most %d bytes", path, maxProfileSize)
	}
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, fmt.Errorf("%s: more after the profile's JSON object: a profile is one object", path)
	}
	if err := p.check(); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// check refuses values that cannot describe work: negative or huge
// durations, probabilities outside 0..1, negative counts.
func (p Profile) check() error {
	durs := map[string]Duration{"connect.handshake": p.Connect.Handshake, "connect.cpu": p.Connect.CPU, "connect.timeout": p.Connect.Timeout}
	probs := map[string]float64{}
	for _, k := range slices.Sorted(maps.Keys(p.Kinds)) {
		d := p.Kinds[k]
		durs["kinds."+k+".mean"], durs["kinds."+k+".per_line"], durs["kinds."+k+".spread"] = d.Mean, d.PerLine, d.Spread
		probs["kinds."+k+".outlier_prob"], probs["kinds."+k+".fail_prob"] = d.OutlierProb, d.FailProb
		if f := d.OutlierFactor; f != 0 && (f < 1 || f > 1000) {
			return fmt.Errorf("kinds.%s.outlier_factor is %g: give a factor from 1 to 1000 (0: 5)", k, f)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(durs)) {
		if d := time.Duration(durs[name]); d < 0 || d > maxSimDuration {
			return fmt.Errorf("%s is %v: give a duration from 0 to %v", name, d, maxSimDuration)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(probs)) {
		if v := probs[name]; !(v >= 0 && v <= 1) {
			return fmt.Errorf("%s is %g: give a probability from 0 to 1", name, v)
		}
	}
	switch {
	case !(p.Scale >= 0 && p.Scale <= 1000):
		return fmt.Errorf("scale is %g: give a factor from 0 to 1000 (0.001 runs a 30 s step in 30 ms; 0: 1)", p.Scale)
	case p.Connect.Cores < 0:
		return fmt.Errorf("connect.cores is %d: give the controller's cores (0: 2)", p.Connect.Cores)
	case p.Connect.MaxSessions < 0:
		return fmt.Errorf("connect.max_sessions is %d: give sshd's MaxSessions (0: no cap)", p.Connect.MaxSessions)
	}
	return nil
}

// Draw returns the (scaled) duration and failure of the work at addr, the
// same for the same seed and address whatever the scheduling order.
func (p Profile) Draw(kind, addr string) (time.Duration, bool) {
	return p.DrawLines(kind, addr, 0)
}

// DrawLines is Draw for work of n lines (see Dist.PerLine).
func (p Profile) DrawLines(kind, addr string, lines int) (time.Duration, bool) {
	d, ok := p.Kinds[kind]
	if !ok {
		return 0, false
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s", p.Seed, addr)
	x := h.Sum64()
	u := func() float64 { // splitmix64 stream from the address's hash
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		return (float64(z>>11) + 0.5) / float64(1<<53)
	}
	// Box-Muller.
	n := math.Sqrt(-2*math.Log(u())) * math.Cos(2*math.Pi*u())
	v := float64(d.Mean) + n*float64(d.Spread) + float64(lines)*float64(d.PerLine)
	if v < 0 {
		v = 0
	}
	if d.OutlierProb > 0 && u() < d.OutlierProb {
		f := d.OutlierFactor
		if f <= 0 {
			f = 5
		}
		v *= f
	}
	fail := d.FailProb > 0 && u() < d.FailProb
	scale := p.Scale
	if scale <= 0 {
		scale = 1
	}
	out := time.Duration(v * scale)
	p.Record.put(addr, out)
	return out, fail
}

// Kinds wraps real step kinds: same specs (recipes validate identically),
// the same optional abilities (each simulated kind is a steps.Restarter,
// Rerunner, GroupKind, Destroyer, Leaver or HostLocker exactly when the
// real one is, so a recipe validates, plans and graphs as on hosts), the
// same host locks, an undo where the real kind has one (doing nothing),
// but Apply sleeps a drawn duration (and may fail) and Check always finds
// the host as declared. run's captures produce "sim-<key>" values so
// downstream expressions become known.
func Kinds(real steps.Registry, p Profile) steps.Registry {
	out := steps.Registry{}
	for name, k := range real {
		out[name] = wrap(&simKind{real: k, name: name, profile: p}, k)
	}
	return out
}

// wrap gives sk the optional abilities of the real kind k. The
// combinations are those of the built-in kinds (TestKindsKeepRealAbilities
// checks every one).
func wrap(sk *simKind, k steps.Kind) steps.Kind {
	_, undoes := k.(steps.Destroyer)
	_, leaves := k.(steps.Leaver)
	hl, locks := k.(steps.HostLocker)
	_, restarts := k.(steps.Restarter)
	_, reruns := k.(steps.Rerunner)
	_, group := k.(steps.GroupKind)
	switch {
	case locks && undoes && leaves:
		return leavingLockedKind{undoingLockedKind{lockedKind{sk, hl.HostLock()}}}
	case locks && undoes:
		return undoingLockedKind{lockedKind{sk, hl.HostLock()}}
	case locks:
		return lockedKind{sk, hl.HostLock()}
	case undoes:
		return undoingKind{sk}
	case reruns:
		return rerunningKind{restartingKind{sk}}
	case restarts:
		return restartingKind{sk}
	case group:
		return groupKind{sk}
	}
	return sk
}

// undoingKind and undoingLockedKind stand for a real kind that undoes
// itself (mount): their Destroy does nothing, but plans replace and
// destroy their instances as for real; leavingLockedKind's Leave (what an
// update in place no longer keeps) does nothing either.
type (
	undoingKind       struct{ *simKind }
	undoingLockedKind struct{ lockedKind }
	leavingLockedKind struct{ undoingLockedKind }
)

func (undoingKind) Destroy(context.Context, runner.Runner, cty.Value) error       { return nil }
func (undoingLockedKind) Destroy(context.Context, runner.Runner, cty.Value) error { return nil }
func (leavingLockedKind) Leave(context.Context, runner.Runner, cty.Value, cty.Value) error {
	return nil
}

// restartingKind stands for a kind that restarts what it manages (service),
// rerunningKind for one whose restart is running again (run): restart_on
// and reload_on are accepted, planned and applied as for real.
type (
	restartingKind struct{ *simKind }
	rerunningKind  struct{ restartingKind }
)

// RestartArgs is the real kind's, so that restarts are planned and applied
// in a simulation as they are on hosts.
func (k restartingKind) RestartArgs(args cty.Value, reload bool) (cty.Value, bool) {
	return k.real.(steps.Restarter).RestartArgs(args, reload)
}

func (rerunningKind) Reruns() {}

// groupKind stands for a kind that acts on all its hosts at once
// (distribute): the engine runs its instances as one group, as for real,
// and each host's part takes a drawn duration, all at the same time.
type groupKind struct{ *simKind }

func (k groupKind) ApplyGroup(ctx context.Context, targets []steps.Target, args cty.Value) ([]steps.Outputs, []error) {
	outs, errs := make([]steps.Outputs, len(targets)), make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Drawn per host (the engine names no instance for a group).
			addr := steps.InstanceFrom(ctx) + k.name + "@" + t.Host
			outs[i], errs[i] = k.Apply(steps.WithInstance(ctx, addr), t.Runner, args)
		}()
	}
	wg.Wait()
	return outs, errs
}

type simKind struct {
	real    steps.Kind
	name    string
	profile Profile
}

type lockedKind struct {
	*simKind
	lock string
}

func (k lockedKind) HostLock() string { return k.lock }

func (k *simKind) Name() string          { return k.name }
func (k *simKind) Schema() *steps.Schema { return k.real.Schema() }

func (k *simKind) Check(context.Context, runner.Runner, cty.Value) (steps.Check, error) {
	return steps.Check{OK: true}, nil
}

// Checkable is the real kind's: a run step without a guard cannot be
// imported in a simulation either.
func (k *simKind) Checkable(args cty.Value) error {
	if c, ok := k.real.(steps.Checker); ok {
		return c.Checkable(args)
	}
	return nil
}

// Capture gives what Apply would: "sim-<key>" per capture.
func (k *simKind) Capture(_ context.Context, _ runner.Runner, args cty.Value) (steps.Outputs, error) {
	return simCaptures(k.name, args), nil
}

func (k *simKind) Apply(ctx context.Context, r runner.Runner, args cty.Value) (steps.Outputs, error) {
	addr := steps.InstanceFrom(ctx)
	if addr == "" {
		addr = fmt.Sprintf("%p", r)
	}
	d, fail := k.profile.DrawLines(k.name, addr, CommandLines(args))
	if d > 0 {
		// The work runs as a command on the host: it holds one of the
		// host's sessions for its duration, as a real step does.
		h := &hold{d: d}
		if _, err := r.Run(context.WithValue(ctx, holdKey{}, h), "# simulated "+k.name+" ("+d.String()+")", runner.Options{}); err != nil {
			return nil, err
		}
		if !h.held { // a runner that is not a simulated host's
			if err := sleepCtx(ctx, d); err != nil {
				return nil, err
			}
		}
	}
	if fail {
		return nil, &runner.ExitError{What: "simulated " + k.name, Status: 1, Tail: "simulated failure\n"}
	}
	return simCaptures(k.name, args), nil
}

// simCaptures are a run step's outputs in a simulation: "sim-<key>".
func simCaptures(kind string, args cty.Value) steps.Outputs {
	out := steps.Outputs{}
	if kind == "run" && args.Type().IsObjectType() && args.Type().HasAttribute("capture") {
		if c := args.GetAttr("capture"); !c.IsNull() && c.IsKnown() {
			keys := []string{}
			for it := c.ElementIterator(); it.Next(); {
				kv, _ := it.Element()
				keys = append(keys, kv.AsString())
			}
			sort.Strings(keys)
			for _, key := range keys {
				out[key] = "sim-" + key
			}
		}
	}
	return out
}

// CommandLines counts the non-empty lines of a run step's command (0 for
// other kinds).
func CommandLines(args cty.Value) int {
	if args == cty.NilVal || !args.Type().IsObjectType() || !args.Type().HasAttribute("command") {
		return 0
	}
	c := args.GetAttr("command")
	if c.IsNull() || !c.IsKnown() || c.Type() != cty.String {
		return 0
	}
	n := 0
	for _, l := range strings.Split(c.AsString(), "\n") {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	return n
}

// hold is how long a simulated step's command takes, handed to the
// simulated host's runner through the context.
type hold struct {
	d    time.Duration
	held bool // the runner slept it
}

type holdKey struct{}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Replaces is the real kind's, so a simulated plan replaces what a real
// one would.
func (k *simKind) Replaces(old, new cty.Value) string {
	if rp, ok := k.real.(steps.Replacer); ok {
		return rp.Replaces(old, new)
	}
	return ""
}

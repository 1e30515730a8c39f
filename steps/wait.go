package steps

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"diffuser/runner"

	"github.com/zclconf/go-cty/cty"
)

// WaitKind waits, from the host itself, until a TCP port accepts connections
// or a command exits 0. Check is one probe; Apply probes every interval
// until success or timeout. A port probe uses bash's /dev/tcp under a
// two-second `timeout` and falls back to `nc -z` where bash is missing; the
// probe script itself is POSIX sh.
type WaitKind struct {
	// Clock paces the polling; nil is the real clock.
	Clock Clock
}

var _ Kind = WaitKind{}

// Defaults for the wait kind's durations.
const (
	waitDefaultTimeout  = 120 * time.Second
	waitDefaultInterval = 2 * time.Second
	waitDefaultHost     = "127.0.0.1"
)

type waitArgs struct {
	port     int
	host     string
	command  string
	timeout  time.Duration
	interval time.Duration
}

// Name returns "wait".
func (WaitKind) Name() string { return "wait" }

// waitSchema: exactly one of port (1–65535) and command; host (a host
// name or address, default "127.0.0.1", only with port), timeout and
// interval (positive durations, default "120s" and "2s").
var waitSchema = &Schema{Kind: "wait", Args: []Arg{
	{Name: "port", Type: cty.Number, Check: IntBetween(1, 65535), Doc: "wait until `host:port` accepts TCP connections (from the step's host)"},
	{Name: "host", Default: cty.StringVal(waitDefaultHost),
		Check: StringRule("a host name or an IPv4 or IPv6 address", validHost), Doc: "where port is probed"},
	{Name: "command", Type: cty.String, Check: NotEmpty("a shell command"), Doc: "or: wait until this command exits 0"},
	{Name: "timeout", Default: cty.StringVal("120s"), Check: Duration(), Doc: "how long to wait in all"},
	{Name: "interval", Default: cty.StringVal("2s"), Check: Duration(), Doc: "the pause between probes"},
}, Rules: []Rule{
	ExactlyOneOf("port", "command", "port waits for a TCP port to accept connections, command for a command to exit 0"),
	OnlyWith("host", "port", nil, "it is the host whose port is probed; a command runs on the step's own host"),
}}

// Schema returns the wait kind's arguments.
func (WaitKind) Schema() *Schema { return waitSchema }

func parseWaitArgs(args cty.Value) (waitArgs, error) {
	var a waitArgs
	if err := waitSchema.Validate(args).Err(); err != nil {
		return a, err
	}
	var err error
	if a.port, _, err = OptInt(args, "port"); err != nil {
		return a, err
	}
	if a.command, err = OptString(args, "command", ""); err != nil {
		return a, err
	}
	if a.host, err = OptString(args, "host", waitDefaultHost); err != nil {
		return a, err
	}
	if a.timeout, err = durationOr(args, "timeout", waitDefaultTimeout); err != nil {
		return a, err
	}
	if a.interval, err = durationOr(args, "interval", waitDefaultInterval); err != nil {
		return a, err
	}
	return a, nil
}

// validHost accepts host names and IPv4/IPv6 addresses.
func validHost(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' || c == '_') {
			return false
		}
	}
	return true
}

// what names what is waited for, for people.
func (a waitArgs) what() string {
	if a.command != "" {
		return fmt.Sprintf("command %q to exit 0", a.command)
	}
	return fmt.Sprintf("port %s accepting connections", portAddr(a.host, a.port))
}

// portAddr is host:port, with brackets for IPv6.
func portAddr(host string, port int) string {
	for _, c := range host {
		if c == ':' {
			return "[" + host + "]:" + strconv.Itoa(port)
		}
	}
	return host + ":" + strconv.Itoa(port)
}

// probeCmd is the command one probe runs.
func (a waitArgs) probeCmd() string {
	if a.command != "" {
		return a.command
	}
	h, p := ShellQuote(a.host), strconv.Itoa(a.port)
	// The /dev/tcp path is a script for the inner bash, quoted once more for sh.
	tcp := ShellQuote("</dev/tcp/" + a.host + "/" + p)
	return fmt.Sprintf("if command -v bash >/dev/null 2>&1; then timeout 2 bash -c %s 2>/dev/null; else nc -z -w 2 %s %s; fi", tcp, h, p)
}

// probeOnce runs one probe; timeout bounds a command probe.
func (a waitArgs) probeOnce(ctx context.Context, r runner.Runner, timeout time.Duration) (runner.Result, error) {
	return runWith(ctx, r, "waiting for "+a.what(), a.probeCmd(), runner.Options{Timeout: timeout})
}

// Check is one probe.
func (WaitKind) Check(ctx context.Context, r runner.Runner, args cty.Value) (Check, error) {
	a, err := parseWaitArgs(args)
	if err != nil {
		return Check{}, err
	}
	res, err := a.probeOnce(ctx, r, a.timeout)
	if err != nil {
		return Check{}, err
	}
	if res.Exit == 0 {
		return Check{OK: true}, nil
	}
	return Check{Reason: "not yet: " + a.what()}, nil
}

// Apply probes every interval until a probe succeeds or timeout has passed;
// the last probe runs at the deadline.
func (k WaitKind) Apply(ctx context.Context, r runner.Runner, args cty.Value) (Outputs, error) {
	a, err := parseWaitArgs(args)
	if err != nil {
		return nil, err
	}
	clock := k.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	deadline := clock.Now().Add(a.timeout)
	for tries := 1; ; tries++ {
		left := deadline.Sub(clock.Now())
		if left < time.Second {
			left = time.Second // Options.Timeout 0 would mean none
		}
		res, err := a.probeOnce(ctx, r, left)
		if err != nil {
			return nil, err
		}
		if res.Exit == 0 {
			return nil, nil
		}
		left = deadline.Sub(clock.Now())
		if left <= 0 {
			e := fmt.Errorf("timed out after %s waiting for %s (%d tries, last exit status %d)", a.timeout, a.what(), tries, res.Exit)
			if tail := outputTail(res, 5); tail != "" && a.command != "" {
				e = fmt.Errorf("%w:\n%s", e, tail)
			}
			return nil, e
		}
		// The last pause is shortened so that the last probe runs at the deadline.
		if err := clock.Sleep(ctx, min(a.interval, left)); err != nil {
			return nil, fmt.Errorf("waiting for %s: %w", a.what(), err)
		}
	}
}

package remote

import (
	"context"
	"fmt"
	"testing"
	"time"

	"diffuser/runner"
)

// The benchmarks compare running trivial commands over the pooled
// connection with opening a new SSH connection per command, against a
// real sshd on loopback. Show both and the ratio with:
//
//	go test ./remote -run '^$' -bench PoolSpeedup
//
// BenchmarkPoolSpeedup runs 1,000 commands each way per iteration.

const speedupCommands = 1000

func benchHost(b *testing.B) (*testEnv, Config) {
	b.Helper()
	env := newTestEnv(b)
	s := env.newSSHD(b, sshdOptions{Extra: "LogLevel ERROR"})
	return env, env.config(s)
}

func runPooled(b *testing.B, c *Client, n int) time.Duration {
	b.Helper()
	start := time.Now()
	for range n {
		res, err := c.Run(context.Background(), "true", runner.Options{})
		if err != nil || res.Exit != 0 {
			b.Fatalf("pooled run: %+v %v", res, err)
		}
	}
	return time.Since(start)
}

func runNewConnections(b *testing.B, cfg Config, n int) time.Duration {
	b.Helper()
	start := time.Now()
	for range n {
		p := NewPool()
		c, err := p.Connect(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		res, err := c.Run(context.Background(), "true", runner.Options{})
		if err != nil || res.Exit != 0 {
			b.Fatalf("run on a new connection: %+v %v", res, err)
		}
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// BenchmarkRunPooled runs one trivial command per iteration over the
// pooled connection.
func BenchmarkRunPooled(b *testing.B) {
	_, cfg := benchHost(b)
	p := NewPool()
	defer p.Close()
	c, err := p.Connect(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	runPooled(b, c, b.N)
}

// BenchmarkRunNewConnection connects, runs one trivial command and
// disconnects per iteration.
func BenchmarkRunNewConnection(b *testing.B) {
	_, cfg := benchHost(b)
	b.ResetTimer()
	runNewConnections(b, cfg, b.N)
}

// BenchmarkPoolSpeedup runs 1,000 commands over the pooled connection and
// 1,000 on a new connection each, and reports both rates and the ratio.
func BenchmarkPoolSpeedup(b *testing.B) {
	_, cfg := benchHost(b)
	for range b.N {
		p := NewPool()
		c, err := p.Connect(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		pooled := runPooled(b, c, speedupCommands)
		_ = p.Close()
		fresh := runNewConnections(b, cfg, speedupCommands)
		ratio := float64(fresh) / float64(pooled)
		b.ReportMetric(float64(pooled.Microseconds())/speedupCommands, "µs/pooled-run")
		b.ReportMetric(float64(fresh.Microseconds())/speedupCommands, "µs/new-conn-run")
		b.ReportMetric(ratio, "x-speedup")
		b.Logf("%d commands: pooled %s (%s each), new connection each %s (%s each): %.1fx",
			speedupCommands, pooled.Round(time.Millisecond), pooled/speedupCommands,
			fresh.Round(time.Millisecond), fresh/speedupCommands, ratio)
	}
}

// BenchmarkShellSpeedup runs 1,000 trivial commands one after another
// through the connection's long-lived shell (its bash loop, then the
// setsid loop of hosts without bash) and 1,000 with a session each
// (Config.NoShell), and reports each and the ratios: the cost of a step's
// command on a host, without and with a new SSH session.
func BenchmarkShellSpeedup(b *testing.B) {
	_, cfg := benchHost(b)
	arms := []struct {
		name    string
		driver  string
		noShell bool
	}{{"shell (bash loop)", driverScript, false}, {"shell (setsid loop)", setsidDriver, false}, {"a session each", "", true}}
	for range b.N {
		took := make([]time.Duration, len(arms))
		for i, arm := range arms {
			cfg := cfg
			cfg.NoShell = arm.noShell
			p := NewPool()
			c, err := p.Connect(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			if arm.driver != "" {
				c.driver = arm.driver
			}
			took[i] = runPooled(b, c, speedupCommands)
			_ = p.Close()
		}
		b.ReportMetric(float64(took[0].Microseconds())/speedupCommands, "µs/shell-run")
		b.ReportMetric(float64(took[1].Microseconds())/speedupCommands, "µs/setsid-shell-run")
		b.ReportMetric(float64(took[2].Microseconds())/speedupCommands, "µs/session-run")
		b.ReportMetric(float64(took[2])/float64(took[0]), "x-speedup")
		fmt.Printf("%d commands in a row:", speedupCommands)
		for i, arm := range arms {
			fmt.Printf(" %s %s (%s each);", arm.name, took[i].Round(time.Millisecond), took[i]/speedupCommands)
		}
		fmt.Printf(" a session each / bash loop %.1fx, setsid loop / bash loop %.1fx\n",
			float64(took[2])/float64(took[0]), float64(took[1])/float64(took[0]))
	}
}

// BenchmarkRunThen runs 200 guarded commands whose guard fails (so both
// run) as RunThen, one round trip each, and as two Runs, on the shell,
// over loopback and over a link with a 5 ms round trip (latencyProxy,
// about a LAN across buildings or a cloud zone), and reports both and the
// ratio: what a run step with `unless` or `creates` costs on a host.
func BenchmarkRunThen(b *testing.B) {
	env := newTestEnv(b)
	s := env.newSSHD(b, sshdOptions{Extra: "LogLevel ERROR"})
	for _, rtt := range []time.Duration{0, 5 * time.Millisecond} {
		cfg := env.config(s)
		if rtt > 0 {
			cfg.Port = latencyProxy(b, s.addr(), rtt/2)
		}
		benchRunThen(b, cfg, rtt)
	}
}

func benchRunThen(b *testing.B, cfg Config, rtt time.Duration) {
	const n = 200
	guard, cmd := runner.Command{Cmd: "test -e /nonexistent"}, runner.Command{Cmd: "true"}
	for range b.N {
		p := NewPool()
		c, err := p.Connect(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		var took [2]time.Duration
		for i, chained := range []bool{true, false} {
			start := time.Now()
			for range n {
				run := c.RunThen
				if !chained {
					run = func(ctx context.Context, first runner.Command, when runner.Then, second runner.Command) (runner.Result, *runner.Result, error) {
						return runner.RunThenSeparately(ctx, c, first, when, second)
					}
				}
				res, res2, err := run(context.Background(), guard, runner.IfFailed, cmd)
				if err != nil || res.Exit != 1 || res2 == nil || res2.Exit != 0 {
					b.Fatalf("guarded command: %+v %+v %v", res, res2, err)
				}
			}
			took[i] = time.Since(start)
		}
		_ = p.Close()
		ratio := float64(took[1]) / float64(took[0])
		unit := fmt.Sprintf("-rtt%dms", rtt.Milliseconds())
		b.ReportMetric(float64(took[0].Microseconds())/n, "µs/chained"+unit)
		b.ReportMetric(float64(took[1].Microseconds())/n, "µs/two-runs"+unit)
		b.ReportMetric(ratio, "x-speedup"+unit)
		fmt.Printf("%d guarded commands, link round trip %s: one round trip %s (%s each), two %s (%s each): %.1fx\n",
			n, rtt, took[0].Round(time.Millisecond), took[0]/n, took[1].Round(time.Millisecond), took[1]/n, ratio)
	}
}

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
// through the connection's long-lived shell and 1,000 with a session each
// (Config.NoShell), and reports both and the ratio: the cost of a step's
// command on a host, without and with a new SSH session.
func BenchmarkShellSpeedup(b *testing.B) {
	_, cfg := benchHost(b)
	for range b.N {
		var took [2]time.Duration
		for i, noShell := range []bool{false, true} {
			cfg := cfg
			cfg.NoShell = noShell
			p := NewPool()
			c, err := p.Connect(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			took[i] = runPooled(b, c, speedupCommands)
			_ = p.Close()
		}
		ratio := float64(took[1]) / float64(took[0])
		b.ReportMetric(float64(took[0].Microseconds())/speedupCommands, "µs/shell-run")
		b.ReportMetric(float64(took[1].Microseconds())/speedupCommands, "µs/session-run")
		b.ReportMetric(ratio, "x-speedup")
		fmt.Printf("%d commands in a row: shell %s (%s each), a session each %s (%s each): %.1fx\n",
			speedupCommands, took[0].Round(time.Millisecond), took[0]/speedupCommands,
			took[1].Round(time.Millisecond), took[1]/speedupCommands, ratio)
	}
}

package workspace

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"diffuser/remote/sshdtest"
	"diffuser/state"
)

// BenchmarkConnects measures what an SSH connection costs the controller,
// the numbers behind engine.DefaultConnects: 256 connections (key
// exchange and public-key authentication, as apply's first connect to a
// host) to a real sshd on loopback, made k at a time, through the
// connector apply uses. It prints the wall time, connections per second,
// the mean time one connection takes and the controller's CPU per
// connection. sshd runs on the same cores, so the rates are a lower bound
// of what a controller reaching separate machines sees.
//
//	go test ./workspace -run '^$' -bench Connects -benchtime 1x
func BenchmarkConnects(b *testing.B) {
	env := sshdtest.NewEnv(b)
	srv := env.NewServer(b, sshdtest.Options{Extra: "LogLevel ERROR\nMaxStartups 1000\nMaxSessions 100"})
	const n = 256
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for i := 0; i < b.N; i++ {
		fmt.Printf("%-10s %8s %10s %14s %16s\n", "at once", "conns", "wall", "conns/s", "mean conn")
		for _, k := range []int{1, 2, 4, 8, 16, 32, 64, 128, 256} {
			c := NewSSHConnector(env.KeyPath)
			sem := make(chan struct{}, k)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var sum time.Duration
			var firstErr error
			cpu0, start := cpu(), time.Now()
			for j := 0; j < n; j++ {
				wg.Add(1)
				sem <- struct{}{}
				go func(j int) {
					defer wg.Done()
					defer func() { <-sem }()
					h := state.Host{Name: fmt.Sprintf("h%d", j), ProviderID: fmt.Sprintf("id-%d-%d", k, j),
						SSH: state.SSH{Address: "127.0.0.1", Port: srv.Port, User: env.User}}
					t0 := time.Now()
					_, err := c.Runner(context.Background(), h, nil)
					d := time.Since(t0)
					mu.Lock()
					sum += d
					if err != nil && firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}(j)
			}
			wg.Wait()
			wall, used := time.Since(start), cpu()-cpu0
			c.Close()
			if firstErr != nil {
				b.Fatalf("%d at once: %v", k, firstErr)
			}
			fmt.Printf("%-10d %8d %10v %14.0f %16v   controller CPU %v per connection\n", k, n, wall.Round(time.Millisecond),
				float64(n)/wall.Seconds(), (sum / n).Round(100*time.Microsecond), (used / n).Round(10*time.Microsecond))
		}
	}
}

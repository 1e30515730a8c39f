package remote

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStepLogs prints what logging costs per step instance (a
// header, one line of output, a footer: what a simulated 1,000-server
// apply's 11,000–15,000 instances each write) from 64 goroutines at
// once, in CPU and real time: into the run's one file, and into a file
// per instance created, written and closed as versions before it did
// (docs/scale.md).
func BenchmarkStepLogs(b *testing.B) {
	const instances, workers = 12_000, 64
	out := []byte("Reading package lists... Done\n")
	layouts := []struct {
		name string
		run  func(dir string, i int, rl *RunLog) error
	}{
		{"one run log", func(_ string, i int, rl *RunLog) error {
			l := rl.Log(fmt.Sprintf("step%d", i%11), fmt.Sprintf("server[%d]", i/11))
			_ = l.Begin("apt-get install -y glusterfs-server")
			_, _ = l.Write(out)
			return l.End(0, nil)
		}},
		{"file per instance (before)", func(dir string, i int, _ *RunLog) error {
			sd := filepath.Join(dir, fmt.Sprintf("step%d", i%11))
			if err := os.MkdirAll(sd, 0o700); err != nil {
				return err
			}
			f, err := os.OpenFile(filepath.Join(sd, fmt.Sprintf("server[%d].log", i/11)), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			_, _ = fmt.Fprintf(f, "=== %s $ %s\n", time.Now().Format(time.RFC3339), "apt-get install -y glusterfs-server")
			_, _ = f.Write(out)
			_, _ = fmt.Fprintf(f, "\n=== exit 0 after %s\n", time.Millisecond)
			return f.Close()
		}},
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	per := map[string]time.Duration{}
	for _, lay := range layouts {
		b.Run(lay.name, func(b *testing.B) {
			var cpuSum, wallSum time.Duration
			for range b.N {
				dir := b.TempDir()
				rl, err := OpenRunLog(dir)
				if err != nil {
					b.Fatal(err)
				}
				c0, t0 := cpu(), time.Now()
				var wg sync.WaitGroup
				for w := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := w; i < instances; i += workers {
							if err := lay.run(dir, i, rl); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				if err := rl.Close(); err != nil {
					b.Fatal(err)
				}
				cpuSum += cpu() - c0
				wallSum += time.Since(t0)
			}
			n := time.Duration(b.N * instances)
			per[lay.name] = cpuSum / n
			b.ReportMetric(float64(cpuSum.Nanoseconds())/float64(n), "cpu-ns/instance")
			fmt.Printf("%-28s %6d instances: CPU %v per instance (%v for all), real %v\n", lay.name, instances,
				(cpuSum / n).Round(100*time.Nanosecond), (cpuSum / time.Duration(b.N)).Round(time.Millisecond),
				(wallSum / time.Duration(b.N)).Round(time.Millisecond))
		})
	}
	if a, o := per["one run log"], per["file per instance (before)"]; a > 0 && o > 0 {
		fmt.Printf("a file per instance costs %.1fx the CPU of the run log\n", float64(o)/float64(a))
	}
}

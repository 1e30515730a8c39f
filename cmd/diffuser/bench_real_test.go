package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkTrivialSteps: 20 trivial steps, chained per host, on 4 and 16
// real hosts (docker containers over SSH). Hosts are launched first; the
// timed run is a re-apply in which every step's input changed, so all 20×N
// instances run over the pooled connections. For scale, measured on this
// machine: Ansible 7.7–10.4 s (4 hosts) and 34–50 s (16); OpenSSH with
// ControlMaster 0.7 s and 2.6 s.
func BenchmarkTrivialSteps(b *testing.B) {
	if !dockerOK() {
		b.Skip("docker is not reachable")
	}
	for _, n := range []int{4, 16} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			e := &e2eEnv{dir: dir, site: filepath.Join(dir, "diffuser.hcl"), data: filepath.Join(dir, ".diffuser")}
			site := fmt.Sprintf("default_provider = \"docker\"\nprovider \"docker\" {\n  extra_hosts = [%s]\n}\n", mirrorHostsB(b))
			if err := os.WriteFile(e.site, []byte(site), 0o644); err != nil {
				b.Fatal(err)
			}
			recipe := filepath.Join("testdata", "bench", "trivial.hcl")
			common := []string{"--site", e.site, "--var", fmt.Sprintf("hosts=%d", n), "-auto-approve", "--progress", "quiet"}
			defer e.run(nil, append([]string{"destroy", recipe}, common...)...)
			start := time.Now()
			if code, out := e.run(nil, append([]string{"apply", recipe, "--var", "round=0"}, common...)...); code != 0 {
				b.Fatalf("first apply: %d\n%s", code, out)
			}
			first := time.Since(start)
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if code, out := e.run(nil, append([]string{"apply", recipe, "--var", fmt.Sprintf("round=%d", i+1)}, common...)...); code != 0 {
					b.Fatalf("apply: %d\n%s", code, out)
				}
				d := time.Since(start)
				b.ReportMetric(d.Seconds(), "s/apply")
				fmt.Printf("20 trivial steps on %d hosts: %.2fs (plan + %d step instances over SSH; launch + first run took %s; OpenSSH ControlMaster: %s)\n",
					n, d.Seconds(), 20*n, first.Round(time.Second), map[int]string{4: "0.7 s", 16: "2.6 s"}[n])
			}
		})
	}
}

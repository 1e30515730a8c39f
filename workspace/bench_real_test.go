package workspace_test

import (
	"diffuser/cloud/docker/dockertest"
	"diffuser/workspace"
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
	if !dockertest.DockerOK() {
		b.Skip("docker is not reachable")
	}
	for _, n := range []int{4, 16} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			s := newSysEnv(b, filepath.Join(dir, ".diffuser"))
			site := filepath.Join(dir, "diffuser.hcl")
			src := fmt.Sprintf("default_provider = \"docker\"\nprovider \"docker\" {\n  extra_hosts = [%s]\n}\n", dockertest.MirrorHosts(b))
			if err := os.WriteFile(site, []byte(src), 0o644); err != nil {
				b.Fatal(err)
			}
			in := func(round int) workspace.Inputs {
				return workspace.Inputs{Recipe: filepath.Join("..", "bench", "trivial.hcl"), Site: site,
					Vars: []string{fmt.Sprintf("hosts=%d", n), fmt.Sprintf("round=%d", round)}}
			}
			defer func() {
				if _, err := s.applyOf(in(0), "destroy"); err != nil {
					b.Errorf("destroy: %v", err)
				}
			}()
			start := time.Now()
			s.mustApply(b, in(0), "apply")
			first := time.Since(start)
			for i := 0; i < b.N; i++ {
				start := time.Now()
				s.mustApply(b, in(i+1), "apply")
				d := time.Since(start)
				b.ReportMetric(d.Seconds(), "s/apply")
				fmt.Printf("20 trivial steps on %d hosts: %.2fs (plan + %d step instances over SSH; launch + first run took %s; OpenSSH ControlMaster: %s)\n",
					n, d.Seconds(), 20*n, first.Round(time.Second), map[int]string{4: "0.7 s", 16: "2.6 s"}[n])
			}
		})
	}
}

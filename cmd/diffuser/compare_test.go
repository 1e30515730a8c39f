package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const compareCLIRecipe = `
recipe "NAME" {}
variable "servers" {
  type    = number
  default = 1
}
variable "clients" {
  type    = number
  default = 1
}
hosts "server" { count = var.servers }
hosts "client" { count = var.clients }
step "daemon" {
  on  = hosts.server
  run = "start-daemon NAME"
}
verify "roundtrip" {
  on   = hosts.client
  path = "/mnt/NAME"
}
`

// TestCompareCLI runs diffuser compare on simulated hosts with the real
// kinds and the real probe scripts, answered by the simulated hosts: the
// report's four files are written, the terminal table shows a measured
// and a failed recipe, exit status 1; a second run keeps the measured one.
func TestCompareCLI(t *testing.T) {
	var failBeta atomic.Bool
	failBeta.Store(true)
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) {
		switch {
		case strings.Contains(cmd, "start-daemon beta") && failBeta.Load():
			return 0, 1, "beta's daemon: no such device\n"
		case strings.Contains(cmd, "sha256sum"):
			return 0, 0, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
		case strings.Contains(cmd, "command -v fio >/dev/null 2>&1 && fio=yes"):
			return 0, 0, "diffuser-bench fio=yes fstype=fuse.sim writable=yes\n"
		case strings.Contains(cmd, "mode=write"):
			return 0, 0, "diffuser-bench ns=2000000000 mode=write\n"
		case strings.Contains(cmd, "--rw=read"):
			return 0, 0, "diffuser-bench ns=1000000000 mode=invalidate\n"
		case strings.Contains(cmd, "mode=create"):
			return 0, 0, "diffuser-bench ns=1000000000 mode=create found=0\n"
		case strings.Contains(cmd, "mode=stat"):
			return 0, 0, "diffuser-bench ns=250000000 mode=stat found=20\n"
		case strings.Contains(cmd, "mode=delete"):
			return 0, 0, "diffuser-bench ns=500000000 mode=delete found=0\n"
		}
		return 0, 0, ""
	})
	alpha := e.write("alpha.hcl", strings.ReplaceAll(compareCLIRecipe, "NAME", "alpha"))
	beta := e.write("beta.hcl", strings.ReplaceAll(compareCLIRecipe, "NAME", "beta"))
	out := filepath.Join(e.dir, "report")
	args := []string{"compare", alpha, beta, "-provider", "sim", "-out", out, "-servers", "2", "-clients", "2", "-size", "8MiB",
		"-files", "5", "-workers", "4"}
	code, stdout, stderr := e.run(args...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (beta fails)\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"alpha  apply...", "alpha  smallfiles  done", "beta  apply  failed", "beta  destroy  done",
		"Report: " + out + "/report.html"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	var alphaRow, betaRow string
	for _, l := range strings.Split(stdout, "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && f[0] == "alpha" && f[1] == "measured" {
			alphaRow = l
		}
		if len(f) > 1 && f[0] == "beta" && f[1] == "failed:" {
			betaRow = l
		}
	}
	if alphaRow == "" || betaRow == "" || !strings.Contains(betaRow, "apply") {
		t.Errorf("summary table rows: alpha %q beta %q\n%s", alphaRow, betaRow, stdout)
	}
	for _, f := range []string{"report.md", "report.csv", "report.html", "compare.json"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("report file %s: %v", f, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	// Per client: 8 MiB written in 2 s and read in 1 s by the hosts'
	// clocks; 20 files created in 1 s, stat'ed in 0.25 s, deleted in 0.5 s.
	if !strings.Contains(string(md), "### beta: apply") || !strings.Contains(string(md), "no such device") ||
		!strings.Contains(string(md), `| alpha | client\[0\] | fuse.sim | fio | 4.2 | 8.4 | 20 | 80 | 40 |`) {
		t.Errorf("report.md:\n%s", md)
	}
	if e.cloud.Hosts() != 0 {
		t.Errorf("%d simulated hosts left after compare", e.cloud.Hosts())
	}

	// Resume: alpha is kept, beta measured now.
	failBeta.Store(false)
	code, stdout, stderr = e.run(args...)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "alpha  measure  skipped") || strings.Contains(stdout, "alpha  apply") || !strings.Contains(stdout, "beta  apply  done") {
		t.Errorf("resume:\n%s", stdout)
	}
}

// TestCompareCLIBadInput: bad arguments fail before anything is deployed,
// naming the flag.
func TestCompareCLIBadInput(t *testing.T) {
	e := newSimCLI(t, nil)
	alpha := e.write("alpha.hcl", strings.ReplaceAll(compareCLIRecipe, "NAME", "alpha"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"compare"}, "requires at least 1 arg"},
		{[]string{"compare", alpha, "-servers", "0"}, "--servers must be between 1 and 64"},
		{[]string{"compare", alpha, "-clients", "-3"}, "--clients must be between 1 and 64"},
		{[]string{"compare", alpha, "-size", "lots"}, "-size"},
		{[]string{"compare", alpha, "-files", "0"}, "-files"},
		{[]string{"compare", alpha, alpha}, "label alpha is used twice"},
		{[]string{"compare", "../x=" + alpha}, "label"},
		{[]string{"compare", alpha, "-var", "nosuch.servers=2", "-provider", "sim"}, "no recipe is labelled"},
		{[]string{"compare", alpha, "-var", "color=red", "-provider", "sim"}, "no recipe of the comparison declares color"},
	} {
		code, stdout, stderr := e.run(append(c.args, "-out", filepath.Join(e.dir, "r"))...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q (want %q)\n%s", c.args, code, stderr, c.want, stdout)
		}
	}
	if e.cloud.Launches() != 0 {
		t.Errorf("bad input launched %d hosts", e.cloud.Launches())
	}
}

// TestCompareOutRefusesOthersFiles: -out naming a directory whose
// report.md, report.csv, report.html or compare.json diffuser compare did
// not write (a project's own, with -out . or -out docs) is refused before
// anything runs, the files as they were; --fresh does not change that.
func TestCompareOutRefusesOthersFiles(t *testing.T) {
	e := newSimCLI(t, nil)
	alpha := e.write("alpha.hcl", strings.ReplaceAll(compareCLIRecipe, "NAME", "alpha"))
	for _, c := range []struct{ file, content, want string }{
		{"report.md", "# Our quarterly report\n", "report.md is there and compare.json is not"},
		{"report.html", "<html>ours</html>\n", "report.html is there and compare.json is not"},
		{"compare.json", `{"ours": true}` + "\n", "compare.json is not a comparison's record"},
	} {
		dir := filepath.Join(e.dir, "docs-"+c.file)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, c.file)
		if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, extra := range [][]string{nil, {"--fresh"}} {
			code, stdout, stderr := e.run(append([]string{"compare", alpha, "-provider", "sim", "-out", dir}, extra...)...)
			if code == 0 || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "--out") {
				t.Errorf("%s %v: exit %d, stderr %q (want %q)\n%s", c.file, extra, code, stderr, c.want, stdout)
			}
			if b, err := os.ReadFile(p); err != nil || string(b) != c.content {
				t.Errorf("%s %v: the file was replaced: %q, %v", c.file, extra, b, err)
			}
		}
	}
	if e.cloud.Launches() != 0 {
		t.Errorf("a refused -out launched %d hosts", e.cloud.Launches())
	}
}

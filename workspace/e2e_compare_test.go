//go:build e2e

package workspace_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/cloud/docker/dockertest"
	"diffuser/compare"
	"diffuser/views"
	"diffuser/workspace"
)

// TestE2ECompare compares nfs (NFS-Ganesha, libnfs clients: what runs in
// containers) and glusterfs at a small size on real containers: both
// deployed, verified, measured with fio (installed by compare) and the
// small-file phase, destroyed; then the same comparison again resumes
// with nothing to do. `make e2e RECIPE=compare` runs it alone.
// DIFFUSER_COMPARE_OUT keeps the report (markdown, CSV, HTML, JSON) in
// that directory.
func TestE2ECompare(t *testing.T) {
	t.Run("compare", func(t *testing.T) {
		if testing.Short() {
			t.Skip("real deployments are skipped with -short")
		}
		if !dockertest.DockerOK() {
			t.Skip("docker is not reachable: run scripts/setup.sh")
		}
		dockertest.Serialize(t)
		dir := t.TempDir()
		s := newSysEnv(t, filepath.Join(dir, ".diffuser"))
		site := filepath.Join(dir, "diffuser.hcl")
		src := fmt.Sprintf("default_provider = \"docker\"\nprovider \"docker\" {\n  extra_hosts = [%s]\n}\n", dockertest.MirrorHosts(t))
		if err := os.WriteFile(site, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		out := os.Getenv("DIFFUSER_COMPARE_OUT")
		if out == "" {
			out = filepath.Join(dir, "report")
		}
		entries, err := compare.ParseEntries([]string{"nfs", "glusterfs"})
		if err != nil {
			t.Fatal(err)
		}
		labels := []string{"nfs", "glusterfs"}
		t.Cleanup(func() {
			for _, l := range labels {
				st, err := s.env.ReadState(compare.WorkspaceName(l))
				if err != nil || len(st.Hosts) == 0 {
					continue
				}
				in := workspace.Inputs{Recipe: l, Site: site, Workspace: compare.WorkspaceName(l), IgnoreRemembered: false}
				if _, err := s.applyOf(in, "destroy"); err != nil {
					t.Errorf("destroy %s at cleanup: %v", l, err)
				}
				if left := dockertest.Leftovers(st.Cluster, s.data()); len(left) > 0 {
					t.Errorf("left behind: %v", left)
				}
			}
		})
		var events []string
		opt := workspace.CompareOptions{Entries: entries, Site: site, Dir: out,
			Vars:   []string{"nfs.server=ganesha", "nfs.mount=libnfs"},
			Params: compare.Params{Servers: 2, Clients: 2, Bytes: 32 << 20, Threads: 2, Files: 200, Workers: 2},
			OnEvent: func(e workspace.CompareEvent) {
				var b bytes.Buffer
				views.WriteCompareEvent(&b, e.Label, e.Phase, e.State, e.Elapsed, e.Detail)
				t.Log(strings.TrimSpace(b.String()))
				events = append(events, e.Label+" "+e.Phase+" "+e.State)
			},
			OnReport: func(rep *compare.Report) error { return writeReport(out, rep) },
		}
		start := time.Now()
		rep, err := s.env.Compare(context.Background(), opt)
		if err != nil {
			for _, r := range rep.Results {
				if r.Failure != nil {
					t.Errorf("%s failed in %s: %s %s %s\n%s\nlog %s", r.Label, r.Failure.Phase, r.Failure.Step, r.Failure.Host, r.Failure.Error, r.Failure.Tail, r.Failure.Log)
				}
			}
			t.Fatalf("compare: %v", err)
		}
		took := time.Since(start)
		for _, r := range rep.Results {
			if r.Status != compare.Measured || r.DestroyError != "" {
				t.Errorf("%s: %s %+v %s", r.Label, r.Status, r.Failure, r.DestroyError)
			}
			if r.ReadySeconds <= 0 || r.ApplySeconds <= 0 || r.DestroySeconds <= 0 {
				t.Errorf("%s times: ready %v apply %v destroy %v", r.Label, r.ReadySeconds, r.ApplySeconds, r.DestroySeconds)
			}
			if r.Write.MBps <= 0 || r.Read.MBps <= 0 || r.Write.Bytes != 2*32<<20 || r.Create.Ops != 2*2*200 || r.Create.OpsPerSec <= 0 ||
				r.Stat.OpsPerSec <= 0 || r.Delete.OpsPerSec <= 0 {
				t.Errorf("%s numbers: write %+v read %+v create %+v stat %+v delete %+v", r.Label, r.Write, r.Read, r.Create, r.Stat, r.Delete)
			}
			if len(r.Clients) != 2 {
				t.Errorf("%s: %d clients measured, want 2", r.Label, len(r.Clients))
			}
			for _, c := range r.Clients {
				// fio (compare installs it), or dd where fio failed on the
				// filesystem (GVfs's FUSE mount) and the note says so.
				fallback := c.Tool == "dd" && strings.Contains(c.Note, "fio failed")
				if c.Tool != "fio" && !fallback || c.Error != "" {
					t.Errorf("%s %s: tool %q, note %q, error %q", r.Label, c.Host, c.Tool, c.Note, c.Error)
				}
				// Every client measured every phase: its bytes and
				// operations, over a time of its own.
				if c.Write.Bytes != 32<<20 || c.Read.Bytes != 32<<20 || c.Write.Seconds <= 0 || c.Read.Seconds <= 0 || c.Write.MBps <= 0 || c.Read.MBps <= 0 ||
					c.Create.Ops != 2*200 || c.Stat.Ops != 2*200 || c.Delete.Ops != 2*200 ||
					c.Create.OpsPerSec <= 0 || c.Stat.OpsPerSec <= 0 || c.Delete.OpsPerSec <= 0 || c.ReadMode == "" || c.FSType == "" || c.FSType == "unknown" {
					t.Errorf("%s %s numbers: %+v", r.Label, c.Host, c)
				}
			}
			// The aggregate is all clients' bytes over the phase's wall
			// time: at least the slowest client's time, so no faster than
			// the clients' rates added up.
			var sumW, sumR float64
			for _, c := range r.Clients {
				sumW, sumR = sumW+c.Write.MBps, sumR+c.Read.MBps
			}
			if r.Write.MBps > sumW*1.01+0.2 || r.Read.MBps > sumR*1.01+0.2 {
				t.Errorf("%s: aggregate write %.1f read %.1f above the clients' sum %.1f %.1f", r.Label, r.Write.MBps, r.Read.MBps, sumW, sumR)
			}
			st := s.readState(t, r.Workspace)
			if len(st.Hosts) != 0 {
				t.Errorf("%s: hosts left in state after compare: %d", r.Label, len(st.Hosts))
			}
			if left := dockertest.Leftovers(st.Cluster, s.data()); len(left) > 0 {
				t.Errorf("%s left: %v", r.Label, left)
			}
			t.Logf("%s: ready %.0fs, write %.1f MB/s, read %.1f MB/s, create %.0f/s, stat %.0f/s, delete %.0f/s, hosts %v",
				r.Label, r.ReadySeconds, r.Write.MBps, r.Read.MBps, r.Create.OpsPerSec, r.Stat.OpsPerSec, r.Delete.OpsPerSec, r.Hosts)
		}
		if g := rep.Results[1]; g.Hosts["server"] != 2 || g.Hosts["client"] != 2 || len(g.Clients) == 0 || g.Clients[0].FSType != "fuse.glusterfs" {
			t.Errorf("glusterfs shape %v, clients %+v", g.Hosts, g.Clients)
		}
		if n := rep.Results[0]; n.Hosts["server"] != 1 || n.Hosts["client"] != 2 {
			t.Errorf("nfs shape %v", n.Hosts)
		}
		// The report on disk has both rows, measured, with their numbers.
		checkReportFiles(t, out, rep)
		// The same comparison again: both kept, nothing deployed.
		events = nil
		again, err := s.env.Compare(context.Background(), opt)
		if err != nil {
			t.Fatalf("resume: %v", err)
		}
		if strings.Join(events, ", ") != "nfs measure skipped, glusterfs measure skipped" || again.Results[0].Key != rep.Results[0].Key {
			t.Errorf("resume events: %v", events)
		}
		for i, r := range again.Results {
			if r.Status != compare.Measured || r.Write != rep.Results[i].Write || r.Create != rep.Results[i].Create {
				t.Errorf("resume changed %s: %+v", r.Label, r)
			}
		}
		checkReportFiles(t, out, again)
		fmt.Printf("E2E compare: nfs and glusterfs in %s; report in %s\n", took.Round(time.Second), out)
	})
}

func writeReport(dir string, rep *compare.Report) error {
	var md, csv, html bytes.Buffer
	views.WriteCompareMarkdown(&md, rep)
	if err := views.WriteCompareCSV(&csv, rep); err != nil {
		return err
	}
	if err := views.WriteCompareHTML(&html, rep); err != nil {
		return err
	}
	for name, b := range map[string][]byte{views.CompareMarkdownFile: md.Bytes(), views.CompareCSVFile: csv.Bytes(), views.CompareHTMLFile: html.Bytes()} {
		if err := compare.WriteFile(filepath.Join(dir, name), b); err != nil {
			return err
		}
	}
	return nil
}

// checkReportFiles reads compare.json back and finds each result's row,
// with its write rate, in report.md, and every file of the report.
func checkReportFiles(t *testing.T, dir string, rep *compare.Report) {
	t.Helper()
	back, err := compare.ReadReport(dir)
	if err != nil || back == nil || len(back.Results) != len(rep.Results) {
		t.Fatalf("compare.json: %v, %+v", err, back)
	}
	md, err := os.ReadFile(filepath.Join(dir, views.CompareMarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range back.Results {
		if r.Label != rep.Results[i].Label || r.Status != compare.Measured || r.Write.MBps != rep.Results[i].Write.MBps {
			t.Errorf("compare.json row %d: %+v", i, r)
		}
		row := fmt.Sprintf("| %s | measured |", r.Label)
		if !strings.Contains(string(md), row) || !strings.Contains(string(md), fmt.Sprintf("| %.1f |", r.Write.MBps)) {
			t.Errorf("report.md lacks %q with write %.1f:\n%s", row, r.Write.MBps, md)
		}
	}
	for _, name := range []string{views.CompareCSVFile, views.CompareHTMLFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

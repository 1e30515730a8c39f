package compare_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/compare"
	golden "diffuser/internal/golden"
)

// TestParseEntries: labels from names, paths and LABEL=; hostile or
// duplicate labels are refused.
func TestParseEntries(t *testing.T) {
	es, err := compare.ParseEntries([]string{"glusterfs", "./my/fs.hcl", "dir/recipe/", "repl1=glusterfs"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Label+":"+e.Recipe)
	}
	if strings.Join(got, " ") != "glusterfs:glusterfs fs:./my/fs.hcl recipe:dir/recipe/ repl1:glusterfs" {
		t.Errorf("entries %v", got)
	}
	for _, bad := range [][]string{nil, {"glusterfs", "glusterfs"}, {"=ceph"}, {"x="}, {"../../etc=ceph"}, {"a.b=ceph"}, {"-rf=ceph"},
		{"$(reboot)=ceph"}, {strings.Repeat("a", 61) + "=ceph"}} {
		if _, err := compare.ParseEntries(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// TestReadReportBad: a damaged or newer compare.json is an error naming
// the file and --fresh, never silently discarded.
func TestReadReportBad(t *testing.T) {
	dir := t.TempDir()
	if r, err := compare.ReadReport(dir); r != nil || err != nil {
		t.Fatalf("no file: %v %v", r, err)
	}
	for _, c := range []struct{ body, says string }{
		{"{not json", "invalid character"},
		{`{"version": 99}`, "schema version 99"},
		// Which results would a re-run reuse?
		{"{\"version\": 1, \"results\": [],\n\"results\": [{\"recipe\": \"ceph\"}]}", `2:1: results: the key "results" is given twice`},
		{`{"version": 1, "started": null}`, "1:27: started: null where a string belongs"},
	} {
		if err := os.WriteFile(filepath.Join(dir, compare.ReportFile), []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := compare.ReadReport(dir)
		if err == nil || !strings.Contains(err.Error(), "--fresh") || !strings.Contains(err.Error(), compare.ReportFile) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%q: %v", c.body, err)
		}
	}
}

// TestReportJSONGolden: compare.json's shape, field by field. The
// recorded comparison (the views' golden tests render the same one) reads
// back and writes out byte for byte as the golden file has it, so a
// changed field name or a lost field fails here.
func TestReportJSONGolden(t *testing.T) {
	src := filepath.Join("..", "views", "testdata", "compare", "recorded.json")
	dir := t.TempDir()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, compare.ReportFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := compare.ReadReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := compare.MarshalReport(r)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "compare.json"), string(out))
	if len(r.Results) != 4 || r.Results[2].Failure.Step != `step.osd["osd[1]"]` || r.Results[0].Clients[1].Read.MBps != 45.5 {
		t.Errorf("the recorded report did not read back: %+v", r.Results)
	}
	// What is written reads back the same.
	if err := compare.WriteFile(filepath.Join(dir, compare.ReportFile), out); err != nil {
		t.Fatal(err)
	}
	again, err := compare.ReadReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if out2, _ := compare.MarshalReport(again); string(out2) != string(out) {
		t.Errorf("compare.json does not survive a write and a read")
	}
}

package compare_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/compare"
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
	for _, body := range []string{"{not json", `{"version": 99}`} {
		if err := os.WriteFile(filepath.Join(dir, compare.ReportFile), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := compare.ReadReport(dir)
		if err == nil || !strings.Contains(err.Error(), "--fresh") || !strings.Contains(err.Error(), compare.ReportFile) {
			t.Errorf("%q: %v", body, err)
		}
	}
}

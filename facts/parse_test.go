package facts

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/internal/golden"
	"diffuser/runner"
)

// TestParseGolden parses each raw fact file in testdata (what Command
// printed on a real system, or a hostile variant) and compares the facts
// with testdata/NAME.json.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) < 6 {
		t.Fatalf("fact files: %v %v", files, err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(string(raw))
			got := ""
			if err != nil {
				got = "error: " + err.Error() + "\n"
			} else {
				b, _ := json.MarshalIndent(f, "", "  ")
				got = string(b) + "\n"
			}
			golden.Check(t, strings.TrimSuffix(file, ".txt")+".json", got)
		})
	}
}

func TestParseFamilies(t *testing.T) {
	for _, c := range []struct{ release, family string }{
		{"ID=debian", "debian"},
		{"ID=pop\nID_LIKE=\"ubuntu debian\"", "debian"},
		{"ID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"", "rhel"},
		{"ID=fedora", "rhel"},
		{"ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"", "suse"},
		{"ID=nixos", "nixos"},
		{"ID=SomeThing", "something"},
		{"", ""},
	} {
		f, err := Parse("@@facts:os-release\n" + c.release + "\n@@facts:end\n")
		if err != nil {
			t.Fatal(err)
		}
		if f.OS.Family != c.family {
			t.Errorf("%q: family %q, want %q", c.release, f.OS.Family, c.family)
		}
	}
}

// TestParseBounded: a host that prints millions of devices or endless
// values does not make state grow without bound.
func TestParseBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("@@facts:os-release\nPRETTY_NAME=\"" + strings.Repeat("x", 100000) + "\"\n@@facts:lsblk\n")
	for i := 0; i < 5000; i++ {
		b.WriteString(`NAME="d` + strings.Repeat("y", 10) + `" SIZE="1" TYPE="disk"` + "\n")
	}
	f, err := Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Devices) != maxDevices || len(f.OS.Name) != maxValueLen {
		t.Fatalf("devices %d (max %d), name length %d (max %d)", len(f.Devices), maxDevices, len(f.OS.Name), maxValueLen)
	}
}

func TestEncodeDecode(t *testing.T) {
	raw, _ := os.ReadFile("testdata/rocky9.txt")
	f, err := Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	back, ok := Decode(f.Encode())
	if !ok || !back.Equal(f) {
		t.Fatalf("round trip: %v %+v", ok, back)
	}
	if _, ok := Decode(nil); ok {
		t.Fatal("no facts decoded as facts")
	}
	if _, ok := Decode(json.RawMessage(`{"os": 3}`)); ok {
		t.Fatal("bad facts decoded")
	}
	other := f
	other.Cores++
	if other.Equal(f) {
		t.Fatal("different cores compare equal")
	}
}

type fakeRunner struct {
	res runner.Result
	err error
	cmd string
}

func (r *fakeRunner) Run(_ context.Context, cmd string, _ runner.Options) (runner.Result, error) {
	r.cmd = cmd
	return r.res, r.err
}
func (r *fakeRunner) Upload(context.Context, io.Reader, string, os.FileMode) error {
	return nil
}

func TestGather(t *testing.T) {
	raw, _ := os.ReadFile("testdata/debian12.txt")
	r := &fakeRunner{res: runner.Result{Stdout: string(raw)}}
	f, err := Gather(context.Background(), r)
	if err != nil || f.OS.ID != "debian" || r.cmd != Command {
		t.Fatalf("gather: %+v %v (command %q)", f, err, r.cmd)
	}
	r = &fakeRunner{res: runner.Result{Exit: 127, Stderr: "sh: not found"}}
	if _, err := Gather(context.Background(), r); err == nil || !strings.Contains(err.Error(), "status 127") {
		t.Fatalf("exit 127: %v", err)
	}
	r = &fakeRunner{err: errors.New("connection reset")}
	if _, err := Gather(context.Background(), r); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("run error: %v", err)
	}
}

package facts

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	b.WriteString("@@facts:end\n")
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
	for _, bad := range []string{`{"os": 3}`, `{"os": {"id": "debian"}, "cores": null}`, `{"cores": 2, "cores": 64}`, `{"arch": null}`} {
		if f, ok := Decode(json.RawMessage(bad)); ok {
			t.Errorf("%s decoded as %+v", bad, f)
		}
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

// TestGatherStable: the refresh's command runs no lsblk (nor reads
// /sys/block) and its facts carry no devices, whatever the host prints;
// the other facts are those Gather reads.
func TestGatherStable(t *testing.T) {
	if strings.Contains(StableCommand, "lsblk") || strings.Contains(StableCommand, "/sys/block") {
		t.Fatalf("StableCommand asks for devices:\n%s", StableCommand)
	}
	if !strings.HasPrefix(Command, strings.TrimSuffix(StableCommand, endSection)) || !strings.Contains(Command, "lsblk") {
		t.Fatalf("Command is not StableCommand with the devices:\n%s", Command)
	}
	raw, _ := os.ReadFile("testdata/debian12.txt")
	r := &fakeRunner{res: runner.Result{Stdout: string(raw)}}
	f, err := GatherStable(context.Background(), r)
	if err != nil || r.cmd != StableCommand {
		t.Fatalf("gather: %v (command %q)", err, r.cmd)
	}
	full, _ := Gather(context.Background(), r)
	if len(full.Devices) == 0 || f.Devices == nil || len(f.Devices) != 0 {
		t.Fatalf("devices: stable %v, full %v", f.Devices, full.Devices)
	}
	full.Devices = []Device{}
	if !f.Equal(full) {
		t.Errorf("stable facts %+v, want %+v", f, full)
	}
	r = &fakeRunner{res: runner.Result{Exit: 2, Stderr: "syntax error"}}
	if _, err := GatherStable(context.Background(), r); err == nil || !strings.Contains(err.Error(), "status 2") {
		t.Fatalf("exit 2: %v", err)
	}
}

// TestCommandRunsHere runs Command and StableCommand with this machine's
// sh: both succeed, print the same facts but the devices, and read
// /etc/os-release as cat would.
func TestCommandRunsHere(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	want, err := os.ReadFile("/etc/os-release")
	if err != nil {
		t.Skip("no /etc/os-release")
	}
	out := map[string]string{}
	for name, cmd := range map[string]string{"full": Command, "stable": StableCommand} {
		b, err := exec.Command(sh, "-c", cmd).Output()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = string(b)
	}
	sec := split(out["full"])
	if got := sec["os-release"]; strings.TrimSuffix(got, "\n") != strings.TrimSuffix(string(want), "\n") {
		t.Errorf("os-release section:\n%s\nwant:\n%s", got, want)
	}
	if !strings.HasPrefix(sec["meminfo"], "MemTotal:") || strings.Count(sec["meminfo"], "\n") != 1 {
		t.Errorf("meminfo section %q", sec["meminfo"])
	}
	// The section names a memory limit file where one exists: cgroup v1's
	// root has one, v2's only a cgroup below the root.
	cg, _ := os.ReadFile("/proc/self/cgroup")
	v2Child := strings.HasPrefix(string(cg), "0::/") && !strings.HasPrefix(string(cg), "0::/\n")
	if dirExists("/sys/fs/cgroup/memory") || v2Child && fileExists("/sys/fs/cgroup/cgroup.controllers") {
		if !strings.Contains(sec["cgroup"], "memory.") {
			t.Errorf("cgroup section %q names no memory limit file (this process: %q)", sec["cgroup"], cg)
		}
	}
	full, err1 := Parse(out["full"])
	stable, err2 := Parse(out["stable"])
	if err1 != nil || err2 != nil || full.OS.ID == "" || full.MemoryMB == 0 {
		t.Fatalf("parse: %v %v %+v", err1, err2, full)
	}
	if len(stable.Devices) != 0 {
		t.Errorf("stable command printed devices %v", stable.Devices)
	}
	// Every device listed is one this machine has a node for.
	for _, d := range full.Devices {
		if _, err := os.Stat("/dev/" + d.Name); err != nil {
			if _, err := os.Stat("/dev/mapper/" + d.Name); err != nil {
				t.Errorf("device %s has no node in /dev or /dev/mapper", d.Name)
			}
		}
	}
	full.Devices = stable.Devices
	if !full.Equal(stable) {
		t.Errorf("stable %+v, full %+v", stable, full)
	}
	// The shell's bounding set is this test's (children inherit it).
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	var own string
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "CapBnd:") {
			own = l + "\n"
		}
	}
	if sec["capbnd"] != own || !slices.Equal(full.Capabilities, parseCapBnd(own)) || len(full.Capabilities) == 0 {
		t.Errorf("capbnd section %q, capabilities %v; this process has %q", sec["capbnd"], full.Capabilities, own)
	}
}

// TestCapabilities decodes CapBnd masks: names sorted, bits past the
// table named cap_N, anything unreadable no capability at all.
func TestCapabilities(t *testing.T) {
	for _, c := range []struct {
		line string
		want []string
	}{
		{"CapBnd:\t0000000000000000", []string{}},
		{"CapBnd:\t0000000000001004", []string{"dac_read_search", "net_admin"}},
		{"CapBnd:\t00000000a80425fb", []string{"audit_write", "chown", "dac_override", "fowner", "fsetid", "kill", "mknod",
			"net_bind_service", "net_raw", "setfcap", "setgid", "setpcap", "setuid", "sys_chroot"}},
		{"CapBnd:\t0000030000000001", []string{"cap_41", "checkpoint_restore", "chown"}},
		{"CapBnd:\t8000000000000000", []string{"cap_63"}},
		{"CapBnd: zz", []string{}},
		{"CapBnd:\t10000000000000000", []string{}}, // more than 64 bits
		{"CapEff:\t0000000000000001", []string{}},
		{"", []string{}},
	} {
		got := parseCapBnd(c.line + "\n")
		if !slices.Equal(got, c.want) || got == nil {
			t.Errorf("%q: %#v, want %v", c.line, got, c.want)
		}
	}
	if n := len(parseCapBnd("CapBnd:\t000001ffffffffff")); n != 41 {
		t.Errorf("a full 6.x bounding set: %d capabilities, want 41", n)
	}
	for i := range capNames {
		if capNames[i] == "" || strings.ToLower(capNames[i]) != capNames[i] {
			t.Errorf("capability %d has name %q", i, capNames[i])
		}
	}
}

// TestDecodeBeforeCapabilities: facts state recorded before capabilities
// were gathered decode as not recorded (nil), which Equal tells from a
// host that has none; facts gathered now always record them.
func TestDecodeBeforeCapabilities(t *testing.T) {
	old := `{"os":{"id":"debian","id_like":[],"version_id":"12","name":"Debian","family":"debian"},"arch":"x86_64","package_arch":"amd64","cores":2,"memory_mb":1024,"devices":[]}`
	f, ok := Decode(json.RawMessage(old))
	if !ok || f.CapabilitiesRecorded() || f.OS.ID != "debian" {
		t.Fatalf("old facts: %v %+v", ok, f)
	}
	none := f
	none.Capabilities = []string{}
	if none.Equal(f) || !none.CapabilitiesRecorded() {
		t.Fatal("no capabilities compare equal to capabilities not recorded")
	}
	back, _ := Decode(none.Encode())
	if !back.CapabilitiesRecorded() || len(back.Capabilities) != 0 {
		t.Fatalf("recorded empty capabilities decode as %#v", back.Capabilities)
	}
	parsed, _ := Parse("@@facts:os-release\nID=debian\n@@facts:end\n")
	if !parsed.CapabilitiesRecorded() {
		t.Fatal("a host that tells no capabilities records none, not nothing")
	}
}

// TestDecodeHoldsStateToParseRules: facts read back from a state file
// (edited, or written by another diffuser) reach recipes only as Parse
// would have kept them from a host: a shell word, a path or an option as
// an OS id, version, architecture or device name is dropped, free text
// loses its control characters, lists and numbers are bounded. What Parse
// itself returns comes back unchanged, so a recorded host is not seen as
// changed.
func TestDecodeHoldsStateToParseRules(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, file := range files {
		raw, _ := os.ReadFile(file)
		f, err := Parse(string(raw))
		if err != nil {
			continue
		}
		if back, ok := Decode(f.Encode()); !ok || !back.Equal(f) {
			t.Errorf("%s: decoded %+v, parsed %+v", file, back, f)
		}
	}
	devs := `{"name": "$(reboot)", "type": "disk"}, {"name": "../../etc"}, {"name": "-rf"}, {"name": "sdb;id"},
		{"name": "sdc", "type": "disk` + "`id`" + `", "fstype": "xfs $(id)", "mountpoint": "/mnt/\u001b[31mred", "size_bytes": -7}`
	for i := 0; i < 2000; i++ {
		devs += `, {"name": "d` + strings.Repeat("x", i%5) + `"}`
	}
	hostile := `{"os": {"id": "Debian;reboot", "id_like": ["$(id)", "Debian", "-x"], "version_id": "12\"3", "name": "a\u0007b",
		"family": "rhel"}, "arch": "x86_64 $(id)", "package_arch": "../amd64", "cores": -3, "memory_mb": 1000000000000000,
		"capabilities": ["net_admin", "$(id)", "net_admin", "cap_63", "cap_64", "NET_RAW", "cap_1"],
		"devices": [` + devs + `]}`
	f, ok := Decode(json.RawMessage(hostile))
	if !ok {
		t.Fatal("not decoded")
	}
	if f.OS.ID != "" || f.OS.VersionID != "" || f.OS.Name != "ab" || f.Arch != "" || f.PackageArch != "" || f.Cores != 0 || f.MemoryMB != 0 {
		t.Errorf("hostile values kept: %+v", f)
	}
	if len(f.OS.IDLike) != 1 || f.OS.IDLike[0] != "debian" || f.OS.Family != "debian" {
		t.Errorf("id_like %q, family %q: want [debian], debian (the recorded family is worked out again)", f.OS.IDLike, f.OS.Family)
	}
	if strings.Join(f.Capabilities, ",") != "cap_63,net_admin" {
		t.Errorf("capabilities %q: want only names a CapBnd mask gives, once each, sorted", f.Capabilities)
	}
	if old, ok := Decode(json.RawMessage(`{"os": {"id": "debian"}}`)); !ok || old.CapabilitiesRecorded() {
		t.Errorf("facts recorded before capabilities were gathered: %+v, want capabilities not recorded", old)
	}
	if len(f.Devices) != maxDevices {
		t.Fatalf("%d devices kept, want the bound %d", len(f.Devices), maxDevices)
	}
	if d := f.Devices[0]; d.Name != "sdc" || d.Type != "" || d.FSType != "" || d.Mountpoint != "/mnt/[31mred" || d.SizeBytes != 0 {
		t.Errorf("first device kept as %+v, want sdc with no type, fstype or size and the escape dropped", d)
	}
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"diffuser/views"
)

// TestBuildVersionFallback: an unstamped binary reports the module
// version and the VCS revision the go command recorded, without repeating
// a revision the module version already carries; a stamp wins.
func TestBuildVersionFallback(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	info := func(modVersion string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "diffuser", Version: modVersion}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	cases := []struct {
		stamp string
		bi    *debug.BuildInfo
		want  string
	}{
		{"v1.2.3", info("(devel)", "vcs.revision", rev), "v1.2.3"},
		{"", info("(devel)", "vcs.revision", rev, "vcs.modified", "false"), "(devel) (0123456789ab)"},
		{"", info("(devel)", "vcs.revision", rev, "vcs.modified", "true"), "(devel) (0123456789ab, modified)"},
		{"", info("v0.0.0-20260101120000-0123456789ab+dirty", "vcs.revision", rev, "vcs.modified", "true"),
			"v0.0.0-20260101120000-0123456789ab+dirty"},
		{"", info("v1.4.0"), "v1.4.0"},
		{"", info(""), "(devel)"},
		{"", nil, "(devel)"},
	}
	for _, c := range cases {
		got := buildVersion(c.stamp, c.bi)
		if got.Version != c.want {
			t.Errorf("buildVersion(%q, %v) = %q, want %q", c.stamp, c.bi, got.Version, c.want)
		}
		if got.Go == "" || got.Platform == "" {
			t.Errorf("buildVersion lacks Go or platform: %+v", got)
		}
	}
	v := buildVersion("", info("(devel)", "vcs.revision", rev, "vcs.time", "2026-01-01T12:00:00Z", "vcs.modified", "true"))
	if v.Module != "diffuser" || v.ModuleVersion != "(devel)" || v.Revision != rev || v.RevisionTime != "2026-01-01T12:00:00Z" || !v.Modified {
		t.Errorf("module and VCS details: %+v", v)
	}
}

// TestVersionStampedByMake builds the binary with the Makefile's build
// target: its --version, version and version -json print what git describe
// says. Built again with no git on PATH, the binary falls back to the
// module and VCS information and says the same thing in all three places.
func TestVersionStampedByMake(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Skip("no make on PATH")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	build := func(bin string, env []string) {
		t.Helper()
		cmd := exec.Command(makeBin, "-C", root, "build", "BIN="+bin, "GO="+goBin)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make build: %v\n%s", err, out)
		}
	}
	run := func(bin string, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("%s %v: %v", bin, args, err)
		}
		return string(out)
	}
	// All three say the same version; -json is the documented shape.
	check := func(bin, want string) views.VersionJSON {
		t.Helper()
		flag, cmd := run(bin, "--version"), run(bin, "version")
		var v views.VersionJSON
		if err := json.Unmarshal([]byte(run(bin, "version", "-json")), &v); err != nil {
			t.Fatal(err)
		}
		if flag != cmd || flag != "diffuser "+v.Version+"\n" {
			t.Errorf("--version %q, version %q, version -json %q: not the same", flag, cmd, v.Version)
		}
		if want != "" && v.Version != want {
			t.Errorf("version %q, want %q", v.Version, want)
		}
		if v.Module != "diffuser" || v.Go == "" || v.Platform == "" {
			t.Errorf("version -json: %+v", v)
		}
		return v
	}

	if gitBin, err := exec.LookPath("git"); err == nil {
		desc, err := exec.Command(gitBin, "-C", root, "describe", "--tags", "--always", "--dirty").Output()
		if err == nil {
			stamped := filepath.Join(dir, "stamped")
			build(stamped, os.Environ())
			check(stamped, strings.TrimSpace(string(desc)))
		}
	}

	// No git: PATH is every command on it but git (the same compilers,
	// so the build reuses the cache).
	noGit := filepath.Join(dir, "nogit")
	if err := os.MkdirAll(noGit, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if e.Name() != "git" {
				_ = os.Symlink(filepath.Join(d, e.Name()), filepath.Join(noGit, e.Name())) // the first on PATH wins
			}
		}
	}
	if _, err := exec.LookPath(filepath.Join(noGit, "git")); err == nil {
		t.Fatal("git is still reachable")
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	fallback := filepath.Join(dir, "fallback")
	build(fallback, append(env, "PATH="+noGit))
	v := check(fallback, "")
	if v.ModuleVersion == "" || !strings.HasPrefix(v.Version, v.ModuleVersion) {
		t.Errorf("without git the version is %q, not the module's %q", v.Version, v.ModuleVersion)
	}
}

// TestVersionFlag: --version (and Terraform's -version) print what
// `diffuser version` prints.
func TestVersionFlag(t *testing.T) {
	e := newSimCLI(t, nil)
	want := e.must("version")
	for _, flag := range []string{"--version", "-version"} {
		if got := e.must(flag); got != want {
			t.Errorf("%s printed %q, version %q", flag, got, want)
		}
	}
	var v views.VersionJSON
	if err := json.Unmarshal([]byte(e.must("version", "-json")), &v); err != nil || want != "diffuser "+v.Version+"\n" {
		t.Errorf("version -json: %v %+v; version printed %q", err, v, want)
	}
}

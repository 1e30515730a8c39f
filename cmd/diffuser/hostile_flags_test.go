package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"diffuser/workspace"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestHostileDataDirAndFlags: a --data-dir that cannot hold workspaces,
// and numbers and durations out of range, are refused before anything is
// read or written, naming the flag and what to give instead.
func TestHostileDataDirAndFlags(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	root := t.TempDir()
	file := filepath.Join(root, "a-file")
	if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(root, "data")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data-dir", "", "plan", "--simulate", recipe}, "--data-dir is empty: give a directory, or leave the flag out for .diffuser"},
		{[]string{"--data-dir", file, "plan", "--simulate", recipe}, "--data-dir " + file + " is a file, not a directory"},
		{[]string{"--data-dir", file, "workspace", "list"}, "--data-dir " + file + " is a file, not a directory"},
		{[]string{"--data-dir", filepath.Join(file, "sub"), "apply", "--simulate", "-auto-approve", recipe}, "--data-dir " + filepath.Join(file, "sub") + ": stat " + filepath.Join(file, "sub") + ": not a directory"},
		{[]string{"--data-dir", os.DevNull, "state", "list", "w"}, "--data-dir /dev/null is a file, not a directory"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--parallelism", "-1", recipe}, "--parallelism is -1: give a positive number, or 0 for no limit"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--parallelism", "99999999999999999999", recipe}, `invalid argument "99999999999999999999" for "--parallelism"`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--max-connects", "-5", recipe}, "--max-connects is -5: give a positive number, or 0 for no limit"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--keep-runs", "-1", recipe}, "--keep-runs is -1"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--lock-timeout", "-1s", recipe}, "--lock-timeout is -1s"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--step-timeout", "soon", recipe}, `invalid argument "soon" for "--step-timeout"`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--ttl", "-1h", recipe}, `--ttl: invalid ttl "-1h": a ttl is at least 1m and at most 366d`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--ttl", "0s", recipe}, `--ttl: invalid ttl "0s": a ttl is at least 1m and at most 366d, or 0 to remove the deadline`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--ttl", "1w", recipe}, `--ttl: invalid ttl "1w": write a duration such as 90m, 4h or 7d`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--ttl", "$(reboot)", recipe}, `--ttl: invalid ttl "$(reboot)"`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--ttl", "9999999h", recipe}, `--ttl: invalid ttl "9999999h"`},
		// verify took any size: 0 and -5 as 4 MiB without a word, and
		// 99999999999 MiB as a file written until the filesystem was full.
		{[]string{"--data-dir", data, "verify", "--simulate", "--size-mib", "0", recipe}, "--size-mib is 0: give the test file's size in MiB, from 1 to 4096"},
		{[]string{"--data-dir", data, "verify", "--simulate", "--size-mib", "-5", recipe}, "--size-mib is -5: give the test file's size in MiB, from 1 to 4096"},
		{[]string{"--data-dir", data, "verify", "--simulate", "--size-mib", "99999999999", recipe}, "--size-mib is 99999999999: give the test file's size in MiB, from 1 to 4096 (diffuser bench measures with larger files)"},
		// A size past what a byte count holds wrapped to a negative one,
		// which bench then took for its default.
		{[]string{"--data-dir", data, "bench", "--size", "99999999999TiB", recipe}, `--size: "99999999999TiB" is more bytes than a size holds`},
		{[]string{"--data-dir", data, "bench", "--size", "0.1", recipe}, `--size: "0.1" is less than one byte`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			before := treeBytes(t, root)
			res := badRun(t, tc.args...)
			checkFailed(t, res)
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, res.stderr)
			}
			sameTree(t, "temp dir", before, treeBytes(t, root))
		})
	}
}

// TestDefaultSiteNotAFile: ./diffuser.hcl is the site file when present;
// something by that name that is not a readable file (a directory, a
// link to nothing, a named pipe) used to be taken as no site file at all
// when a link dangled (the hosts then came from the default provider),
// and to be refused with "Pass an existing file with -site, or remove the
// flag" for a flag nobody gave. Now every command says what it is.
func TestDefaultSiteNotAFile(t *testing.T) {
	recipe, err := filepath.Abs(filepath.Join(badDir, "ok.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		make func(p string) error
		want string
	}{
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) }, "./diffuser.hcl, the site file when present, is a directory: move it away, or give -site FILE"},
		{"dangling link", func(p string) error { return os.Symlink("/nonexistent/site.hcl", p) },
			"./diffuser.hcl, the site file when present, is a link to /nonexistent/site.hcl, which cannot be read (no such file or directory): fix the link, remove it, or give -site FILE"},
		{"named pipe", func(p string) error { return syscall.Mkfifo(p, 0o600) }, "./diffuser.hcl, the site file when present, is not a regular file"},
	} {
		for _, args := range [][]string{
			{"plan", "--simulate", recipe},
			{"validate", recipe},
			{"apply", "--simulate", "-auto-approve", recipe},
			{"state", "list", "badinput"},
		} {
			t.Run(tc.name+"/"+args[0], func(t *testing.T) {
				dir := t.TempDir()
				t.Chdir(dir)
				if err := tc.make(filepath.Join(dir, "diffuser.hcl")); err != nil {
					t.Skip(err)
				}
				before := treeBytes(t, dir)
				res := badRun(t, append([]string{"--data-dir", filepath.Join(dir, "data")}, args...)...)
				checkFailed(t, res)
				if !strings.Contains(res.stderr, tc.want) {
					t.Errorf("stderr lacks %q:\n%s", tc.want, res.stderr)
				}
				sameTree(t, "working directory", before, treeBytes(t, dir))
			})
		}
	}
}

// TestTerminalEscapesShownAsText: a -var holding terminal escapes (a
// window title, a cleared screen, a carriage return, a bidi override) is
// printed as text wherever the CLI shows it: the apply's outputs, diffuser
// output, diffuser vars, and a diagnostic quoting the -var. They used to
// reach the terminal raw (only the plan's one-line strings were quoted).
func TestTerminalEscapesShownAsText(t *testing.T) {
	dir := t.TempDir()
	recipe := filepath.Join(dir, "out.hcl")
	if err := os.WriteFile(recipe, []byte(`recipe "out" { description = "an output from a variable" }
variable "s" {
  type    = string
  default = "x"
}
variable "n" {
  type    = number
  default = 1
}
hosts "server" { count = var.n }
step "hi" {
  on  = hosts.server
  run = "echo hi"
}
output "o" { value = var.s }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	hostile := "a\x1b]0;owned\x07\x1b[2J\nline2\rCR\u202e"
	for _, args := range [][]string{
		{"apply", "--simulate", "-auto-approve", "--progress", "plain", "--var", "s=" + hostile, recipe},
		{"output", "out"},
		{"vars", "out"},
		{"plan", "--simulate", "--var", "n=\x1b[2J", recipe},
		{"state", "list", "out\x1b[2J"},
	} {
		res := badRun(t, append([]string{"--data-dir", data}, args...)...)
		all := res.stdout + res.stderr
		if strings.ContainsAny(all, "\x1b\x07\r\u202e") {
			t.Errorf("%s: a control character reached the terminal:\n%q", args[0], all)
		}
		if !strings.Contains(all, `\x1b`) {
			t.Errorf("%s: the escape is not shown as text:\n%s", args[0], all)
		}
	}
}

// TestFlagErrorsSpellFlagsAsHelp: an error about a flag names it (and any
// flag it mentions) as --help's Flags list and pflag's own errors do,
// --name; they used to mix -lock-timeout and --parallelism.
func TestFlagErrorsSpellFlagsAsHelp(t *testing.T) {
	root := t.TempDir()
	recipe := filepath.Join(badDir, "ok.hcl")
	data := filepath.Join(root, "data")
	var long []string
	walkFlags((&app{}).rootCmd(), func(name string) { long = append(long, regexp.QuoteMeta(name)) })
	single := regexp.MustCompile(`(^|[^-\w])-(` + strings.Join(long, "|") + `)\b`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "-lock-timeout", "-1s", recipe}, "--lock-timeout is -1s"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "-keep-runs", "-1", recipe}, "--keep-runs is -1"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-parallelism", "-1", recipe}, "--parallelism is -1"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-parallelism", "x", recipe}, `for "--parallelism" flag`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-workspace", "a/b", recipe}, "--workspace: "},
		{[]string{"--data-dir", data, "apply", "--simulate", "-json", recipe}, "--progress=json (or --json) writes JSON lines and cannot ask for confirmation: pass --auto-approve"},
		{[]string{"--data-dir", data, "destroy", "--expired", "-target", "step.x", recipe}, "it does not take --target"},
		{[]string{"--data-dir", data, "destroy", "--expired", "--all-workspaces", "-workspace", "w"}, "give no RECIPE or --workspace with it"},
		{[]string{"--data-dir", data, "compare", recipe, "-threads", "0"}, "--threads must be between 1 and 256"},
		{[]string{"--data-dir", data, "compare", recipe, "-var", "novalue"}, `--var "novalue": write NAME=VALUE`},
	} {
		t.Run(strings.Join(tc.args[2:], " "), func(t *testing.T) {
			res := badRun(t, tc.args...)
			checkFailed(t, res)
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, res.stderr)
			}
			for _, line := range strings.Split(res.stderr, "\n") {
				if strings.HasPrefix(line, "Error:") && single.MatchString(line) {
					t.Errorf("the error spells a flag with one dash: %s", line)
				}
			}
		})
	}
}

// walkFlags calls fn with the name of every long flag of c and its
// subcommands.
func walkFlags(c *cobra.Command, fn func(string)) {
	add := func(f *pflag.Flag) { fn(f.Name) }
	c.Flags().VisitAll(add)
	c.PersistentFlags().VisitAll(add)
	for _, sub := range c.Commands() {
		walkFlags(sub, fn)
	}
}

// TestDiagnosticSnippetsShownAsText: a diagnostic's snippet quotes the
// line of the file it points at; a recipe, variables or site file from
// elsewhere whose line holds a terminal escape (in a comment, a string or
// a name) sent it raw. Each control character is now a '?' (as many as it
// has bytes, so the underline stays under the same text), a CRLF line end
// is left alone, and the summary and detail show escapes as before.
func TestDiagnosticSnippetsShownAsText(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const esc = "\x1b]0;owned\x07\x1b[2J\u202e\u009b"
	okRecipe := write("ok/main.hcl", "recipe \"ok\" {}\r\nvariable \"n\" { type = number }\r\nhosts \"server\" { count = var.n }\r\n")
	vars := write("bad.tfvars", "n = \"three\" # "+esc+"\n")
	site := write("site.hcl", "variables {\n  n = \"four\" # "+esc+"\n}\n")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"a step name", []string{"validate", write("name/main.hcl", "recipe \"name\" {}\nhosts \"n\" { count = 1 }\nstep \"b"+esc+"\" {\n  on = hosts.n\n  run = \"true\"\n}\n")}},
		{"a comment on the line", []string{"validate", write("comment/main.hcl", "recipe \"comment\" {}\nhosts \"n\" { count = 1 }\nstep \"b\" {\n  on = hosts.nope # "+esc+"\n  run = \"true\"\n}\n")}},
		{"a -var-file", []string{"plan", "--simulate", okRecipe, "-var-file", vars}},
		{"a site file", []string{"plan", "--simulate", okRecipe, "-site", site}},
	} {
		res := badRun(t, append([]string{"--data-dir", filepath.Join(dir, "data")}, tc.args...)...)
		all := res.stdout + res.stderr
		if res.code == 0 {
			t.Errorf("%s: exit 0", tc.name)
		}
		if strings.ContainsAny(all, "\x1b\x07\u202e\u009b") {
			t.Errorf("%s: a control character reached the terminal:\n%q", tc.name, all)
		}
		if !strings.Contains(all, "?]0;owned??[2J") {
			t.Errorf("%s: the snippet does not show the line with its escapes as '?':\n%s", tc.name, all)
		}
	}
}

// TestPlanOutOverwritesOnlyPlans: plan -out wrote over whatever its path
// held: `-out main.hcl` emptied the recipe, `-out` at the workspace's
// state.json replaced the state with a plan, and a named pipe blocked
// until something read it. Each is refused naming the path, every file
// byte for byte as it was; a saved plan (in clear, or sealed with the
// state key) is replaced as before, and a sealed state is not taken for
// one.
func TestPlanOutOverwritesOnlyPlans(t *testing.T) {
	e := newSimCLI(t, nil)
	recipe := e.write("po/main.hcl", "recipe \"po\" {}\nhosts \"n\" { count = 1 }\nstep \"s\" {\n  on  = hosts.n\n  run = \"true\"\n}\n")
	e.must("apply", recipe, "-provider", "sim", "-auto-approve", "--progress", "quiet")
	plan := func(out string, more ...string) (int, string) {
		t.Helper()
		done := make(chan struct{})
		var code int
		var errs string
		go func() {
			code, _, errs = e.run(append([]string{"plan", recipe, "-provider", "sim", "-out", out}, more...)...)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("-out %s: still writing after 20 s", out)
		}
		return code, errs
	}
	pipe := filepath.Join(t.TempDir(), "plan.pipe") // not under e.dir: filesUnder would read it
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	refused := func(path, says string, more ...string) {
		t.Helper()
		before := filesUnder(t, e.dir)
		code, errs := plan(path, more...)
		if code == 0 || !strings.Contains(errs, "-out "+path+": the file exists and "+says) || strings.Contains(errs, "remove") {
			t.Errorf("-out %s: exit %d, want it refused saying %q:\n%s", path, code, says, errs)
		}
		if after := filesUnder(t, e.dir); !reflect.DeepEqual(before, after) {
			t.Errorf("-out %s changed files", path)
		}
	}
	statePath := filepath.Join(e.data, "po", "state.json")
	refused(recipe, "is not a saved plan")
	refused(statePath, "is not a saved plan")
	refused(pipe, "is a named pipe")
	refused(e.dir, "is a directory")
	refused(os.DevNull, "is a character device")
	missing := filepath.Join(e.dir, "no-such-dir", "x.plan")
	if code, errs := plan(missing); code == 0 || !strings.Contains(errs, "writing "+missing+": ") {
		t.Errorf("-out in a missing directory: exit %d, want an error naming %s:\n%s", code, missing, errs)
	}

	// A saved plan is replaced, in clear and sealed.
	planFile := filepath.Join(e.dir, "po.plan")
	for i := 0; i < 2; i++ {
		if code, errs := plan(planFile); code != 0 {
			t.Fatalf("plan -out %s (%d): exit %d\n%s", planFile, i, code, errs)
		}
	}
	e.env = map[string]string{workspace.StateKeyEnv: testStateKey}
	e.must("apply", recipe, "-provider", "sim", "-auto-approve", "--progress", "quiet") // seals the state
	for i := 0; i < 2; i++ {
		if code, errs := plan(planFile); code != 0 {
			t.Fatalf("sealed plan -out %s (%d): exit %d\n%s", planFile, i, code, errs)
		}
	}
	refused(statePath, "is not a saved plan sealed with this state key")
	if b := readFile(t, planFile); !strings.HasPrefix(b, `{"diffuser_encrypted":`) {
		t.Fatalf("the plan is not sealed: %.100s", b)
	}
	// Another workspace, whose state is in clear, without the key: the
	// sealed plan cannot be told from a sealed state.
	e.env = nil
	refused(planFile, "is encrypted, and without the state key", "-workspace", "other")
}

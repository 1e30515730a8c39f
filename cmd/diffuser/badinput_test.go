package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// The bad-input corpus under testdata/badinput: broken recipes, site files,
// variable files and state files handed to the real CLI entry point. Every
// case must exit 1 without panicking, name the offending file (and line,
// where there is one) on stderr, print each problem once and leave state
// files byte-for-byte as they were.
//
// Recipe, site and var files carry `# ERROR: <summary>` on the line the
// diagnostic must point at (`# ERROR(line N): ...` where a comment cannot
// go); `# VAR: name=value` adds a -var. Site files are checked by
// validate and plan alike, with the static provider unless
// `# PROVIDER: name` picks another.

const badDir = "testdata/badinput"

// badStaticSite lists static hosts for the cases that plan with --provider
// static: without it every plan would stop at "too few hosts".
const badStaticSite = badDir + "/site_static.hcl"

type badResult struct {
	code           int
	stdout, stderr string
}

// badRun runs the CLI in-process and fails the test if it panics.
func badRun(t *testing.T, args ...string) (res badResult) {
	t.Helper()
	var out, errb bytes.Buffer
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("diffuser %s panicked: %v\n%s", strings.Join(args, " "), p, debug.Stack())
		}
		res = badResult{code: res.code, stdout: out.String(), stderr: errb.String()}
	}()
	res.code = run(context.Background(), nil, args, strings.NewReader(""), &out, &errb)
	return res
}

type badMarker struct {
	line    int
	summary string
}

type badFile struct {
	markers  []badMarker
	vars     []string
	provider string
}

var (
	badMarkerRE    = regexp.MustCompile(`#\s*ERROR(?:\(line (\d+)\))?:\s*(.*?)\s*(?:$|#\s*ERROR)`)
	badDirectiveRE = regexp.MustCompile(`^#\s*(VAR|PROVIDER):\s*(.*?)\s*$`)
)

func readBadFile(t *testing.T, name string) badFile {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var bf badFile
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := badDirectiveRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			if m[1] == "VAR" {
				bf.vars = append(bf.vars, m[2])
			} else {
				bf.provider = m[2]
			}
			continue
		}
		for rest := line; ; {
			i := strings.Index(rest, "# ERROR")
			if i < 0 {
				break
			}
			m := badMarkerRE.FindStringSubmatch(rest[i:])
			if m == nil {
				t.Fatalf("%s:%d: malformed marker", name, n)
			}
			mk := badMarker{line: n, summary: m[2]}
			if m[1] != "" {
				mk.line, _ = strconv.Atoi(m[1])
			}
			bf.markers = append(bf.markers, mk)
			rest = rest[i+len("# ERROR"):]
		}
	}
	if len(bf.markers) == 0 {
		t.Fatalf("%s has no # ERROR marker", name)
	}
	return bf
}

// checkBadDiags asserts a failed run printed exactly the marked diagnostics,
// each with "on FILE line N" and, when the source is readable, the line.
func checkBadDiags(t *testing.T, res badResult, file string, markers []badMarker) {
	t.Helper()
	checkFailed(t, res)
	if got := strings.Count(res.stderr, "Error: "); got != len(markers) {
		t.Errorf("stderr has %d error(s), want %d (each problem once):\n%s", got, len(markers), res.stderr)
	}
	src, _ := os.ReadFile(file)
	lines := strings.Split(string(src), "\n")
	for _, m := range markers {
		if !strings.Contains(res.stderr, "Error: "+m.summary+"\n") {
			t.Errorf("stderr lacks %q:\n%s", "Error: "+m.summary, res.stderr)
		}
		// <NAME in FILE> names the file and line of a value not to be
		// shown (a sensitive or undeclared variable's): no line is quoted.
		hidden := regexp.MustCompile(`(?m)^  on <[^>\n]* in ` + regexp.QuoteMeta(file) + `> line ` + strconv.Itoa(m.line) + `[:,]`).MatchString(res.stderr)
		where := regexp.MustCompile(`(?m)^  on ` + regexp.QuoteMeta(file) + ` line ` + strconv.Itoa(m.line) + `[:,]`)
		if !where.MatchString(res.stderr) && !hidden {
			t.Errorf("stderr does not locate %q at %s line %d:\n%s", m.summary, file, m.line, res.stderr)
		}
		if m.line <= len(lines) && strings.TrimSpace(lines[m.line-1]) != "" && !hidden {
			snippet := fmt.Sprintf("%4d: %s", m.line, strings.TrimRight(lines[m.line-1], "\r"))
			if !strings.Contains(res.stderr, snippet) {
				t.Errorf("stderr does not quote line %d (%q):\n%s", m.line, snippet, res.stderr)
			}
		}
	}
}

func checkFailed(t *testing.T, res badResult) {
	t.Helper()
	if res.code != exitError {
		t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, exitError, res.stdout, res.stderr)
	}
	if strings.Contains(res.stdout, "is valid") || strings.Contains(res.stdout, "Plan:") {
		t.Errorf("a failed run reported success on stdout:\n%s", res.stdout)
	}
	if res.stderr == "" {
		t.Errorf("nothing on stderr")
	}
}

func globBad(t *testing.T, pattern string, min int) []string {
	t.Helper()
	names, err := filepath.Glob(pattern)
	if err != nil || len(names) < min {
		t.Fatalf("%s: %d files (want at least %d), %v", pattern, len(names), min, err)
	}
	return names
}

func caseName(p string) string { return strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)) }

func withVars(args []string, vars []string) []string {
	for _, v := range vars {
		args = append(args, "--var", v)
	}
	return args
}

// TestBadRecipes runs validate and plan on every broken recipe of this
// corpus and of lang's (which the lang tests check diagnostic by
// diagnostic; here the question is what a person sees).
func TestBadRecipes(t *testing.T) {
	names := globBad(t, filepath.Join(badDir, "recipes", "*.hcl"), 10)
	names = append(names, globBad(t, filepath.Join("..", "..", "lang", "testdata", "invalid", "*.hcl"), 40)...)
	for _, name := range names {
		t.Run(filepath.Base(filepath.Dir(name))+"/"+caseName(name), func(t *testing.T) {
			bf := readBadFile(t, name)
			data := filepath.Join(t.TempDir(), ".diffuser")
			checkBadDiags(t, badRun(t, withVars([]string{"validate", name}, bf.vars)...), name, bf.markers)
			checkBadDiags(t, badRun(t, withVars([]string{"plan", "--provider", "static", "--site", badStaticSite, "--data-dir", data, name}, bf.vars)...), name, bf.markers)
			if _, err := os.Stat(data); err == nil {
				t.Errorf("a plan that failed to load created %s", data)
			}
		})
	}
}

func TestBadRecipeDirectory(t *testing.T) {
	dir := filepath.Join(badDir, "recipedir")
	file := filepath.Join(dir, "steps.hcl")
	bf := readBadFile(t, file)
	checkBadDiags(t, badRun(t, "validate", dir), file, bf.markers)
}

// TestBadRecipeNotText: a recipe with a NUL byte and one over the size
// limit are refused before parsing, naming the file (and the line of the
// NUL); a path that is neither a file nor a built-in recipe is an error,
// and one that is there but cannot be read (a loop of links) says why.
func TestBadRecipeNotText(t *testing.T) {
	dir := t.TempDir()
	ok, err := os.ReadFile(filepath.Join(badDir, "ok.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	nul := filepath.Join(dir, "nul.hcl")
	lines := strings.SplitAfter(string(ok), "\n")
	lines[6] = "variable \"x\x00\" {}\n"
	if err := os.WriteFile(nul, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop.hcl") // a link to itself: there, but not readable
	if err := os.Symlink("loop.hcl", loop); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.hcl")
	if err := os.WriteFile(huge, append(ok, bytes.Repeat([]byte("# padding\n"), 5<<20/10)...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want []string
	}{
		{nul, []string{"Error: Binary file", "on " + nul + " line 7", nul + " contains a NUL byte at line 7"}},
		{huge, []string{"Error: File too large", "on " + huge + " line 1", huge + " is 5"}},
		{filepath.Join(dir, "missing.hcl"), []string{"no recipe", "missing.hcl"}},
		{loop, []string{"cannot read recipe " + loop, "too many levels of symbolic links"}},
		{dir + "/empty-dir", []string{"no recipe", "(built-in: ceph, glusterfs,"}},
		{"builtin/xfs-volume", []string{"builtin/xfs-volume is a built-in module, not a recipe", `source = "builtin/xfs-volume"`}},
	} {
		res := badRun(t, "validate", tc.path)
		checkFailed(t, res)
		for _, w := range tc.want {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("validate %s: stderr lacks %q:\n%s", tc.path, w, res.stderr)
			}
		}
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	res := badRun(t, "validate", empty)
	checkFailed(t, res)
	if !strings.Contains(res.stderr, "no .hcl files in "+empty) {
		t.Errorf("validate of an empty directory:\n%s", res.stderr)
	}
}

func TestBadSiteFiles(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	for _, name := range globBad(t, filepath.Join(badDir, "sites", "*.hcl"), 10) {
		t.Run(caseName(name), func(t *testing.T) {
			bf := readBadFile(t, name)
			data := filepath.Join(t.TempDir(), ".diffuser")
			provider := cmp.Or(bf.provider, "static")
			checkBadDiags(t, badRun(t, "plan", "--provider", provider, "--site", name, "--data-dir", data, recipe), name, bf.markers)
			checkBadDiags(t, badRun(t, "validate", "--provider", provider, "--site", name, recipe), name, bf.markers)
		})
	}
}

func TestBadVarFiles(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	for _, name := range globBad(t, filepath.Join(badDir, "varfiles", "*.hcl"), 6) {
		t.Run(caseName(name), func(t *testing.T) {
			bf := readBadFile(t, name)
			checkBadDiags(t, badRun(t, "validate", "--var-file", name, recipe), name, bf.markers)
			checkBadDiags(t, badRun(t, "plan", "--provider", "static", "--site", badStaticSite, "--data-dir", t.TempDir(), "-var-file="+name, recipe), name, bf.markers)
		})
	}
	res := badRun(t, "validate", "--var-file", filepath.Join(badDir, "varfiles", "missing.hcl"), recipe)
	checkFailed(t, res)
	if !strings.Contains(res.stderr, "Error: Cannot read variables file") || !strings.Contains(res.stderr, "missing.hcl") {
		t.Errorf("missing var file:\n%s", res.stderr)
	}
}

func TestBadVarFlags(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	for _, tc := range []struct{ flag, summary, detail string }{
		{"servers=abc", "Invalid value for variable", `Variable "servers" must be number`},
		{"servers=0", "Invalid value for variable", "At least one server is needed."},
		{"severs=3", "Value for undeclared variable", `no variable "severs". Did you mean "servers"?`},
		{"packages=glusterfs", "Invalid value for variable", `Variable "packages" must be list(string)`},
		{"servers", "Invalid -var", `"servers" must be NAME=VALUE`},
	} {
		for _, args := range [][]string{
			{"validate", "--var", tc.flag, recipe},
			{"plan", "-var", tc.flag, "--provider", "static", "--site", badStaticSite, "--data-dir", t.TempDir(), recipe},
		} {
			res := badRun(t, args...)
			checkFailed(t, res)
			if strings.Count(res.stderr, "Error: ") != 1 || !strings.Contains(res.stderr, "Error: "+tc.summary+"\n") || !strings.Contains(res.stderr, tc.detail) {
				t.Errorf("%s -var %s: want one %q saying %q:\n%s", args[0], tc.flag, tc.summary, tc.detail, res.stderr)
			}
			at := "on <-var " + tc.flag + "> line 1"
			if tc.summary == "Value for undeclared variable" {
				at = "on <-var severs> line 1" // not the value: it may be a secret meant for another name
			}
			if tc.summary != "Invalid -var" && !strings.Contains(res.stderr, at) {
				t.Errorf("%s -var %s: the error does not point at the flag:\n%s", args[0], tc.flag, res.stderr)
			}
		}
	}
}

// TestBadStateFiles puts a damaged state.json (and, for the journal cases,
// a good state.json with a damaged state.journal) into a workspace and
// plans: the error names the file and the line where there is one, and the
// files are left exactly as they were, with nothing added beside them.
func TestBadStateFiles(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	stateWant := map[string]string{
		"array":                   "state.json:1:1: json: cannot unmarshal array",
		"bad_timestamp":           `state.json:12:18: parsing time "yesterday"`,
		"comment":                 "state.json:3:3: invalid character '/'",
		"empty":                   "state.json:1:1: the file is empty (0 bytes",
		"garbage":                 "state.json:1:1: invalid character",
		"newer_version":           "state.json has schema version 99, written by a newer diffuser",
		"newer_version_new_shape": "state.json has schema version 99, written by a newer diffuser",
		"no_lineage":              "state.json: no lineage",
		"no_version":              "state.json: no schema version",
		"null":                    "state.json: no schema version",
		"null_host":               `state.json: host "server[0]" is null`,
		// What encoding/json reads without a word: a key given twice (the
		// last one wins: no hosts), a field named twice in two cases, a
		// map that is null (read as empty), a byte order mark.
		"duplicate_hosts":      `state.json:7:3: hosts: the key "hosts" is given twice in one object (first at byte 106)`,
		"duplicate_hosts_case": `state.json:7:3: hosts: the key "Hosts" names the same field as "hosts"`,
		"hosts_null":           "state.json: hosts is null or missing: diffuser always writes an object there",
		"bom":                  "state.json:1:1: starts with a UTF-8 byte order mark",
		"trailing_garbage":     "state.json:8:1: invalid character '}' after top-level value",
		"truncated":            "state.json:9:25: unexpected end of JSON input",
		"wrong_nested_type":    "state.json:9:16: json: cannot unmarshal string into Go struct field Host.hosts.index",
		"wrong_type":           "state.json:3:13: json: cannot unmarshal string into Go struct field State.serial",
		// Parsed but not usable (issue 14): the JSON location of the value.
		"private_ip_heredoc":      `state.json: hosts["server[0]"].private_ip: "10.0.0.1\nDIFFUSER_RELAY_EOF\ntouch /pwned" is neither an IP address nor a host name`,
		"private_ip_not_ip":       `state.json: hosts["server[0]"].private_ip: "$(reboot)" is neither`,
		"port_out_of_range":       `state.json: hosts["server[0]"].ssh.port: port 65536 is out of range`,
		"user_metachar":           `state.json: hosts["server[0]"].ssh.user: "root;reboot" is not a user name`,
		"user_option":             `state.json: hosts["server[0]"].ssh.user: "-oProxyCommand=sh" is not a user name`,
		"address_newline":         `state.json: hosts["server[0]"].ssh.address: "10.0.0.1\nProxyCommand sh" is neither`,
		"address_space":           `state.json: hosts["server[0]"].ssh.address: "10.0.0.1 -v" is neither`,
		"jump_user_option":        `state.json: hosts["server[0]"].ssh.jump.user: "-F/tmp/x" is not a user name`,
		"device_relative":         `state.json: hosts["server[0]"].volumes["data"].device: "sdb" is not a device path`,
		"device_command":          `state.json: hosts["server[0]"].volumes["data"].device: "/dev/sdb;mkfs /dev/sda" is not a device path`,
		"host_other_name":         `state.json: hosts["server[0]"].name: host "server[1]" is filed under "server[0]"`,
		"instance_key_other_host": `state.json: instances["step.hello[\"server[0]\"]"]: the key names another instance than its fields (step "hello" on host "server[1]"`,
	}
	journalWant := map[string]string{
		"ahead_of_state": "state.journal:1: the journal continues state serial 7 but state.json is at serial 3",
		"bad_record":     "state.journal:3:26: unexpected end of JSON input",
		"binary_record":  "state.journal:2:1: invalid character '\\x00'",
		"garbage":        "state.journal:1:1: invalid character 'g'",
		"newer_version":  "state.journal has schema version 9, written by a newer diffuser",
		"other_lineage":  "state.journal belongs to state lineage 0000aaaa-0000-0000-0000-000000000000",
		"unknown_record": `state.journal:2: record "x" has unknown kind "volcano"`,
		"duplicate_key":  `state.journal:2:237: kind: the key "kind" is given twice`,
		"hostile_host":   `state.journal: hosts["server[0]"].private_ip: "10.0.0.1\nDIFFUSER_RELAY_EOF\nreboot" is neither`,
	}
	okState := filepath.Join(badDir, "state_ok.json")
	type files map[string]string // file name in the workspace -> corpus file
	var cases []struct {
		name  string
		files files
		want  string
	}
	add := func(name string, f files, want string) {
		cases = append(cases, struct {
			name  string
			files files
			want  string
		}{name, f, want})
	}
	for _, p := range globBad(t, filepath.Join(badDir, "states", "*.json"), 10) {
		want, ok := stateWant[caseName(p)]
		if !ok {
			t.Errorf("%s: no expectation in stateWant", p)
			continue
		}
		add("state/"+caseName(p), files{"state.json": p}, want)
	}
	for _, p := range globBad(t, filepath.Join(badDir, "journals", "*.jsonl"), 5) {
		want, ok := journalWant[caseName(p)]
		if !ok {
			t.Errorf("%s: no expectation in journalWant", p)
			continue
		}
		add("journal/"+caseName(p), files{"state.json": okState, "state.journal": p}, want)
	}
	if len(cases) != len(stateWant)+len(journalWant) {
		t.Errorf("%d cases for %d expectations: a corpus file is missing", len(cases), len(stateWant)+len(journalWant))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), ".diffuser")
			ws := filepath.Join(data, "w")
			if err := os.MkdirAll(ws, 0o700); err != nil {
				t.Fatal(err)
			}
			before := map[string][]byte{}
			for dst, src := range tc.files {
				b, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(ws, dst), b, 0o600); err != nil {
					t.Fatal(err)
				}
				before[dst] = b
			}
			res := badRun(t, "plan", "--provider", "static", "--site", badStaticSite, "--data-dir", data, "--workspace", "w", recipe)
			checkFailed(t, res)
			if want := filepath.Join(ws, tc.want); !strings.Contains(res.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
			}
			if strings.Count(res.stderr, "Error: ") != 1 {
				t.Errorf("want one error:\n%s", res.stderr)
			}
			ents, err := os.ReadDir(ws)
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != len(before) {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Errorf("workspace holds %v after the failed plan, want only %d file(s)", names, len(before))
			}
			for name, b := range before {
				after, err := os.ReadFile(filepath.Join(ws, name))
				if err != nil || !bytes.Equal(after, b) {
					t.Errorf("%s changed (%v): %d bytes before, %d after", name, err, len(b), len(after))
				}
			}
		})
	}
}

// TestBadInputOK: the recipe, var flags and state the bad cases are built
// on are fine by themselves, so each case fails for its own reason only.
func TestBadInputOK(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	res := badRun(t, "validate", "--var", "servers=3", "--var", `packages=["a"]`, recipe)
	if res.code != exitOK || !strings.Contains(res.stdout, `The recipe "badinput" is valid: 3 host(s)`) {
		t.Fatalf("validate ok.hcl: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	data := filepath.Join(t.TempDir(), ".diffuser")
	ws := filepath.Join(data, "w")
	if err := os.MkdirAll(ws, 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(badDir, "state_ok.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "state.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	res = badRun(t, "plan", "--provider", "static", "--site", badStaticSite, "--data-dir", data, "--workspace", "w", recipe)
	if res.code != exitOK || !strings.Contains(res.stdout, "Plan: 4 to add") {
		t.Fatalf("plan with state_ok.json: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(ws, "state.json")); !bytes.Equal(after, b) {
		t.Errorf("plan rewrote state.json")
	}
}

// TestBadRecipeSymlinkOut: validate and plan read a recipe directory
// through lang.DirFS: a module directory linked to outside it is refused
// at the call's source, and nothing outside is read. A recipe file given
// by a link is read where the link leads (the argument is the user's own
// choice), with what it reads beside it there.
func TestBadRecipeSymlinkOut(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "main.hcl"), []byte("step \"x\" { run = \"cat /nothing\" }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	recipe := "recipe \"t\" {}\nhosts \"server\" {}\nmodule \"a\" {\n  source = \"./m\"\n  on     = hosts.server\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(recipe), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "m")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"validate", dir}, {"plan", "--simulate", "--data-dir", t.TempDir(), dir}} {
		res := badRun(t, args...)
		checkFailed(t, res)
		for _, w := range []string{"Error: Module source outside the recipe", "on " + dir + "/main.hcl line 4", `"./m" is, or is inside, a symbolic link to outside the recipe's directory`} {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", args[0], w, res.stderr)
			}
		}
		if strings.Contains(res.stdout+res.stderr, "cat /nothing") {
			t.Errorf("%s read the module outside:\n%s%s", args[0], res.stdout, res.stderr)
		}
	}
	// A link to a recipe file elsewhere: its module is beside the file.
	real := t.TempDir()
	if err := os.WriteFile(filepath.Join(real, "main.hcl"), []byte(recipe), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(real, "m"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(real, "m", "main.hcl"), []byte("step \"x\" { run = \"true\" }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "recipe.hcl")
	if err := os.Symlink(filepath.Join(real, "main.hcl"), link); err != nil {
		t.Fatal(err)
	}
	if res := badRun(t, "validate", link); res.code != exitOK {
		t.Errorf("validate of a linked recipe file: exit %d\n%s", res.code, res.stderr)
	}
}

// TestBadRecipeManyErrors: a recipe with many mistakes prints the first
// 25 and says how many more there are. HCL's text writer reads the file
// from its start for each snippet: 3,000 moved blocks to nowhere took two
// and a half minutes to print.
func TestBadRecipeManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("recipe \"t\" {}\nhosts \"server\" {}\nstep \"s\" {\n  on  = hosts.server\n  run = \"true\"\n}\n")
	for i := range 60 {
		fmt.Fprintf(&b, "moved {\n  from = step.old%d\n  to   = step.new%d\n}\n", i, i)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	res := badRun(t, "validate", dir)
	checkFailed(t, res)
	if got := strings.Count(res.stderr, "Error: Moved to an unknown address"); got != 25 {
		t.Errorf("%d errors printed, want the first 25", got)
	}
	if !strings.Contains(res.stderr, "\n35 more error(s) and 0 warning(s) are not shown: fix the ones above and run again.\n") {
		t.Errorf("stderr does not say how many more:\n%s", res.stderr[max(0, len(res.stderr)-300):])
	}
	if !strings.Contains(res.stderr, "on "+dir+"/main.hcl line 9") {
		t.Errorf("the first error is not shown first:\n%s", res.stderr[:min(len(res.stderr), 400)])
	}
}

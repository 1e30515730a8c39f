package lang_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/lang"

	"github.com/zclconf/go-cty/cty"
)

// evalLocal loads a recipe from fsys (recipe files under dir) whose locals
// include e = <expr>, and returns local.e.
func evalLocal(t *testing.T, fsys fstest.MapFS, dir, expr string) (cty.Value, string) {
	t.Helper()
	fsys[dir+"/main.hcl"] = &fstest.MapFile{Data: []byte("recipe \"f\" {}\nlocals {\n  e = " + expr + "\n}\n")}
	r, diags := lang.Load(lang.Source{FS: fsys, Dir: dir, Display: "f"}, testKinds())
	if diags.HasErrors() {
		return cty.NilVal, diagString(diags)
	}
	s := &lang.Scope{Recipe: r, Vars: map[string]cty.Value{}}
	if diags := s.EvalLocals(); diags.HasErrors() {
		return cty.NilVal, diagString(diags)
	}
	return s.Locals["e"], ""
}

func TestFunctions(t *testing.T) {
	fsys := func() fstest.MapFS {
		return fstest.MapFS{
			"r/files/glusterd.vol": {Data: []byte("volume management\n  type mgmt/glusterd\nend-volume\n")},
			"r/peers.tpl":          {Data: []byte("%{ for h in hosts ~}\nprobe ${h}\n%{ endfor ~}\nreplica ${replica} on ${upper(name)}\n")},
			"r/nested.tpl":         {Data: []byte("${file(\"files/glusterd.vol\")}")},
			"r/bad.tpl":            {Data: []byte("${nope}")},
			"other/secret":         {Data: []byte("another recipe's file")},
		}
	}
	for _, tc := range []struct{ expr, want string }{
		{`join(" ", ["a", "b", "c"])`, "a b c"},
		{`format("%s:/%s", "10.0.0.1", "gv0")`, "10.0.0.1:/gv0"},
		{`format("%03d", 7)`, "007"},
		{`cidrhost("10.0.0.0/24", 5)`, "10.0.0.5"},
		{`cidrhost("fd00::/64", 17)`, "fd00::11"},
		{`cidrsubnet("10.0.0.0/16", 8, 2)`, "10.0.2.0/24"},
		{`shellquote("gv0")`, "gv0"},
		{`shellquote("")`, "''"},
		{`shellquote("$(touch /tmp/pwned)")`, "'$(touch /tmp/pwned)'"},
		{`shellquote("it's")`, `'it'"'"'s'`},
		{`file("files/glusterd.vol")`, "volume management\n  type mgmt/glusterd\nend-volume\n"},
		{`file("./files/../files/glusterd.vol")`, "volume management\n  type mgmt/glusterd\nend-volume\n"},
		{`templatefile("peers.tpl", { hosts = ["10.0.0.1", "10.0.0.2"], replica = 2, name = "gv0" })`,
			"probe 10.0.0.1\nprobe 10.0.0.2\nreplica 2 on GV0\n"},
		{`templatefile("nested.tpl", {})`, "volume management\n  type mgmt/glusterd\nend-volume\n"},
		{`try(file("missing"), "fallback")`, "fallback"},
		{`jsonencode({ a = 1 })`, `{"a":1}`},
		{`sha256("x")`, "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"},
	} {
		got, errs := evalLocal(t, fsys(), "r", tc.expr)
		if errs != "" {
			t.Errorf("%s:%s", tc.expr, errs)
			continue
		}
		if !got.RawEquals(cty.StringVal(tc.want)) {
			t.Errorf("%s = %#v, want %q", tc.expr, got, tc.want)
		}
	}

	// file and templatefile read beside the recipe only.
	for _, expr := range []string{
		`file("../other/secret")`,          // a sibling recipe in the same FS
		`file("files/../../other/secret")`, // the same, less plainly
		`file("/etc/passwd")`,              // absolute
		`file("..")`,
		`templatefile("../other/secret", {})`,
		`file("missing.txt")`,         // not there
		`templatefile("bad.tpl", {})`, // the template reads an unknown variable
		`templatefile("peers.tpl", "not a map")`,
		`file("files")`,              // a directory
		`shellquote(["list"])`,       // wrong argument type
		`cidrhost("10.0.0.0/30", 9)`, // out of range
		`templatefile("nested.tpl", { x = file("../other/secret") })`,
	} {
		got, errs := evalLocal(t, fsys(), "r", expr)
		if errs == "" {
			t.Errorf("%s = %#v, want an error", expr, got)
		}
		if strings.Contains(errs, "another recipe") {
			t.Errorf("%s leaked the sibling's content:%s", expr, errs)
		}
	}
	if _, errs := evalLocal(t, fsys(), "r", `file("../other/secret")`); !strings.Contains(errs, "outside the recipe directory") {
		t.Errorf("file(\"../other/secret\") error does not say why:%s", errs)
	}
}

// TestFileReadsTextOnly: file() and templatefile() of a file that is not
// UTF-8 text, or holds a NUL, are refused naming the file and saying how
// to send a binary file (as Terraform's file() refuses them): the bytes
// were taken, and state recorded them as U+FFFD. Text, U+FFFD and other
// scripts included, is read as it is.
func TestFileReadsTextOnly(t *testing.T) {
	fsys := fstest.MapFS{
		"r/latin1.conf": {Data: []byte("name = caf\xe9\n")},
		"r/nul.bin":     {Data: []byte("\x7fELF\x02\x01\x00\x00")},
		"r/nul.tpl":     {Data: []byte("${x}\x00")},
		"r/ok.txt":      {Data: []byte("ünïcödé \ufffd ✓\n")},
	}
	for expr, want := range map[string]string{
		`file("latin1.conf")`:            "latin1.conf is not UTF-8 text (the first invalid byte at byte 10)",
		`file("nul.bin")`:                "nul.bin holds a NUL byte (at byte 6)",
		`templatefile("nul.tpl", {x=1})`: "nul.tpl holds a NUL byte (at byte 4)",
	} {
		got, errs := evalLocal(t, fsys, "r", expr)
		if !strings.Contains(errs, want) || !strings.Contains(errs, "distribute step") {
			t.Errorf("%s = %#v, want an error saying %q and how to send a binary file:%s", expr, got, want, errs)
		}
	}
	if got, errs := evalLocal(t, fsys, "r", `file("ok.txt")`); errs != "" || !got.RawEquals(cty.StringVal("ünïcödé \ufffd ✓\n")) {
		t.Errorf("a text file: %#v%s", got, errs)
	}
}

// TestShellQuoteInShell hands ShellQuote's output to a real shell: every
// string comes back as one word, unchanged, and nothing in it runs.
func TestShellQuoteInShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	pwned := filepath.Join(dir, "pwned")
	for _, s := range []string{
		"$(touch " + pwned + ")", "`touch " + pwned + "`", "; touch " + pwned, "a'b", "'", "''", `"`, `\`, "$HOME",
		"*", "~", "a b\tc\nd", "-n", "--", "#", "!", "{a,b}", "&&", "|", ">", "é", "", "%", "@:,./-_=+",
	} {
		q := lang.ShellQuote(s)
		got, err := exec.Command(sh, "-c", `set -- `+q+`; printf '%s\n%s' "$#" "$1"`).Output()
		if err != nil {
			t.Errorf("ShellQuote(%q) = %s: sh: %v", s, q, err)
			continue
		}
		n, arg, _ := strings.Cut(string(got), "\n")
		if n != "1" || arg != s {
			t.Errorf("ShellQuote(%q) = %s: the shell saw %s word(s), first %q", s, q, n, arg)
		}
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Errorf("a quoted string ran a command: %s exists", pwned)
	}
}

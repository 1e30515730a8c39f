package lang_test

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// testKinds are small hand-written specs shaped like the real step kinds',
// so that lang's tests do not depend on package steps.
func testKinds() map[string]hcldec.Spec {
	attr := func(name string, ty cty.Type, required bool) hcldec.Spec {
		return &hcldec.AttrSpec{Name: name, Type: ty, Required: required}
	}
	def := func(name string, v cty.Value) hcldec.Spec {
		return &hcldec.DefaultSpec{Primary: &hcldec.AttrSpec{Name: name, Type: v.Type()}, Default: &hcldec.LiteralSpec{Value: v}}
	}
	return map[string]hcldec.Spec{
		"run": hcldec.ObjectSpec{
			"command": attr("command", cty.String, true),
			"creates": attr("creates", cty.String, false),
			"unless":  attr("unless", cty.String, false),
			"env":     attr("env", cty.Map(cty.String), false),
			"capture": &hcldec.BlockAttrsSpec{TypeName: "capture", ElementType: cty.String},
		},
		"package": hcldec.ObjectSpec{
			"names":        attr("names", cty.List(cty.String), true),
			"state":        def("state", cty.StringVal("present")),
			"update_cache": def("update_cache", cty.False),
		},
		"format": hcldec.ObjectSpec{
			"device":  attr("device", cty.String, true),
			"fstype":  attr("fstype", cty.String, true),
			"options": def("options", cty.ListValEmpty(cty.String)),
			"label":   attr("label", cty.String, false),
			"force":   def("force", cty.False),
		},
		"mount": hcldec.ObjectSpec{
			"source":  attr("source", cty.String, true),
			"target":  attr("target", cty.String, true),
			"fstype":  attr("fstype", cty.String, true),
			"options": attr("options", cty.String, false),
			"fstab":   def("fstab", cty.False),
			"mkdir":   def("mkdir", cty.True),
		},
		"service": hcldec.ObjectSpec{
			"name":          attr("name", cty.String, true),
			"state":         def("state", cty.StringVal("started")),
			"enabled":       attr("enabled", cty.Bool, false),
			"daemon_reload": def("daemon_reload", cty.False),
		},
		"file": hcldec.ObjectSpec{
			"path":    attr("path", cty.String, true),
			"content": attr("content", cty.String, true),
			"mode":    def("mode", cty.StringVal("0644")),
			"owner":   attr("owner", cty.String, false),
			"group":   attr("group", cty.String, false),
		},
		"wait": hcldec.ObjectSpec{
			"port":     attr("port", cty.Number, false),
			"host":     def("host", cty.StringVal("127.0.0.1")),
			"command":  attr("command", cty.String, false),
			"timeout":  def("timeout", cty.StringVal("120s")),
			"interval": def("interval", cty.StringVal("2s")),
		},
		"distribute": hcldec.ObjectSpec{
			"source":    attr("source", cty.String, true),
			"dest":      attr("dest", cty.String, true),
			"mode":      def("mode", cty.StringVal("relay")),
			"sha256":    attr("sha256", cty.String, false),
			"file_mode": def("file_mode", cty.StringVal("0644")),
			"fanout":    def("fanout", cty.NumberIntVal(1)),
			"port":      attr("port", cty.Number, false),
		},
	}
}

// loadString loads a one-file recipe held in memory as main.hcl.
func loadString(t testing.TB, src string) (*lang.Recipe, hcl.Diagnostics) {
	t.Helper()
	return loadFS(fstest.MapFS{"main.hcl": {Data: []byte(src)}})
}

func loadFS(fsys fstest.MapFS) (*lang.Recipe, hcl.Diagnostics) {
	return lang.Load(lang.Source{FS: fsys, Dir: ".", Display: "t"}, testKinds())
}

// mustLoad loads src and resolves its variables, failing on any error.
func mustLoad(t testing.TB, src string, in lang.Inputs) (*lang.Recipe, map[string]cty.Value) {
	t.Helper()
	r, diags := loadString(t, src)
	if diags.HasErrors() {
		t.Fatalf("Load: %s", diagString(diags))
	}
	vars, diags := r.ResolveVariables(in)
	if diags.HasErrors() {
		t.Fatalf("ResolveVariables: %s", diagString(diags))
	}
	return r, vars
}

// errorsOf keeps the error diagnostics.
func errorsOf(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

func diagString(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		where := "(no subject)"
		if d.Subject != nil {
			where = fmt.Sprintf("%s:%d,%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		fmt.Fprintf(&b, "\n  %s: %s: %s", where, d.Summary, d.Detail)
	}
	return b.String()
}

// marker is an expected diagnostic, written into a corpus file as
// `# ERROR: <summary>` on the line its Subject must start on. Where a
// comment cannot stand on that line (inside a heredoc, past the end of the
// file), `# ERROR(line N): <summary>` names the line. A line may carry
// several markers: `# ERROR: A # ERROR: B`.
type marker struct {
	Line    int
	Summary string
}

var (
	errorRE     = regexp.MustCompile(`#\s*ERROR(?:\(line (\d+)\))?:\s*(.*?)\s*(?:$|#\s*ERROR)`)
	directiveRE = regexp.MustCompile(`^#\s*(VAR|STAGE|GROUP):\s*(.*?)\s*$`)
)

// corpusFile is a parsed corpus file: its markers and its directives
// (`# VAR: name=value` adds a -var, `# STAGE: engine` says the problem is
// found by the engine, after lang accepted the recipe, `# GROUP: name`
// names the host group whose provider settings a site file is decoded for).
type corpusFile struct {
	Markers []marker
	Vars    []string
	Stage   string
	Group   string
}

func parseCorpusFile(t *testing.T, name string, src []byte) corpusFile {
	t.Helper()
	var cf corpusFile
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := directiveRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			switch m[1] {
			case "VAR":
				cf.Vars = append(cf.Vars, m[2])
			case "STAGE":
				cf.Stage = m[2]
			case "GROUP":
				cf.Group = m[2]
			}
			continue
		}
		for i := strings.Index(line, "# ERROR"); i >= 0; {
			m := errorRE.FindStringSubmatch(line[i:])
			if m == nil {
				t.Fatalf("%s:%d: malformed marker %q", name, n, line[i:])
			}
			mk := marker{Line: n, Summary: m[2]}
			if m[1] != "" {
				mk.Line = atoi(t, m[1])
			}
			cf.Markers = append(cf.Markers, mk)
			next := strings.Index(line[i+1:], "# ERROR")
			if next < 0 {
				break
			}
			i += 1 + next
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(cf.Markers) == 0 {
		t.Fatalf("%s: no `# ERROR: <summary>` marker", name)
	}
	return cf
}

// checkMarkers asserts that diags holds exactly the errors the markers
// describe, each located in file on its marked line, with a Detail.
func checkMarkers(t *testing.T, diags hcl.Diagnostics, file string, want []marker) {
	t.Helper()
	errs := errorsOf(diags)
	if len(errs) != len(want) {
		t.Fatalf("want %d error(s) %v, got %d:%s", len(want), want, len(errs), diagString(diags))
	}
	left := append([]marker(nil), want...)
	for _, d := range errs {
		if d.Subject == nil {
			t.Errorf("diagnostic %q has no Subject, want one in %s", d.Summary, file)
			continue
		}
		if strings.TrimSpace(d.Detail) == "" {
			t.Errorf("diagnostic %q has no Detail saying what to do", d.Summary)
		}
		found := -1
		for i, m := range left {
			// <NAME in FILE> names the file and line of a value not to
			// be shown (a sensitive or undeclared variable's).
			named := d.Subject.Filename == file || strings.HasPrefix(d.Subject.Filename, "<") && strings.HasSuffix(d.Subject.Filename, " in "+file+">")
			if m.Summary == d.Summary && named && d.Subject.Start.Line == m.Line {
				found = i
				break
			}
		}
		if found < 0 {
			t.Errorf("unexpected diagnostic %s:%d %q; want %v%s", d.Subject.Filename, d.Subject.Start.Line, d.Summary, want, diagString(diags))
			continue
		}
		left = append(left[:found], left[found+1:]...)
	}
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

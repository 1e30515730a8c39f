package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestPlanDiffGolden applies testdata/plandiff/<case>/before on simulated
// hosts, then plans <case>/after and compares the plan (text and JSON)
// with <case>/plan.txt and plan.json (-update rewrites them): attribute
// diffs, unified line diffs of multi-line strings, nested maps, lists,
// set and unset attributes, and sensitive values masked on both sides.
func TestPlanDiffGolden(t *testing.T) {
	cases, err := os.ReadDir(filepath.Join("testdata", "plandiff"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata", "plandiff", c.Name())
			data := t.TempDir()
			cli := func(args ...string) string {
				t.Helper()
				var out bytes.Buffer
				args = append(args, "--data-dir", data, "--simulate", "--sim-seed", "1")
				if code := run(context.Background(), nil, args, strings.NewReader(""), &out, &out); code != 0 {
					t.Fatalf("diffuser %s: exit %d\n%s", strings.Join(args, " "), code, out.String())
				}
				return out.String()
			}
			cli("apply", filepath.Join(dir, "before"), "-auto-approve", "--progress", "quiet")
			text := cli("plan", filepath.Join(dir, "after"))
			js := cli("plan", filepath.Join(dir, "after"), "-json")
			for _, secret := range []string{"old-password", "new-password", "t0ken-one", "t0ken-two"} {
				if strings.Contains(text+js, secret) {
					t.Errorf("the plan shows %q", secret)
				}
			}
			golden(t, filepath.Join(dir, "plan.txt"), text)
			golden(t, filepath.Join(dir, "plan.json"), js)
		})
	}
}

func TestLineDiff(t *testing.T) {
	for _, c := range []struct {
		a, b, want string
	}{
		{"a\nb\nc", "a\nx\nc", "  a\n- b\n+ x\n  c\n"},
		{"", "a\nb", "+ a\n+ b\n"},
		{"a\nb", "", "- a\n- b\n"},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10", "1\n2\n3\n4\n5\nfive\n7\n8\n9\n10",
			"  # (2 unchanged lines hidden)\n  3\n  4\n  5\n- 6\n+ five\n  7\n  8\n  9\n  # (1 unchanged line hidden)\n"},
	} {
		var b bytes.Buffer
		writeLineDiff(&b, c.a, c.b, "")
		if b.String() != c.want {
			t.Errorf("diff of %q and %q:\n%s\nwant:\n%s", c.a, c.b, b.String(), c.want)
		}
	}
}

func TestRenderArgsDiffSensitive(t *testing.T) {
	prev := cty.ObjectVal(map[string]cty.Value{"command": cty.StringVal("old secret"), "unless": cty.NullVal(cty.String)})
	cur := cty.ObjectVal(map[string]cty.Value{"command": cty.StringVal("new secret").Mark("sensitive"), "unless": cty.NullVal(cty.String)})
	var b bytes.Buffer
	renderArgsDiff(&b, prev, cur, "    ")
	if got := b.String(); got != "  ~ command = (sensitive)\n" {
		t.Errorf("got %q", got)
	}
	b.Reset()
	renderArgsDiff(&b, prev, cur.Mark("sensitive"), "    ")
	if got := b.String(); got != "    (sensitive arguments)\n" {
		t.Errorf("got %q", got)
	}
}

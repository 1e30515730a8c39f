package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
			// The recipe is edited in place, as an operator does: the
			// directory applied holds before/'s files, then after/'s.
			recipe := filepath.Join(t.TempDir(), "recipe")
			put := func(from string) {
				t.Helper()
				if err := os.RemoveAll(recipe); err != nil {
					t.Fatal(err)
				}
				if err := os.CopyFS(recipe, os.DirFS(filepath.Join(dir, from))); err != nil {
					t.Fatal(err)
				}
			}
			put("before")
			cli("apply", recipe, "-auto-approve", "--progress", "quiet")
			put("after")
			text := cli("plan", recipe)
			js := cli("plan", recipe, "-json")
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

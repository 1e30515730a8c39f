package steps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnterDirIgnoresCDPATH: a host whose root exports CDPATH (in
// /etc/environment, read by pam_env for every SSH session, or in root's
// .bashrc) made EnterDir's `cd -P -- NAME` go to a directory of that name
// under a CDPATH entry: a file step failed saying its staged copy "was
// replaced by another process", the directories missing on the path were
// made under the CDPATH entry, and distribute wrote its part file there.
// Before steps entered directories (mkdir -p and absolute paths), CDPATH
// changed nothing. A directory named "-" went to the previous directory
// the same way (cd - is cd "$OLDPWD"). Each name is now entered as
// ./NAME, which cd never looks up in CDPATH nor takes for "-"; the real
// /bin/sh runs the commands.
func TestEnterDirIgnoresCDPATH(t *testing.T) {
	needFstabTools(t)
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real, decoy := filepath.Join(base, "real"), filepath.Join(base, "decoy")
	// decoy holds every directory of real's path, relative, so that each
	// cd finds a namesake there.
	if err := os.MkdirAll(filepath.Join(real, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(decoy, strings.TrimPrefix(real, "/"), "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CDPATH", decoy)
	// A directory named "-": cd - is cd "$OLDPWD", even after --.
	for _, p := range []string{filepath.Join(real, "etc", "x.conf"), filepath.Join(real, "opt", "a", "b", "x"), filepath.Join(real, "-", "x.conf")} {
		if _, err := (FileKind{}).Apply(context.Background(), stubHost{bin: base}, fileArgsVal(p, "x = 1\n", "0644")); err != nil {
			t.Fatalf("apply %s with CDPATH set: %v", p, err)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != "x = 1\n" {
			t.Errorf("%s: %q, %v", p, b, err)
		}
	}
	var made []string
	_ = filepath.WalkDir(decoy, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != decoy && !strings.HasPrefix(filepath.Join(decoy, strings.TrimPrefix(real, "/"), "etc"), p) {
			made = append(made, p)
		}
		return nil
	})
	if len(made) > 0 {
		t.Errorf("made under the CDPATH entry: %v", made)
	}
}

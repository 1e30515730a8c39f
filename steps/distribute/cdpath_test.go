package distribute

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDistributeIgnoresCDPATH: with CDPATH exported on the host (root's
// /etc/environment or .bashrc), the directory entered before the part is
// written (steps.EnterDir) was a namesake under the CDPATH entry: the part
// was written there and the step failed hashing the part at dest's
// directory. The real /bin/sh runs the commands.
func TestDistributeIgnoresCDPATH(t *testing.T) {
	s := newRaceScene(t)
	base, err := filepath.EvalSymlinks(filepath.Dir(s.dir))
	if err != nil {
		t.Fatal(err)
	}
	decoy := filepath.Join(filepath.Dir(base), "decoy")
	if err := os.MkdirAll(filepath.Join(decoy, strings.TrimPrefix(base, "/"), "home"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(decoy) })
	t.Setenv("CDPATH", decoy)
	if _, err := (Kind{}).Apply(context.Background(), localRunner{}, s.args); err != nil {
		t.Fatalf("apply with CDPATH set: %v", err)
	}
	s.destHolds(t)
	if ents, _ := os.ReadDir(filepath.Join(decoy, strings.TrimPrefix(base, "/"), "home")); len(ents) > 0 {
		t.Errorf("written under the CDPATH entry: %s", ents[0].Name())
	}
}

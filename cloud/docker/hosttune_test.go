package docker

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRaiseLimit(t *testing.T) {
	dir := t.TempDir()
	var logged []string
	log := func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }

	low := filepath.Join(dir, "low")
	os.WriteFile(low, []byte("128\n"), 0o644)
	if err := raiseLimit(low, log); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(low); string(b) != "8192" || len(logged) != 1 || !strings.Contains(logged[0], "from 128 to 8192") {
		t.Errorf("low limit: file %q, log %q", b, logged)
	}

	high := filepath.Join(dir, "high")
	os.WriteFile(high, []byte("65536\n"), 0o644)
	if err := raiseLimit(high, log); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(high); string(b) != "65536\n" || len(logged) != 1 {
		t.Errorf("high limit was touched: %q, log %q", b, logged)
	}

	if err := raiseLimit(filepath.Join(dir, "missing"), log); err != nil {
		t.Errorf("missing sysctl: %v", err)
	}
}

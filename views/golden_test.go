package views

import (
	"testing"

	goldenfile "diffuser/internal/golden"
)

// golden compares got with the file at path (or writes it with
// go test ./views -run TestX -update).
func golden(t *testing.T, path, got string) { t.Helper(); goldenfile.Check(t, path, got) }

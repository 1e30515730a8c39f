package main

import (
	"testing"

	goldenfile "diffuser/internal/golden"
)

// update rewrites golden files: go test ./cmd/diffuser -run TestX -update
var update = goldenfile.Update

// golden compares got with the file at path (or writes it with -update).
func golden(t *testing.T, path, got string) { t.Helper(); goldenfile.Check(t, path, got) }

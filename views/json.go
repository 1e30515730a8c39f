package views

import (
	"encoding/json"
	"io"
)

// WriteJSON writes v as one indented JSON document, the form of every
// command's -json output except apply's and destroy's JSON lines.
// docs/json.md documents each shape; the types are in this package
// (PlanJSON, VersionJSON, StateListJSON, HostJSON, RecipeJSON,
// ValidateJSON, VerifyJSON, BenchJSON, LogJSON, WorkspaceJSON).
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

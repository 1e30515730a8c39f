package views

import (
	"fmt"
	"io"
)

// VersionJSON is `diffuser version -json`.
type VersionJSON struct {
	// Version is what `diffuser version` and `--version` print: the
	// build's stamp, else the module version with the VCS revision.
	Version       string `json:"version"`
	Module        string `json:"module,omitempty"`
	ModuleVersion string `json:"module_version,omitempty"` // as the go command recorded it; "(devel)" for a local build
	Revision      string `json:"vcs_revision,omitempty"`
	RevisionTime  string `json:"vcs_time,omitempty"`
	Modified      bool   `json:"vcs_modified,omitempty"` // built from a work tree with uncommitted changes
	Go            string `json:"go"`
	Platform      string `json:"platform"` // GOOS/GOARCH
}

// VersionTemplate is cobra's --version template: the same line as
// WriteVersion's.
const VersionTemplate = "diffuser {{.Version}}\n"

// WriteVersion prints `diffuser VERSION`.
func WriteVersion(w io.Writer, v VersionJSON) {
	fmt.Fprintf(w, "diffuser %s\n", v.Version)
}

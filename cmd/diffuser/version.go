package main

import (
	"runtime"
	"runtime/debug"
	"strings"

	"diffuser/views"

	"github.com/spf13/cobra"
)

// version is stamped at build time: make build passes
// -ldflags "-X main.version=$(git describe --tags --always --dirty)".
// Empty (a plain go build or go install, or no git) means the module's
// version and VCS information, as the go command recorded them, are used.
var version = ""

// buildVersion describes this binary from the stamp and the build info.
func buildVersion(stamp string, bi *debug.BuildInfo) views.VersionJSON {
	v := views.VersionJSON{Version: stamp, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		v.Module, v.ModuleVersion = bi.Main.Path, bi.Main.Version
		if bi.GoVersion != "" {
			v.Go = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.time":
				v.RevisionTime = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = fallbackVersion(v)
	}
	return v
}

// fallbackVersion is the version of an unstamped binary: the module
// version the go command recorded ("(devel)" when it recorded none), with
// the VCS revision when the module version does not already carry it.
func fallbackVersion(v views.VersionJSON) string {
	s := v.ModuleVersion
	if s == "" {
		s = "(devel)"
	}
	if rev := v.Revision; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		switch {
		case len(rev) == 12 && strings.Contains(s, rev):
		case v.Modified:
			s += " (" + rev + ", modified)"
		default:
			s += " (" + rev + ")"
		}
	}
	return s
}

// thisVersion is this binary's version.
func thisVersion() views.VersionJSON {
	bi, _ := debug.ReadBuildInfo()
	return buildVersion(version, bi)
}

func (a *app) versionCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "version", Short: "Print diffuser's version (as --version does)", Args: cobra.NoArgs,
		Long: `version prints the version stamped at build time (make build stamps git describe --tags
--always --dirty), or else the module version and VCS revision the go command recorded.
-json adds the Go version, platform and VCS details (docs/json.md).`,
		Example: "  diffuser version\n  diffuser --version\n  diffuser version -json",
		RunE: func(cmd *cobra.Command, args []string) error {
			v := thisVersion()
			if a.flags.json {
				return views.WriteJSON(a.stdout, v)
			}
			views.WriteVersion(a.stdout, v)
			return nil
		},
	}
	c.Flags().BoolVar(&a.flags.json, "json", false, "print JSON (docs/json.md)")
	return c
}

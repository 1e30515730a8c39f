package workspace

import (
	"diffuser/internal/shell"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"diffuser/remote"
)

// Layout is where a data directory keeps things. Every path diffuser
// writes under the data directory is made here, and only here:
//
//	<root>/<workspace>/state.json, journal, lock   (package state)
//	<root>/<workspace>/id_ed25519[.pub]            the workspace's SSH key
//	<root>/<workspace>/known_hosts                 written by diffuser ssh
//	<root>/<workspace>/backend                     where state lives when not here (s3://...)
//	<root>/<workspace>/runs/<id>/run.json          one apply or destroy (see Run)
//	<root>/<workspace>/runs/<id>/actions.json      the plan it carried out
//	<root>/<workspace>/runs/<id>/timeline.html     its timeline page
//	<root>/<workspace>/runs/<id>/logs/steps.log    its step logs (remote.RunLog;
//	                                              <step>/<host>.log in runs of
//	                                              earlier versions)
type Layout struct {
	Root string
}

// Workspace is a workspace's directory.
func (l Layout) Workspace(name string) string { return filepath.Join(l.Root, name) }

// StateFile is a workspace's state file (written by package state).
func (l Layout) StateFile(name string) string { return filepath.Join(l.Workspace(name), "state.json") }

// BackendMarker names the backend holding the workspace's state when it
// is not this directory.
func (l Layout) BackendMarker(name string) string { return filepath.Join(l.Workspace(name), "backend") }

// KeyFile is the workspace's SSH private key.
func (l Layout) KeyFile(name string) string { return filepath.Join(l.Workspace(name), remote.KeyName) }

// KnownHosts is the known_hosts file diffuser ssh writes from state.
func (l Layout) KnownHosts(name string) string {
	return filepath.Join(l.Workspace(name), "known_hosts")
}

// Runs is the directory of a workspace's runs, one directory per run id.
func (l Layout) Runs(name string) string { return filepath.Join(l.Workspace(name), "runs") }

// Run is one run's directory.
func (l Layout) Run(name, id string) string { return filepath.Join(l.Runs(name), id) }

// RunRecord is a run's run.json.
func (l Layout) RunRecord(name, id string) string { return filepath.Join(l.Run(name, id), "run.json") }

// RunTimeline is a run's timeline page.
func (l Layout) RunTimeline(name, id string) string {
	return filepath.Join(l.Run(name, id), "timeline.html")
}

// RunLogs is a run's log directory (steps.log in it, or <step>/<host>.log
// files in runs written by earlier versions).
func (l Layout) RunLogs(name, id string) string { return filepath.Join(l.Run(name, id), "logs") }

// LogName is how a step or host is named in a run's log (and was named
// as a directory or file in the per-instance logs of earlier versions):
// remote.LogName's sanitizing.
func LogName(s string) string { return remote.LogName(s) }

// CheckReal refuses a workspace whose directory, runs directory or
// backend marker is a symbolic link, or whose directories are not
// directories. diffuser writes state, the SSH key, known_hosts, the marker
// and run logs there: through a link planted in the data directory (a
// checked-out .diffuser/NAME -> ~/.ssh) they would go to wherever it
// points, replacing files of the same names (known_hosts) or reusing a key
// that is not the workspace's. The data directory itself may be a link:
// the user chose it. Missing paths are fine (they are made as directories).
func (l Layout) CheckReal(name string) error {
	for _, p := range []struct {
		path string
		dir  bool
	}{{l.Workspace(name), true}, {l.Runs(name), true}, {l.BackendMarker(name), false}, {l.KeyFile(name), false}, {l.KnownHosts(name), false}} {
		fi, err := os.Lstat(p.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return err
		case fi.Mode()&fs.ModeSymlink != 0:
			to, _ := os.Readlink(p.path)
			return fmt.Errorf("%s is a symbolic link (to %s): diffuser keeps a workspace's state, SSH key, known_hosts and runs "+
				"in the data directory itself and does not write or read them through a link; remove the link (rm %s), "+
				"or choose where the data lives with -data-dir", p.path, to, shell.Quote(p.path))
		case p.dir && !fi.IsDir():
			return fmt.Errorf("%s is not a directory: diffuser keeps the workspace's files in it; move it away", p.path)
		}
	}
	return nil
}

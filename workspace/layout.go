package workspace

import (
	"path/filepath"

	"diffuser/remote"
)

// Layout is where a data directory keeps things. Every path diffuser
// writes under the data directory is made here, and only here:
//
//	<root>/<workspace>/state.json, journal, lock   (package state)
//	<root>/<workspace>/id_ed25519[.pub]            the workspace's SSH key
//	<root>/<workspace>/known_hosts                 written by diffuser ssh
//	<root>/<workspace>/timeline.html               the last apply or destroy
//	<root>/logs/<step>/<host>.log                  the last run's step logs
type Layout struct {
	Root string
}

// Workspace is a workspace's directory.
func (l Layout) Workspace(name string) string { return filepath.Join(l.Root, name) }

// StateFile is a workspace's state file (written by package state).
func (l Layout) StateFile(name string) string { return filepath.Join(l.Workspace(name), "state.json") }

// KeyFile is the workspace's SSH private key.
func (l Layout) KeyFile(name string) string { return filepath.Join(l.Workspace(name), remote.KeyName) }

// KnownHosts is the known_hosts file diffuser ssh writes from state.
func (l Layout) KnownHosts(name string) string {
	return filepath.Join(l.Workspace(name), "known_hosts")
}

// Timeline is the page of a workspace's last apply or destroy.
func (l Layout) Timeline(name string) string {
	return filepath.Join(l.Workspace(name), "timeline.html")
}

// Logs is the directory of step logs (<step>/<host>.log under it).
func (l Layout) Logs() string { return filepath.Join(l.Root, "logs") }

// StepLogs is one step's log directory.
func (l Layout) StepLogs(step string) string { return filepath.Join(l.Logs(), LogName(step)) }

// LogName is how a step's directory or a host's log file is named
// (remote.OpenLog's sanitizing).
func LogName(s string) string { return remote.LogName(s) }

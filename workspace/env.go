package workspace

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/static"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/state"
	"diffuser/steps"
	"diffuser/steps/builtin"

	"github.com/hashicorp/hcl/v2"
)

// Env is what every workspace of one process shares: where data lives,
// which providers exist, how hosts are reached, and whether the run is
// simulated. The zero value plus a DataDir is a working environment.
type Env struct {
	// DataDir holds one directory per workspace (default ".diffuser").
	DataDir string
	// Factories are extra providers (tests), added to the built-in ones.
	Factories map[string]cloud.Factory
	// Connector, when set, replaces SSH for every command (tests pair it
	// with a simulated provider in Factories and the real kinds).
	Connector engine.Connector
	// Sim, when Enabled, runs on simulated hosts and step kinds.
	Sim SimOptions
	// Log receives provider log lines (nil: discarded).
	Log io.Writer
	// Stop is closed on the first Ctrl-C: apply starts nothing new.
	Stop <-chan struct{}
	// LockTimeout is how long a command that takes the workspace lock
	// waits for another holder to let go; 0 fails at once.
	LockTimeout time.Duration
	// StateKey encrypts state, journal, backup and saved plans at rest
	// (StateKeyFromEnv); nil: no encryption, and encrypted ones are refused.
	StateKey *state.Key
	// Backend keeps every workspace's state in a bucket (the site file's
	// backend block) for commands that take no recipe; nil: the local data
	// directory. A recipe's command uses its site file's block.
	Backend *lang.Backend
	// SiteFile is the site file whose backend block commands without a
	// recipe use when Backend is nil (default: ./diffuser.hcl when
	// present).
	SiteFile string
	// Now is the clock deadlines are set and checked with (nil:
	// time.Now); tests simulate time with it.
	Now func() time.Time
	// Sweeper connects to what SweepExpired sweeps (DockerSweeper: this
	// machine's Docker Engine); nil: SweepExpired does nothing.
	Sweeper func(ctx context.Context) (ClusterSweeper, error)
	// SweepTimeout bounds SweepExpired (0: DefaultSweepTimeout).
	SweepTimeout time.Duration

	sim *simulation
}

// Inputs select and parameterize a recipe: what the user typed.
type Inputs struct {
	Recipe    string   // a path, or the name of a built-in recipe
	Vars      []string // NAME=VALUE
	VarFiles  []string
	Site      string // site file (default ./diffuser.hcl when present)
	Provider  string // default: the site's default_provider, else docker
	Workspace string // default: the recipe's name
	// IgnoreRemembered loads without the inputs the workspace's last apply
	// ran with (state.Inputs); an apply then records only these.
	IgnoreRemembered bool
	// NoHosts: the command reaches no host and no provider (graph;
	// Validate sets it itself). A workspace last applied with --simulate
	// is then loaded with the provider it would have without its memory
	// (the site's default_provider, else docker), not refused.
	NoHosts bool
}

func (e *Env) dataDir() string {
	if e.DataDir == "" {
		return ".diffuser"
	}
	return e.DataDir
}

// Layout is the data-dir layout of this environment.
func (e *Env) Layout() Layout { return Layout{Root: e.dataDir()} }

// factories lists every provider: built-in, static, the test ones, and
// sim when simulating.
func (e *Env) factories() map[string]cloud.Factory {
	m := builtinFactories()
	m["static"] = static.Factory{}
	for k, v := range e.Factories {
		m[k] = v
	}
	if s, _ := e.simulation(); s != nil {
		m[simProvider] = s.factory()
	}
	return m
}

// Kinds returns the step kinds: real ones, or simulated ones.
func (e *Env) Kinds() (steps.Registry, error) {
	s, err := e.simulation()
	if err != nil || s == nil {
		return builtin.Kinds(), err
	}
	return s.kinds(), nil
}

func (e *Env) log() io.Writer {
	if e.Log == nil {
		return io.Discard
	}
	return e.Log
}

func providerNames(m map[string]cloud.Factory) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DiagError carries diagnostics with the files they point into, for the
// caller to print with the source underlined.
type DiagError struct {
	Files map[string]*hcl.File
	Diags hcl.Diagnostics
}

func (e *DiagError) Error() string {
	n := 0
	for _, d := range e.Diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	if n == 0 {
		return e.Diags.Error()
	}
	return fmt.Sprintf("%d error(s): %s", n, e.Diags.Error())
}

func mergeFiles(ms ...map[string]*hcl.File) map[string]*hcl.File {
	out := map[string]*hcl.File{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

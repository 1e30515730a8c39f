package workspace

import (
	"context"

	"diffuser/engine"
)

// ApplyOptions steer Apply.
type ApplyOptions struct {
	Parallelism int // 0 = no limit
	OnEvent     func(engine.Event)
}

// Apply runs the plan and saves state. State exists on disk before the
// first launch: an apply killed before its first record would otherwise
// leave hosts under a cluster name the next apply never looks for. An
// apply (not a destroy) also records the inputs it runs with before it
// starts, so that the next command resumes with them even when this one
// is killed. The returned error is a failure to save state; step failures
// are in the result.
func (pl *Planned) Apply(ctx context.Context, opt ApplyOptions) (*engine.Result, error) {
	ws := pl.WS
	ws.State.Recipe = ws.Loaded.Recipe.Name
	ws.State.Provider = ws.Provider
	changed := false
	if !pl.Request.Destroy {
		var err error
		if changed, err = ws.remember(); err != nil {
			return nil, err
		}
	}
	if ws.State.Serial == 0 || changed {
		ws.Cluster()
		if err := ws.SaveState(); err != nil {
			return nil, err
		}
	}
	res := pl.Plan.Apply(ctx, ws.State, engine.ApplyOptions{Provider: pl.Provider, Cluster: ws.Cluster(), Connector: pl.Conn,
		Recorder: storeRecorder{ws.Store}, Parallelism: opt.Parallelism, Stop: ws.env.Stop, OnEvent: opt.OnEvent,
		DataDir: ws.env.dataDir()})
	return res, ws.SaveState()
}

// SaveUnchanged saves state after a plan with nothing to do: what refresh
// learned and, for an apply, the inputs it ran with.
func (pl *Planned) SaveUnchanged() error {
	if !pl.Request.Destroy {
		if _, err := pl.WS.remember(); err != nil {
			return err
		}
	}
	return pl.WS.SaveState()
}

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
// leave hosts under a cluster name the next apply never looks for. The
// returned error is a failure to save state; step failures are in the
// result.
func (pl *Planned) Apply(ctx context.Context, opt ApplyOptions) (*engine.Result, error) {
	ws := pl.WS
	ws.State.Recipe = ws.Loaded.Recipe.Name
	ws.State.Provider = ws.Provider
	if ws.State.Serial == 0 {
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

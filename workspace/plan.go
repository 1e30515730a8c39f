package workspace

import (
	"context"

	"diffuser/cloud"
	"diffuser/engine"
)

// PlanRequest is one plan, apply or destroy: the recipe and how to plan it.
type PlanRequest struct {
	Inputs
	Command string // "plan", "apply" or "destroy": names the lock holder
	Lock    bool   // take the workspace lock (apply, destroy)
	Destroy bool
	Refresh bool // ask hosts whether recorded work still holds
	Targets []string
	Replace []string
}

// Planned is a plan with what produced it. The caller calls Close.
type Planned struct {
	WS       *Workspace
	Plan     *engine.Plan
	Provider cloud.Provider
	Conn     engine.Connector
	Request  PlanRequest
	closers  []func()
}

// Close closes connections and releases the workspace lock.
func (pl *Planned) Close() {
	for _, f := range pl.closers {
		f()
	}
	pl.WS.Close()
}

// Plan loads, locks (when asked) and plans.
func (e *Env) Plan(ctx context.Context, req PlanRequest) (*Planned, error) {
	ws, err := e.Load(req.Inputs)
	if err != nil {
		return nil, err
	}
	return ws.plan(ctx, req)
}

func (ws *Workspace) plan(ctx context.Context, req PlanRequest) (*Planned, error) {
	// The checks validate makes, before the lock and state: a bad site
	// file fails the same way in both.
	settings := ws.settingsDiags(!req.Destroy)
	if settings.HasErrors() {
		return nil, &DiagError{Files: ws.Files, Diags: settings}
	}
	ws.Warnings = append(ws.Warnings, settings...)
	if err := ws.OpenState(ctx, req.Lock, req.Command); err != nil {
		return nil, err
	}
	pl := &Planned{WS: ws, Request: req}
	hosts := len(ws.State.Hosts) > 0
	needProvider := hosts && (req.Refresh || req.Destroy) || req.Command != "plan"
	opt := engine.PlanOptions{State: ws.State, Provider: ws.Provider, Settings: ws.Settings, Replace: req.Replace,
		Targets: req.Targets, Destroy: req.Destroy, Cluster: ws.Cluster()}
	if needProvider {
		p, keys, err := ws.NewProvider(ctx)
		if err != nil {
			pl.Close()
			return nil, err
		}
		pl.Provider = p
		conn, closeConn, err := ws.Connector(keys)
		if err != nil {
			pl.Close()
			return nil, err
		}
		pl.Conn = conn
		pl.closers = append(pl.closers, closeConn)
		if req.Refresh && hosts && !req.Destroy {
			opt.Refresh = refresher{provider: p, conn: pl.Conn}
		}
	}
	plan, diags := ws.Loaded.Plan(ctx, opt)
	if diags.HasErrors() {
		pl.Close()
		return nil, &DiagError{Files: ws.Files, Diags: diags}
	}
	pl.Plan = plan
	return pl, nil
}

package workspace

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"

	"github.com/hashicorp/hcl/v2"
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
	// TTL, when set, gives the cluster a new deadline at apply: now plus
	// it (0 removes the deadline). nil: the site file's ttl when it has
	// one, else the deadline state has stays. See docs/expiry.md.
	TTL *time.Duration
	// OnlyExpired (destroy --expired) destroys only a workspace whose
	// deadline has passed, as state says under the lock: a deadline an
	// apply moved or removed since the workspace was listed as due is a
	// *NotExpiredError, and nothing is destroyed.
	OnlyExpired bool
}

// Planned is a plan with what produced it. The caller calls Close.
type Planned struct {
	WS       *Workspace
	Plan     *engine.Plan
	Provider cloud.Provider
	Conn     engine.Connector
	Request  PlanRequest
	// Run is the run Apply started (nil before, and for plan).
	Run     *Run
	closers []func()
	// deadlineMoved: this apply gave the cluster a new deadline.
	deadlineMoved bool
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
	if req.OnlyExpired {
		if err := ws.checkExpired(); err != nil {
			ws.Close()
			return nil, err
		}
	}
	if err := ws.checkRecipe(req.Destroy); err != nil {
		ws.Close()
		return nil, err
	}
	if err := ws.checkHostsProvider(); err != nil {
		ws.Close()
		return nil, err
	}
	if !req.Destroy {
		ws.Warnings = append(ws.Warnings, ws.otherRecipeSource()...)
	}
	ws.Warnings = append(ws.Warnings, ws.olderSchema()...)
	pl := &Planned{WS: ws, Request: req}
	hosts := len(ws.State.Hosts) > 0
	needProvider := hosts && (req.Refresh || req.Destroy) || req.Command != "plan"
	opt := ws.planOptions()
	opt.Replace, opt.Targets, opt.Destroy = req.Replace, req.Targets, req.Destroy
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
		if hosts && (req.Refresh || req.Destroy) {
			// Destroy refreshes no step: it asks how rerouted hosts are
			// reached now (engine.ReachNow) and, unless -refresh=false,
			// whether the machines it would connect to for destroy
			// commands are gone.
			opt.Refresh = refresher{provider: p, conn: pl.Conn}
			opt.NoRefresh = !req.Refresh
		}
	}
	plan, diags := ws.Loaded.Plan(ctx, opt)
	if diags.HasErrors() {
		pl.Close()
		return nil, &DiagError{Files: ws.Files, Diags: diags}
	}
	ws.Warnings = append(ws.Warnings, diags...)
	pl.Plan = plan
	return pl, nil
}

// checkRecipe refuses to plan another recipe than the one that made the
// workspace's hosts and steps: the plan would replace or destroy all of
// it to build the other (-workspace glusterfs given to nfs by mistake),
// and an -auto-approve would do so. Destroy is allowed: it removes what
// state holds, whichever recipe is named.
func (ws *Workspace) checkRecipe(destroy bool) error {
	made := ws.State.Recipe
	if destroy || made == "" || made == ws.Loaded.Recipe.Name || len(ws.State.Hosts) == 0 && len(ws.State.Steps) == 0 {
		return nil
	}
	return fmt.Errorf("workspace %s holds what recipe %q made (%d hosts, %d step instances), and this is recipe %q: "+
		"planning it there would replace or destroy that cluster. Give recipe %q a workspace of its own (-workspace NAME), "+
		"or destroy this one first (diffuser destroy %s -workspace %s). "+
		"(A recipe is known by its recipe block's label: renaming it makes it another recipe.)",
		ws.Name, made, len(ws.State.Hosts), len(ws.State.Steps), ws.Loaded.Recipe.Name, ws.Loaded.Recipe.Name, ws.Inputs.Recipe, ws.Name)
}

// otherRecipeSource warns when the recipe comes from another place than
// the one the workspace's last apply read (its remembered inputs): a
// recipe directory whose recipe block has the same label (a copy of a
// built-in being changed, a clone of the filesystem's sources named like
// it) plans in the same workspace, and the plan replaces or destroys
// what the other one made. checkRecipe refuses another label; the same
// label may be the same recipe moved, so this only warns.
func (ws *Workspace) otherRecipeSource() hcl.Diagnostics {
	rec := ws.State.Inputs
	if rec == nil || rec.Recipe == "" || len(ws.State.Hosts) == 0 && len(ws.State.Steps) == 0 {
		return nil
	}
	now := ws.recipeArg()
	if now == rec.Recipe {
		return nil
	}
	shown := func(arg string) string {
		if filepath.IsAbs(arg) {
			return "the recipe in " + arg
		}
		return "the built-in recipe " + arg
	}
	detail := fmt.Sprintf("Workspace %s was last applied with %s; this reads %s (its recipe block has the same label, %q). "+
		"If that is not what you meant, stop here: the changes below make the cluster that recipe's, replacing or destroying what the other made. "+
		"A recipe of its own gets a workspace of its own (-workspace NAME).",
		ws.Name, shown(rec.Recipe), shown(now), ws.Loaded.Recipe.Name)
	if name := ws.Loaded.Recipe.Name; recipes.Has(name) {
		detail += fmt.Sprintf(" %s%s names the built-in whatever directory is here.", lang.BuiltinPrefix, name)
	}
	return hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "Another recipe than the last apply's", Detail: detail}}
}

// olderSchema warns when the workspace's state was written by an older
// diffuser (a schema version below state.SchemaVersion): the next save
// writes this version, which the older ones refuse, so an operator who
// may go back to one learns it before the save, not from its refusal.
func (ws *Workspace) olderSchema() hcl.Diagnostics {
	v := ws.State.Version
	if v >= state.SchemaVersion || len(ws.State.Hosts) == 0 && len(ws.State.Steps) == 0 {
		return nil
	}
	detail := fmt.Sprintf("Workspace %s's state has schema version %d. This diffuser reads it; its next save of it "+
		"(an apply or destroy that changes something, a state edit) writes version %d, which diffusers built before "+
		"2026-12-08 refuse (\"written by a newer diffuser\"; earlier ones would misread its module instances). "+
		"From then on use this diffuser, or a newer one, with the workspace (docs/state.md, schema versions).",
		ws.Name, v, state.SchemaVersion)
	return hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "State written by an older diffuser", Detail: detail}}
}

// checkHostsProvider refuses a provider other than the one the
// workspace's hosts run on: the engine would destroy them through the new
// provider, which does not know them, and leave them running.
func (ws *Workspace) checkHostsProvider() error {
	var other []string
	var groups []string
	want := ""
	for _, h := range ws.State.Hosts {
		p := ws.ProviderOf(h.Group)
		if h.Provider != p && !slices.Contains(other, h.Provider) {
			other = append(other, h.Provider)
			groups = append(groups, h.Group)
			want = p
		}
	}
	if len(other) == 0 {
		return nil
	}
	sort.Strings(other)
	if ws.Multi() || ws.Site != nil && len(ws.Site.Groups) > 0 || ws.stateProviders() > 1 {
		return fmt.Errorf("the hosts of group %s of workspace %s run on provider %s, and this command would use %s for them: diffuser does not move hosts between providers; "+
			"put the group back on %s (the site file's hosts %q block, or -provider), or first destroy them with the old settings",
			groups[0], ws.Name, strings.Join(other, ", "), want, other[0], groups[0])
	}
	destroy := "diffuser destroy " + ws.Inputs.Recipe
	if ws.Name != ws.Loaded.Recipe.Name { // not the default workspace
		destroy += " -workspace " + ws.Name
	}
	hint := fmt.Sprintf("pass -provider %s, or first destroy them with: %s -provider %s", other[0], destroy, other[0])
	if ws.env.fromSimulation(other[0]) {
		// Simulated hosts are reached with --simulate, not a -provider.
		hint = fmt.Sprintf("they were made by a --simulate run: pass --simulate, or first destroy them with: %s --simulate", destroy)
	}
	if s, _ := ws.env.simulation(); s != nil {
		hint = "--simulate works on workspaces applied with it; give the simulation its own with -workspace NAME"
	}
	return fmt.Errorf("the hosts of workspace %s run on provider %s, and this command would use %s: diffuser does not move hosts between providers; %s",
		ws.Name, strings.Join(other, ", "), ws.Provider, hint)
}

// planOptions are the plan options every plan of this workspace shares:
// state, provider, its settings and which of them only say how hosts are
// reached (kept out of launch digests).
func (ws *Workspace) planOptions() engine.PlanOptions {
	opt := engine.PlanOptions{State: ws.State, Provider: ws.Provider, Settings: ws.Settings, Cluster: ws.Cluster(), Workspace: ws.Name}
	if r, ok := ws.factory.(cloud.ReachSettings); ok {
		opt.ReachSettings = r.ReachSettings()
	}
	if r, ok := ws.factory.(cloud.FormerReachSettings); ok {
		opt.FormerReachSettings, opt.RecordedReach = r.FormerReachSettings(), r.RecordedReach
	}
	if ws.routed() {
		opt.GroupProvider = ws.ProviderOf
		opt.ReachSettings, opt.FormerReachSettings, opt.RecordedReach = ws.reachSettings()
	}
	return opt
}

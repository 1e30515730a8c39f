package workspace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"diffuser/internal/regfile"
	"diffuser/internal/strictjson"
	"diffuser/state"
)

// planFormat marks a file written by `plan -out`, whatever its name.
const planFormat = "diffuser-plan"

// SavedPlan is what `plan -out` writes and `apply FILE` reads: the inputs
// that made the plan, the state it was made against (lineage and serial)
// and the action of every address (with the digest of its arguments when
// they were known). apply refuses it when the recipe, its -var-files or
// state changed since, or when planning again with its inputs does not
// make exactly its actions (engine.Plan.Pin), and runs exactly them.
type SavedPlan struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Recipe  RecipeRef `json:"recipe"`
	Vars    []string  `json:"vars,omitempty"`
	// Secrets are the sensitive -var values, as digests only (version 2).
	Secrets   []PlanSecret `json:"sensitive_vars,omitempty"`
	VarFiles  []string     `json:"var_files,omitempty"`
	Site      string       `json:"site,omitempty"`
	Provider  string       `json:"provider"`
	Workspace string       `json:"workspace,omitempty"`
	// NoRemembered: the plan was made without the workspace's remembered
	// inputs. With them, apply reads the same ones again: they live in
	// state, and the state is pinned by Lineage and Serial.
	NoRemembered bool              `json:"no_remembered,omitempty"`
	Lineage      string            `json:"lineage"`
	Serial       uint64            `json:"serial"`
	Replace      []string          `json:"replace,omitempty"`
	Targets      []string          `json:"targets,omitempty"`
	Actions      map[string]string `json:"actions"`
	// Digests are engine.Plan.Pinned's: by address, the digest of the
	// arguments of each change known at plan. A plan made before they
	// were kept has none, and only its actions are compared.
	Digests map[string]string `json:"digests,omitempty"`
	// Files say which file changed when the plan is refused.
	Files *PlanFiles `json:"files,omitempty"`
	// VarDigests are the digests of its variables' values but for
	// sensitive ones (Workspace.planVars): apply refuses the plan when
	// one differs. A plan made before they were kept has none.
	VarDigests map[string]string `json:"var_digests,omitempty"`
	Simulate   bool              `json:"simulate,omitempty"`
	SimSeed    uint64            `json:"sim_seed,omitempty"`
	SimProf    string            `json:"sim_profile,omitempty"`
	// Refreshed: the plan asked the hosts and found drift, so part of
	// what it does (a repair, a replacement of a host found gone) comes
	// from what they answered then: apply asks them again and runs the
	// plan only when they still answer so. A plan without drift is made
	// again without asking (Pin tolerates what asking alone would find).
	Refreshed bool `json:"refreshed,omitempty"`
}

// Save writes the plan to path (0600) for `apply PATH`.
func (pl *Planned) Save(path string) error {
	r := pl.Request
	sim := pl.WS.env.Sim
	sp := SavedPlan{Format: planFormat, Version: 1, Recipe: pl.WS.Source, Vars: r.Vars, VarFiles: r.VarFiles, Site: r.Site,
		Provider: pl.WS.Provider, Workspace: r.Workspace, NoRemembered: r.IgnoreRemembered, Lineage: pl.Plan.Lineage, Serial: pl.Plan.Serial,
		Replace: r.Replace, Targets: r.Targets, Files: pl.WS.planFiles(), VarDigests: pl.WS.planVars(),
		Simulate: sim.Enabled, SimSeed: sim.Seed, SimProf: sim.Profile, Refreshed: r.Refresh && pl.Plan.Drift > 0}
	sp.Actions, sp.Digests = pl.Plan.Pinned()
	sensitive := func(name string) bool {
		for _, v := range pl.WS.Loaded.Recipe.Variables {
			if v.Name == name {
				return v.Sensitive
			}
		}
		return false
	}
	var err error
	if sp.Vars, sp.Secrets, err = splitSecrets(r.Vars, sensitive); err != nil {
		return err
	}
	if len(sp.Secrets) > 0 {
		sp.Version = planVersionSecrets
	}
	b, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return err
	}
	if k := pl.WS.env.StateKey; k != nil {
		b = append(k.Seal(b, purposePlan), '\n')
	}
	if err := pl.WS.env.overwritablePlan(path); err != nil {
		return err
	}
	return writeFileAtomic(path, b, 0o600)
}

// overwritablePlan refuses a -out path that holds something other than a
// saved plan: plan -out wrote over whatever was there (a recipe, a state
// file, a key: `-out main.hcl` emptied the recipe), and blocked on a named
// pipe until something read it. A missing path, or a plan (one this
// diffuser reads, or a sealed one that opens with the state key as a
// plan), may be written.
func (e *Env) overwritablePlan(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("-out %s: %w", path, err)
	}
	refuse := func(what string) error {
		// No "remove it first": the path may be the recipe, a state
		// file or /dev/null, none of which should go.
		return fmt.Errorf("-out %s: the file exists and %s; plan -out replaces only a saved plan: give a file name that does not exist yet", path, what)
	}
	if !fi.Mode().IsRegular() {
		return refuse("is " + regfile.Kind(fi.Mode()))
	}
	b, err := regfile.Read(path, state.MaxFileSize)
	if err != nil {
		return fmt.Errorf("-out %s: %w", path, err)
	}
	if bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte(`{"diffuser_encrypted":`)) {
		if e.StateKey == nil {
			return refuse("is encrypted, and without the state key it cannot be told from an encrypted state")
		}
		if b, err = state.Unseal(e.StateKey, path, b, purposePlan); err != nil {
			return refuse("is not a saved plan sealed with this state key")
		}
	}
	var sp SavedPlan
	if json.Unmarshal(b, &sp) != nil || sp.Actions == nil || (sp.Format != planFormat && sp.Version == 0) {
		return refuse("is not a saved plan")
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path: a plan is whole or absent, never half written.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// IsPlanFile says whether apply should read path as a saved plan: a
// regular file whose content is one (any name works), or any regular file
// that is not an HCL recipe file (*.hcl), so that ReadPlanFile can say
// what is wrong with it. A directory is always a recipe.
func IsPlanFile(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	if !strings.HasSuffix(path, ".hcl") {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = bytes.TrimLeft(head[:n], " \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	// A plan's first key is its format (or, before it had one, version);
	// an encrypted plan is an envelope.
	return bytes.Contains(head, []byte(`"format": "`+planFormat+`"`)) || bytes.HasPrefix(head, []byte(`{"diffuser_encrypted":`)) ||
		bytes.HasPrefix(bytes.TrimLeft(head[1:], " \t\r\n"), []byte(`"version"`))
}

// purposePlan binds an encrypted plan's envelope to its use.
const purposePlan = "diffuser saved plan"

// ReadPlanFile reads a saved plan, encrypted or not (see Env.StateKey).
func (e *Env) ReadPlanFile(path string) (*SavedPlan, error) {
	// A plan is at most as large as a state (it holds fewer records).
	b, err := regfile.Read(path, state.MaxFileSize)
	if err != nil {
		return nil, err
	}
	if b, err = state.Unseal(e.StateKey, path, b, purposePlan); err != nil {
		return nil, fmt.Errorf("reading the saved plan: %w", err)
	}
	var sp SavedPlan
	if err := json.Unmarshal(b, &sp); err != nil || sp.Actions == nil || (sp.Format == "" && sp.Version == 0) {
		// Not a plan at all (a recipe, /etc/passwd): -out would refuse it.
		return nil, fmt.Errorf("%s is not a diffuser plan file; give a file written by `diffuser plan RECIPE -out FILE`", path)
	}
	if (sp.Version != 1 && sp.Version != planVersionSecrets) || (sp.Format != "" && sp.Format != planFormat) {
		return nil, fmt.Errorf("%s is not a diffuser plan file of this version (version %d, format %q); make a new one with `diffuser plan RECIPE -out %s`",
			path, sp.Version, sp.Format, path)
	}
	// A key given twice (encoding/json keeps the last: "actions" twice
	// would apply other actions than the plan showed), invalid UTF-8, null
	// for a value: the plan was edited or damaged.
	if err := strictjson.Check(b, reflect.TypeOf(&sp)); err != nil {
		return nil, fmt.Errorf("%w; the saved plan was edited or damaged, and is not applied: make a new one with `diffuser plan RECIPE -out %s`",
			strictjson.InFile(path, b, err), path)
	}
	return &sp, nil
}

// Request is the plan request that re-makes the saved plan under the
// workspace lock: without refresh (the saved actions are what runs), but
// for a plan whose refresh found drift, which asks the hosts again.
func (sp *SavedPlan) Request() PlanRequest {
	return PlanRequest{Inputs: Inputs{Recipe: sp.Recipe.recipeArg(), Vars: sp.Vars, VarFiles: sp.VarFiles, Site: sp.Site,
		Provider: sp.Provider, Workspace: sp.Workspace, IgnoreRemembered: sp.NoRemembered}, Command: "apply", Lock: true,
		Replace: sp.Replace, Targets: sp.Targets, Refresh: sp.Refreshed}
}

// PlanSaved re-makes a saved plan under the workspace lock and pins it:
// it is refused when the recipe, its -var-files or state changed since it
// was saved, when a variable's value is not the one it was made with,
// or when the plan made again is not the saved one (its actions, and the
// arguments it kept digests of), saying what changed as far as the plan
// file tells. The environment takes the plan's
// simulation settings.
func (e *Env) PlanSaved(ctx context.Context, sp *SavedPlan) (*Planned, error) {
	e.Sim = SimOptions{Enabled: sp.Simulate, Seed: sp.SimSeed, Profile: sp.SimProf}
	e.sim = nil
	pl, err := e.Plan(ctx, sp.Request())
	if err != nil {
		return nil, err
	}
	plan := pl.Plan
	if sp.Recipe.Digest != pl.WS.Source.Digest {
		err := sp.recipeStale(pl.WS)
		pl.Close()
		return nil, err
	}
	// A plan made on an empty workspace has no lineage to compare yet.
	fresh := sp.Serial == 0 && plan.Serial == 0
	if !fresh && (sp.Lineage != plan.Lineage || sp.Serial != plan.Serial) {
		pl.Close()
		return nil, fmt.Errorf("the saved plan is stale: state changed since it was made (serial %d, now %d)%s; run plan again",
			sp.Serial, plan.Serial, e.staleBy(sp, plan.Lineage, plan.Serial))
	}
	if sp.VarDigests != nil {
		if names := differ(sp.VarDigests, pl.WS.planVars()); len(names) > 0 {
			err := sp.varsStale(pl.WS, names)
			pl.Close()
			return nil, err
		}
	}
	if diff := plan.Pin(sp.Actions, sp.Digests); len(diff) > 0 {
		err := sp.pinStale(pl.WS, diff)
		pl.Close()
		return nil, err
	}
	return pl, nil
}

// staleBy says what moved state past a saved plan's serial, as far as
// this machine knows: the first of the workspace's runs kept here that
// took the serial past the plan's, with how many came after it and
// whether something that keeps no run moved it before that run; or that
// none did (another machine sharing the state, or a state command, which
// keeps no run), or that state was made anew (another lineage).
func (e *Env) staleBy(sp *SavedPlan, lineage string, now uint64) string {
	const norun = "another machine sharing the state, or a command that keeps no run: state mv, state rm, state push or import"
	if sp.Lineage != "" && sp.Lineage != lineage {
		return ": it is another state now (a new lineage: the workspace was destroyed and applied again, or its state replaced)"
	}
	runs, _ := e.Runs(sp.Workspace) // newest first; unreadable history only makes the message shorter
	var moved []*Run
	for _, r := range runs {
		if r.Lineage == lineage && r.SerialAfter > sp.Serial && r.SerialAfter <= now {
			moved = append(moved, r)
		}
	}
	if len(moved) == 0 {
		return ": no run kept on this machine changed it (" + norun + ")"
	}
	first := moved[len(moved)-1]
	msg := fmt.Sprintf(": %s run %s (started %s) changed it", first.Operation, first.ID, first.Started.Local().Format("2006-01-02 15:04:05"))
	if n := len(moved) - 1; n > 0 {
		msg += fmt.Sprintf(", and %d run(s) after it", n)
	}
	if first.SerialBefore > sp.Serial {
		msg += ", after a change no run kept on this machine made (" + norun + ")"
	}
	return msg + fmt.Sprintf(" (diffuser show %s)", first.ID)
}

package workspace

import (
	"context"
	"fmt"
	"strings"
	"time"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/facts"
	"diffuser/lang"
	"diffuser/runner"
	"diffuser/state"
	"diffuser/steps"
)

// ImportRequest is one diffuser import: the recipe, the address to
// import, and for a host the provider's id of the machine.
type ImportRequest struct {
	Inputs
	Address string
	ID      string // hosts only: container id or name, EC2 instance id, static address
}

// Imported is what Import recorded.
type Imported struct {
	Addr      string
	Host      *state.Host     // set for a host
	Instance  *state.Instance // set for a step instance
	KeyPinned bool            // the host's SSH key was first seen and pinned now
}

// NotDoneError says a step instance's check does not hold on its host:
// import recorded nothing.
type NotDoneError struct {
	Addr   string
	Host   string
	Reason string
}

func (e *NotDoneError) Error() string {
	return fmt.Sprintf("%s is not done on %s: %s; nothing was recorded (apply does the work, or fix the host and import again)", e.Addr, e.Host, e.Reason)
}

// importCheckTimeout bounds the connection and check of one import.
const importCheckTimeout = 3 * time.Minute

// Import takes what already exists into the workspace's state, as
// Terraform's import, under the workspace lock:
//
//   - a host (server[0], with ID naming the machine to the provider): the
//     provider finds the machine and makes it reachable (cloud.Importer),
//     diffuser connects to it, pinning its SSH host key, and records it as
//     launched with the launch digest the plan wants, so the next plan
//     launches nothing for it (and runs every step on it that state does
//     not record);
//   - a step instance (step.x["server[0]"], no ID): the kind's check runs
//     on the host (a run step's creates or unless guard; a run step
//     without one is refused) and, if it holds, the instance is recorded
//     applied with the digest the plan computes now, so the next plan
//     leaves it alone; if it does not hold, nothing is recorded and the
//     error (a *NotDoneError) says what is missing.
func (e *Env) Import(ctx context.Context, req ImportRequest) (*Imported, error) {
	a, err := engine.ParseAddress(req.Address)
	if err != nil {
		return nil, err
	}
	switch {
	case a.Kind == engine.AddrStep:
		return nil, fmt.Errorf("import takes one step instance at a time: step.%s[\"HOST\"]", a.Step)
	case a.Kind == engine.AddrHost && req.ID == "":
		return nil, fmt.Errorf("importing host %s needs the machine's id as the provider knows it: diffuser import RECIPE %s ID (a container id or name, an EC2 instance id, a static host's address)", a.Host, a.Host)
	case a.Kind == engine.AddrInstance && req.ID != "":
		return nil, fmt.Errorf("a step instance is imported by checking it on its host, with no id: diffuser import RECIPE '%s'", a)
	}
	ws, err := e.Load(req.Inputs)
	if err != nil {
		return nil, err
	}
	if err := ws.CheckSettings(); err != nil {
		return nil, err
	}
	if err := ws.OpenState(ctx, true, "import"); err != nil {
		return nil, err
	}
	defer ws.Close()
	if a.Kind == engine.AddrHost {
		return ws.importHost(ctx, a, req.ID)
	}
	return ws.importInstance(ctx, a)
}

func (ws *Workspace) importHost(ctx context.Context, a engine.Address, id string) (_ *Imported, err error) {
	slot, err := ws.Loaded.Slot(a.Host)
	if err != nil {
		return nil, err
	}
	if h := ws.State.Hosts[slot.Name]; h != nil {
		return nil, fmt.Errorf("%s is already in state (machine %s): to import another machine as %s, remove it first (diffuser state rm %s '%s')",
			slot.Name, h.ProviderID, slot.Name, ws.Name, slot.Name)
	}
	p, keys, err := ws.NewProvider(ctx)
	if err != nil {
		return nil, err
	}
	imp, ok := p.(cloud.Importer)
	if !ok {
		return nil, fmt.Errorf("provider %s cannot import machines", ws.Provider)
	}
	settings, diags := ws.Settings(slot.Group)
	if diags.HasErrors() {
		return nil, &DiagError{Files: ws.Files, Diags: diags}
	}
	// State exists before the provider makes anything for the cluster (a
	// network), as before a first launch.
	ws.State.Recipe, ws.State.Provider = ws.Loaded.Recipe.Name, ws.Provider
	if ws.State.Serial == 0 {
		ws.Cluster()
		if err := ws.SaveState(); err != nil {
			return nil, err
		}
	}
	spec := ws.Loaded.HostSpec(slot, ws.Cluster(), settings)
	prov := p.Name()
	if ws.routed() {
		spec.Provider = ws.ProviderOf(slot.Group)
		prov = spec.Provider
	}
	ch, err := imp.Import(ctx, spec, id)
	if err != nil {
		return nil, fmt.Errorf("importing %s: %w", slot.Name, err)
	}
	recorded := false
	defer func() {
		// Not recorded: the machine must not stay marked as this
		// cluster's (aws tags, which this cluster's destroy terminates
		// by), nor keep the network and key docker gave it.
		if u, ok := imp.(cloud.ImportUndoer); ok && !recorded {
			if uerr := u.UndoImport(context.WithoutCancel(ctx), spec, ch); uerr != nil {
				err = fmt.Errorf("%w; taking back what the import changed on machine %s failed too: %v", err, ch.ProviderID, uerr)
			}
		}
	}()
	if lang.ProviderBase(prov) != "static" {
		for n, other := range ws.State.Hosts {
			if other.ProviderID == ch.ProviderID {
				return nil, fmt.Errorf("machine %s is already in state as %s: one machine cannot be two hosts (to rename it: diffuser state mv %s '%s' '%s')",
					ch.ProviderID, n, ws.Name, n, slot.Name)
			}
		}
	}
	h := engine.RecordedHost(slot, prov, ch, ws.Loaded.LaunchDigest(ws.planOptions(), slot.Group, settings))
	if err := engine.CheckAnswer(prov, &h); err != nil {
		return nil, err
	}
	engine.PinJumpKeys(&h, ws.State.Hosts)
	conn, closeConn, err := ws.Connector(keys)
	if err != nil {
		return nil, err
	}
	defer closeConn()
	cctx, cancel := context.WithTimeout(ctx, importCheckTimeout)
	defer cancel()
	pinned := false
	r, err := engine.ConnectHost(cctx, conn, &h, func(state.Host) error {
		pinned = true // recorded with the host below, once it answered
		return nil
	})
	if err == nil {
		var res runner.Result
		res, err = r.Run(cctx, "true", runner.Options{Timeout: time.Minute})
		if err == nil && res.Exit != 0 {
			err = fmt.Errorf("`true` exited with status %d", res.Exit)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s (%s@%s:%d) over SSH, so it was not recorded: %w; the machine must accept the workspace key %s (or the site file's key_file)",
			slot.Name, h.SSH.User, h.SSH.Address, h.SSH.Port, err, keys.PrivateKeyFile+".pub")
	}
	f, err := facts.Gather(cctx, r)
	if err != nil {
		return nil, fmt.Errorf("%s answered over SSH, but not with its facts, so it was not recorded: %w", slot.Name, err)
	}
	h.Facts = f.Encode()
	ws.State.Hosts[slot.Name] = &h
	if err := ws.SaveState(); err != nil {
		delete(ws.State.Hosts, slot.Name)
		return nil, err
	}
	recorded = true
	return &Imported{Addr: slot.Name, Host: &h, KeyPinned: pinned}, nil
}

func (ws *Workspace) importInstance(ctx context.Context, a engine.Address) (*Imported, error) {
	plan, diags := ws.Loaded.Plan(ctx, ws.planOptions())
	if diags.HasErrors() {
		return nil, &DiagError{Files: ws.Files, Diags: diags}
	}
	d, err := plan.Desired(ws.State, a.String())
	if err != nil {
		return nil, fmt.Errorf("cannot import %s: %w", a, err)
	}
	if old := ws.State.Steps[d.Addr]; old != nil && old.Status == state.StatusApplied {
		return nil, fmt.Errorf("%s is already in state as applied: to check it again, remove it first (diffuser state rm %s '%s')", d.Addr, ws.Name, d.Addr)
	}
	kind := ws.Loaded.Kinds[d.Kind]
	if c, ok := kind.(steps.Checker); ok {
		if err := c.Checkable(d.Args); err != nil {
			return nil, fmt.Errorf("cannot import %s: %w", d.Addr, err)
		}
	}
	keys, err := ws.Keys()
	if err != nil {
		return nil, err
	}
	conn, closeConn, err := ws.Connector(keys)
	if err != nil {
		return nil, err
	}
	defer closeConn()
	cctx, cancel := context.WithTimeout(ctx, importCheckTimeout)
	defer cancel()
	cctx = steps.WithInstance(cctx, d.Addr)
	host := *ws.State.Hosts[d.Host]
	pinned := ""
	r, err := engine.ConnectHost(cctx, conn, &host, func(h state.Host) error {
		pinned = h.SSH.HostKey // recorded with the instance, once its check holds
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", d.Host, err)
	}
	chk, err := kind.Check(cctx, r, d.Args)
	if err != nil && d.Sensitive {
		// The error may quote the arguments, as its reasons may (below).
		return nil, fmt.Errorf("checking %s on %s failed (details hidden: sensitive step)", d.Addr, d.Host)
	}
	if err != nil {
		return nil, fmt.Errorf("checking %s on %s: %w", d.Addr, d.Host, err)
	}
	if !chk.OK {
		reason := strings.TrimSuffix(chk.Reason, ": will run")
		if reason == "" || d.Sensitive {
			reason = "its check does not hold" // a sensitive step's reasons may quote its arguments
		}
		return nil, &NotDoneError{Addr: d.Addr, Host: d.Host, Reason: reason}
	}
	var outs steps.Outputs
	if c, ok := kind.(steps.Capturer); ok {
		if outs, err = c.Capture(cctx, r, d.Args); err != nil {
			return nil, fmt.Errorf("%s holds on %s but its captures failed, so it was not recorded: %w", d.Addr, d.Host, err)
		}
	}
	now := time.Now()
	inst := &state.Instance{Step: d.Step, Host: d.Host, Kind: d.Kind, Digest: d.Digest, Args: d.ArgsJSON, Status: state.StatusApplied,
		Outputs: outs, Sensitive: d.Sensitive, Destroy: d.Destroy, Started: now, Finished: now}
	if pinned != "" {
		ws.State.Hosts[d.Host].SSH.HostKey = pinned
	}
	ws.State.Steps[d.Addr] = inst
	if err := ws.SaveState(); err != nil {
		return nil, err
	}
	return &Imported{Addr: d.Addr, Instance: inst, KeyPinned: pinned != ""}, nil
}

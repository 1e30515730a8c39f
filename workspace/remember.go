package workspace

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"diffuser/lang"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Remembered inputs: an apply records in state the provider, the site file
// and the variables it ran with (state.Inputs); later commands on the
// workspace use them for whatever they are not given again. Precedence,
// lowest first: recipe default, site file, remembered, -var-file, -var.
// A sensitive variable is remembered only as a salted digest, so it must
// be given again.

// memory is what Load read of a workspace's remembered inputs.
type memory struct {
	inputs *state.Inputs // nil: none (or ignored)
	st     *state.State  // the state they came from, for an unlocked OpenState
}

// recall reads the workspace's remembered inputs from its state, without
// the lock: a locked command checks them again under it (checkMemory).
func recall(store Backend, name string) (memory, error) {
	if !hasLocalDir(store) {
		return memory{}, nil
	}
	st, err := store.Load()
	if err != nil {
		// The command's own read of state would fail the same way, also
		// with -remembered=false: the error is the state's, not the inputs'.
		return memory{}, err
	}
	return memory{inputs: st.Inputs, st: st}, nil
}

// rememberedFrom is how a person sees a workspace's remembered inputs.
func rememberedFrom(name string) string { return "diffuser vars " + name }

// rememberedVars decodes the remembered variables for lang. A sensitive
// one has no value: lang asks for it again.
func rememberedVars(in *state.Inputs, name string) (lang.RememberedVars, error) {
	out := lang.RememberedVars{Vars: map[string]lang.RememberedVar{}, From: rememberedFrom(name)}
	if in == nil {
		return out, nil
	}
	for n, v := range in.Vars {
		if v.Sensitive {
			out.Vars[n] = lang.RememberedVar{Sensitive: true}
			continue
		}
		val, err := decodeVar(v)
		if err != nil {
			return out, fmt.Errorf("workspace %s remembers var.%s in a form this build cannot read (%v): pass -remembered=false and give every variable again", name, n, err)
		}
		out.Vars[n] = lang.RememberedVar{Value: val}
	}
	return out, nil
}

func decodeVar(v state.Var) (cty.Value, error) {
	ty, err := ctyjson.UnmarshalType(v.Type)
	if err != nil {
		return cty.NilVal, err
	}
	return ctyjson.Unmarshal(v.Value, ty)
}

// rememberedSite is the site file to open when none is given: the one the
// last apply used. It must still be there: quietly falling back to another
// (or none) would change the provider settings under existing hosts.
func rememberedSite(in *state.Inputs, name string) (string, error) {
	if in == nil || in.SiteAbs == "" {
		return "", nil
	}
	if _, err := os.Stat(in.SiteAbs); err != nil {
		return "", fmt.Errorf("workspace %s was last applied with the site file %s (%s), which cannot be read now: %w; "+
			"pass -site FILE, or -remembered=false to use ./diffuser.hcl or none", name, in.Site, in.SiteAbs, err)
	}
	return in.SiteAbs, nil
}

// defaultSiteAbs is the absolute path of the site file found without
// -site or memory (./diffuser.hcl), "" when there is none.
func defaultSiteAbs() string {
	name, err := defaultSite()
	if name == "" || err != nil {
		return "" // LoadSite reports the error
	}
	abs, _ := filepath.Abs(name)
	return abs
}

// used is what this load took from memory: the variables it did not get
// from a -var or -var-file, and the provider and site when they differ
// from what it would have picked without memory. Nil when nothing.
func (ws *Workspace) used(siteFromMemory bool, providerWithout string) *state.Inputs {
	mem := ws.memory.inputs
	if mem == nil {
		return nil
	}
	u := &state.Inputs{Recorded: mem.Recorded}
	for n, src := range ws.Loaded.VarSources {
		if src == lang.FromRemembered {
			if u.Vars == nil {
				u.Vars = map[string]state.Var{}
			}
			u.Vars[n] = mem.Vars[n]
		}
	}
	if ws.Inputs.Provider == "" && mem.Provider == ws.Provider && mem.Provider != providerWithout {
		u.Provider = mem.Provider
	}
	if siteFromMemory && mem.SiteAbs != defaultSiteAbs() {
		u.Site, u.SiteAbs = mem.Site, mem.SiteAbs
	}
	if len(u.Vars) == 0 && u.Provider == "" && u.Site == "" {
		return nil
	}
	return u
}

// record is the inputs this workspace's apply runs with, for state: the
// provider, the site file, and every variable set by -var, -var-file or
// memory. Sensitive values become salted digests; the salt of an
// unchanged value is kept, so that its digest stays the same.
func (ws *Workspace) record(now time.Time) (*state.Inputs, error) {
	rec := &state.Inputs{Provider: ws.Provider, Recipe: ws.recipeArg(), Recorded: now}
	if ws.Site != nil {
		rec.Site = ws.sitePath
		rec.SiteAbs, _ = filepath.Abs(ws.Site.Filename)
	}
	for _, v := range ws.Loaded.Recipe.Variables {
		src := ws.Loaded.VarSources[v.Name]
		if src != lang.FromVar && src != lang.FromVarFile && src != lang.FromRemembered {
			continue
		}
		val, marks := ws.Loaded.Vars[v.Name].Unmark()
		js, err := ctyjson.Marshal(val, val.Type())
		if err != nil {
			return nil, fmt.Errorf("recording var.%s: %w", v.Name, err)
		}
		ty, err := ctyjson.MarshalType(val.Type())
		if err != nil {
			return nil, fmt.Errorf("recording the type of var.%s: %w", v.Name, err)
		}
		rv := state.Var{Type: ty, Value: js}
		if v.Sensitive || len(marks) > 0 {
			rv = state.Var{Type: ty, Sensitive: true}
			var prev *state.Var
			if old := ws.memory.inputs; old != nil {
				if p, ok := old.Vars[v.Name]; ok && p.Sensitive {
					prev = &p
				}
			}
			rv.Digest, rv.Salt, err = sensitiveDigest(js, prev)
			if err != nil {
				return nil, fmt.Errorf("recording var.%s: %w", v.Name, err)
			}
		}
		if rec.Vars == nil {
			rec.Vars = map[string]state.Var{}
		}
		rec.Vars[v.Name] = rv
	}
	return rec, nil
}

// sensitiveDigest digests a sensitive value's JSON with prev's salt when
// prev has one, else with a new random salt.
func sensitiveDigest(js []byte, prev *state.Var) (digest, salt string, err error) {
	var s []byte
	if prev != nil {
		s, _ = hex.DecodeString(prev.Salt)
	}
	if len(s) == 0 {
		s = make([]byte, 16)
		if _, err := rand.Read(s); err != nil {
			return "", "", err
		}
	}
	h := sha256.New()
	h.Write(s)
	h.Write(js)
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), hex.EncodeToString(s), nil
}

// sameInputs says whether two records hold the same inputs, whenever
// they were recorded.
func sameInputs(a, b *state.Inputs) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Provider != b.Provider || a.Recipe != b.Recipe || a.Site != b.Site || a.SiteAbs != b.SiteAbs || len(a.Vars) != len(b.Vars) {
		return false
	}
	for n, av := range a.Vars {
		bv, ok := b.Vars[n]
		if !ok || av.Sensitive != bv.Sensitive || av.Digest != bv.Digest ||
			!sameJSON(av.Type, bv.Type) || !sameJSON(av.Value, bv.Value) {
			return false
		}
	}
	return true
}

// sameJSON compares two JSON texts by meaning (state.json is indented,
// a fresh record is not).
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// remember puts the inputs this apply runs with in state and says whether
// they differ from what state held.
func (ws *Workspace) remember() (bool, error) {
	rec, err := ws.record(time.Now().UTC())
	if err != nil {
		return false, err
	}
	if sameInputs(ws.State.Inputs, rec) {
		return false, nil
	}
	ws.State.Inputs = rec
	return true, nil
}

// checkMemory refuses to go on when another apply changed the remembered
// inputs between Load (unlocked) and taking the lock: this command's
// variables were resolved from the old ones.
func (ws *Workspace) checkMemory() error {
	if ws.Inputs.IgnoreRemembered {
		return nil
	}
	if !sameInputs(ws.memory.inputs, ws.State.Inputs) {
		return fmt.Errorf("another apply changed the inputs workspace %s remembers while this command was loading the recipe; run it again", ws.Name)
	}
	return nil
}

package workspace

import (
	"errors"
	"sort"

	"diffuser/engine"

	"github.com/hashicorp/hcl/v2"
)

// Validation is what validate found: every diagnostic, warnings included,
// with the files they point into, and the recipe's size when it loaded.
type Validation struct {
	Diags hcl.Diagnostics
	Files map[string]*hcl.File

	Recipe    string // the recipe's name; "" when it did not load
	Hosts     int
	Instances int // step instances
	Edges     int // edges of the instance graph
	// Off are the module calls turned off (lifecycle enabled false),
	// outermost only, each "module.NAME (lifecycle enabled is false at
	// FILE:LINE)", sorted: their steps have no instances.
	Off []string
}

// Valid says whether validation found no error.
func (v *Validation) Valid() bool { return !v.Diags.HasErrors() }

// Validate loads the recipe with its variables and site file and checks
// the provider settings against what the recipe needs, touching nothing:
// no state, no lock, no provider, no host. An error that is not a
// diagnostic (a recipe that does not exist, an unknown provider) comes
// back as one without a range, so that every failure has the same shape.
func (e *Env) Validate(in Inputs) *Validation {
	in.NoHosts = true
	ws, err := e.load(in, engine.LoadRecipe)
	if err != nil {
		return failed(err)
	}
	v := &Validation{Files: ws.Files, Diags: ws.Warnings}
	if err := ws.CheckSettings(); err != nil {
		f := failed(err)
		v.Diags = append(v.Diags, f.Diags...)
		return v
	}
	v.Diags = ws.Warnings // CheckSettings added its warnings
	g := ws.Loaded.Graph
	v.Recipe, v.Hosts, v.Edges = ws.Loaded.Recipe.Name, len(g.Hosts), g.NumEdges()
	for _, k := range g.Kind {
		if k == engine.VStep {
			v.Instances++
		}
	}
	for addr, m := range ws.Loaded.Off {
		if ws.Loaded.OffCause(m) == m { // the outermost call that is off
			v.Off = append(v.Off, addr+" ("+m.OffWhere()+")")
		}
	}
	sort.Strings(v.Off)
	return v
}

func failed(err error) *Validation {
	var de *DiagError
	if errors.As(err, &de) {
		return &Validation{Diags: de.Diags, Files: de.Files}
	}
	return &Validation{Diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: err.Error()}}}
}

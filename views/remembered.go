package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"diffuser/state"

	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Remembered is what a command took from the inputs its workspace's last
// apply ran with (diffuser vars WORKSPACE). Used is nil when it took
// nothing; it never holds a sensitive value, only its digest.
type Remembered struct {
	Workspace string
	Used      *state.Inputs
}

// WriteRemembered prints, when a command used remembered inputs, one line
// naming them, e.g.
//
//	Using remembered inputs from the last apply (diffuser vars glusterfs): clients = 4, servers = 6, provider = docker
func WriteRemembered(w io.Writer, r Remembered) {
	if r.Used == nil {
		return
	}
	var parts []string
	for _, n := range sortedVarNames(r.Used.Vars) {
		parts = append(parts, n+" = "+varText(r.Used.Vars[n], false))
	}
	if r.Used.Provider != "" {
		parts = append(parts, "provider = "+r.Used.Provider)
	}
	if r.Used.Site != "" {
		parts = append(parts, "site = "+r.Used.Site)
	}
	fmt.Fprintf(w, "Using remembered inputs from the last apply (diffuser vars %s): %s\n\n", r.Workspace, strings.Join(parts, ", "))
}

// RememberedJSON is "remembered" in the plan JSON (format 1.1): what the
// plan took from the workspace's remembered inputs. Variables hold their
// values as JSON ("(sensitive)" for a sensitive one); provider and site
// are set only when they were taken from memory.
type RememberedJSON struct {
	Workspace string                     `json:"workspace"`
	Variables map[string]json.RawMessage `json:"variables,omitempty"`
	Provider  string                     `json:"provider,omitempty"`
	Site      string                     `json:"site,omitempty"`
}

func rememberedJSON(r Remembered) *RememberedJSON {
	if r.Used == nil {
		return nil
	}
	out := &RememberedJSON{Workspace: r.Workspace, Provider: r.Used.Provider, Site: r.Used.Site}
	for n, v := range r.Used.Vars {
		if out.Variables == nil {
			out.Variables = map[string]json.RawMessage{}
		}
		out.Variables[n] = varJSON(v)
	}
	return out
}

func varJSON(v state.Var) json.RawMessage {
	if v.Sensitive || len(v.Value) == 0 {
		return json.RawMessage(`"(sensitive)"`)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v.Value); err != nil {
		return json.RawMessage(`null`)
	}
	return b.Bytes()
}

// varText is a remembered value as plan output shows values; a sensitive
// one is (sensitive), with its digest's start when digest is set.
func varText(v state.Var, digest bool) string {
	if v.Sensitive || len(v.Value) == 0 {
		if digest && v.Digest != "" {
			d := v.Digest
			if len(d) > len("sha256:")+12 {
				d = d[:len("sha256:")+12] + "…"
			}
			return "(sensitive, " + d + ")"
		}
		return "(sensitive)"
	}
	ty, err := ctyjson.UnmarshalType(v.Type)
	if err != nil {
		return string(v.Value)
	}
	val, err := ctyjson.Unmarshal(v.Value, ty)
	if err != nil {
		return string(v.Value)
	}
	return renderValue(val, "")
}

func sortedVarNames(m map[string]state.Var) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// WriteVars prints a workspace's remembered inputs (diffuser vars): the
// provider and site file, then a table of variables.
func WriteVars(w io.Writer, workspace string, in *state.Inputs) {
	if in == nil {
		fmt.Fprintf(w, "Workspace %s remembers no inputs: it has not been applied since diffuser began remembering them.\n", workspace)
		return
	}
	fmt.Fprintf(w, "Workspace %s was last applied with (recorded %s):\n\n", workspace, in.Recorded.Local().Format(time.DateTime))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  provider\t%s\n", in.Provider)
	site := "(none)"
	if in.Site != "" {
		site = in.Site
		if in.SiteAbs != "" && in.SiteAbs != in.Site {
			site += " (" + in.SiteAbs + ")"
		}
	}
	fmt.Fprintf(tw, "  site\t%s\n", site)
	_ = tw.Flush()
	if len(in.Vars) == 0 {
		fmt.Fprintln(w, "\nNo variables were set with -var or -var-file: the recipe's defaults and the site file's values apply.")
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tVALUE")
	for _, n := range sortedVarNames(in.Vars) {
		fmt.Fprintf(tw, "%s\t%s\n", n, varText(in.Vars[n], true))
	}
	_ = tw.Flush()
}

// VarsJSON is `diffuser vars -json`. A sensitive variable has its digest
// and no value.
type VarsJSON struct {
	Workspace string             `json:"workspace"`
	Recorded  *time.Time         `json:"recorded,omitempty"`
	Provider  string             `json:"provider,omitempty"`
	Site      string             `json:"site,omitempty"`
	SiteAbs   string             `json:"site_abs,omitempty"`
	Variables map[string]VarJSON `json:"variables"`
}

// VarJSON is one variable of VarsJSON: its type in go-cty's type JSON
// ("number", ["list","string"], ...) and its value.
type VarJSON struct {
	Type      json.RawMessage `json:"type"`
	Value     json.RawMessage `json:"value,omitempty"`
	Sensitive bool            `json:"sensitive,omitempty"`
	Digest    string          `json:"digest,omitempty"`
}

// WriteVarsJSON writes VarsJSON as one indented document.
func WriteVarsJSON(w io.Writer, workspace string, in *state.Inputs) error {
	out := VarsJSON{Workspace: workspace, Variables: map[string]VarJSON{}}
	if in != nil {
		rec := in.Recorded
		out.Recorded, out.Provider, out.Site, out.SiteAbs = &rec, in.Provider, in.Site, in.SiteAbs
		for n, v := range in.Vars {
			vj := VarJSON{Type: v.Type, Sensitive: v.Sensitive, Digest: v.Digest}
			if !v.Sensitive {
				vj.Value = v.Value
			}
			out.Variables[n] = vj
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteDeadlineAhead says, before an apply given a ttl runs, the deadline
// it gives the cluster (now plus ttl) and what happens at it, e.g.
//
//	Deadline: now plus 4h, at 2026-12-07 18:00 UTC. After it the cluster is removed (docker: ...
//
// A ttl typed for another unit (1m for a month) shows here, before the
// first diffuser command after it removes the cluster.
func WriteDeadlineAhead(w io.Writer, ttl time.Duration, now time.Time) {
	fmt.Fprintf(w, "\nDeadline: now plus %s, at %s. After it the cluster is removed (docker: by the first diffuser\n"+
		"command run on this machine; aws: the instances end themselves; docs/expiry.md). Apply with --ttl again to move it.\n",
		fmtTTL(ttl), now.Add(ttl).UTC().Format("2006-01-02 15:04 UTC"))
}

// fmtTTL writes a ttl as apply --ttl takes it: 7d, 4h, 90m, 1h30m.
func fmtTTL(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String() // 4h0m0s, 1h30m0s, 1m30s
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

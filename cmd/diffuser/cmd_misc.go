package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"
	"diffuser/steps/builtin"
	"diffuser/views"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"golang.org/x/term"
)

func (a *app) recipesCmd() *cobra.Command {
	c := &cobra.Command{Use: "recipes", Short: "List and show the built-in recipes and modules, and their variables",
		Example: "  diffuser recipes list\n  diffuser recipes show glusterfs\n  diffuser recipes vars glusterfs"}
	list := &cobra.Command{
		Use: "list", Short: "List the built-in recipes and modules", Example: "  diffuser recipes list\n  diffuser recipes list -json", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out []views.RecipeJSON
			for _, n := range recipes.Names() {
				r, diags := lang.Load(lang.Source{FS: recipes.FS(), Dir: n, Display: "builtin:" + n, Modules: recipes.Modules()}, engine.KindSpecs(builtin.Kinds()))
				j := views.RecipeJSON{Kind: "recipe", Name: n, Valid: !diags.HasErrors()}
				if j.Valid {
					j.Description = r.Description
				} else {
					j.Error = "does not load: " + diags.Errs()[0].Error() + " (diffuser validate " + n + " shows where)"
				}
				out = append(out, j)
			}
			for _, n := range lang.ModuleNames(recipes.Modules()) {
				desc, err := lang.ModuleDescription(recipes.Modules(), n)
				j := views.RecipeJSON{Kind: "module", Name: lang.BuiltinPrefix + n, Valid: err == nil, Description: desc}
				if err != nil {
					j.Error = "does not load: " + err.Error()
				}
				out = append(out, j)
			}
			// A built-in recipe's own modules (source = "./modules/NAME"
			// in it), named by their path: recipes show prints one.
			for _, n := range recipes.Names() {
				sub, err := fs.Sub(recipes.FS(), n+"/modules")
				if err != nil {
					continue
				}
				for _, m := range lang.ModuleNames(sub) {
					desc, err := lang.ModuleDescription(sub, m)
					j := views.RecipeJSON{Kind: "module", Name: n + "/modules/" + m, Valid: err == nil, Description: desc}
					if err != nil {
						j.Error = "does not load: " + err.Error()
					}
					out = append(out, j)
				}
			}
			if a.flags.json {
				return views.WriteJSON(a.stdout, out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tDESCRIPTION")
			for i, j := range out {
				if j.Kind == "module" && (i == 0 || out[i-1].Kind != "module") {
					fmt.Fprintln(tw, "\nMODULE (source = ...)\tDESCRIPTION")
				}
				desc := j.Description
				if !j.Valid {
					desc = "(does not load: run diffuser validate " + j.Name + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\n", j.Name, desc)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&a.flags.json, "json", false, "print JSON (docs/json.md)")
	c.AddCommand(list)
	c.AddCommand(&cobra.Command{
		Use: "show NAME", Short: "Print a built-in recipe's or module's source",
		Example: "  diffuser recipes show ceph > ceph.hcl\n  diffuser recipes show builtin/xfs-volume\n  diffuser recipes show ceph/modules/daemon",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fsys, dir := recipes.FS(), args[0]
			if name, ok := strings.CutPrefix(args[0], lang.BuiltinPrefix); ok {
				fsys, dir = recipes.Modules(), name
				if !slices.Contains(lang.ModuleNames(fsys), name) {
					return fmt.Errorf("no built-in module %q (built-in: %v)", name, lang.ModuleNames(fsys))
				}
			} else if !recipes.Has(args[0]) && !recipes.HasRecipeModule(args[0]) {
				if _, err := os.Stat(args[0]); err == nil {
					return fmt.Errorf("%s is a path on disk, not a built-in: recipes show prints the built-in recipes (%s) and modules (builtin/NAME); yours are the files themselves (diffuser recipes vars %s lists its variables)",
						args[0], strings.Join(recipes.Names(), ", "), args[0])
				}
				return fmt.Errorf("no built-in recipe %q (built-in: %s; modules: builtin/NAME, diffuser recipes list)", args[0], strings.Join(recipes.Names(), ", "))
			}
			return fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := fs.ReadFile(fsys, p)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "# %s\n%s\n", p, b)
				return nil
			})
		},
	})
	vars := &cobra.Command{
		Use: "vars NAME|PATH", Short: "List a recipe's or module's variables: type, default, constraints, description",
		Long: `vars lists the variables of a built-in recipe (or module: builtin/NAME, RECIPE/modules/NAME),
or of a recipe or module directory of your own (./mine, ./mine/modules/x):
each one's type, its default (or that it is required), what its constraints accept (min, max,
integer, one_of, format, pattern, allow_empty: docs/writing-recipes.md) and its description.
Rules written as validation blocks are counted: recipes show prints those of built-ins; for a
path of your own the line of the first is given.`,
		Example: "  diffuser recipes vars ceph\n  diffuser recipes vars builtin/radosgw -json\n  diffuser recipes vars ./mine/modules/brick",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vs, err := builtinVariables(args[0])
			if err != nil {
				return err
			}
			out := make([]views.VariableJSON, len(vs))
			for i, v := range vs {
				out[i] = variableJSON(v)
			}
			if a.flags.json {
				return views.WriteJSON(a.stdout, out)
			}
			_, err = os.Stat(args[0])
			onDisk := err == nil // recipes show prints built-ins only: point into the file instead
			for i, j := range out {
				at := ""
				if onDisk && len(vs[i].Validations) > 0 {
					at = validationAt(args[0], vs[i].Validations[0].DeclRange)
				}
				// A recipe of one's own may come from elsewhere: its
				// descriptions and paths are shown, never interpreted.
				fmt.Fprintf(a.stdout, "%s\n", views.Printable(variableLine(j, at)))
				if j.Description != "" {
					fmt.Fprintf(a.stdout, "    %s\n", views.Printable(j.Description))
				}
			}
			return nil
		},
	}
	vars.Flags().BoolVar(&a.flags.json, "json", false, "print JSON (docs/json.md)")
	c.AddCommand(vars)
	return c
}

// builtinVariables are the variables of built-in recipe or module name
// (as recipes show takes it).
func builtinVariables(name string) ([]*lang.Variable, error) {
	var vs []*lang.Variable
	var diags hcl.Diagnostics
	if fi, err := os.Stat(name); err == nil {
		// A recipe of one's own (a directory or a .hcl file), or a module
		// directory of one (no recipe block), as apply takes them.
		dir, display, file := name, name, ""
		if !fi.IsDir() {
			real, err := filepath.EvalSymlinks(name) // as apply reads it
			if err != nil {
				return nil, fmt.Errorf("cannot read %s: %w", name, err)
			}
			dir, display, file = filepath.Dir(real), filepath.Dir(name), filepath.Base(real)
		}
		fsys, err := lang.DirFS(dir)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", name, err)
		}
		src := lang.Source{FS: fsys, Dir: ".", File: file, Display: display, Modules: recipes.Modules()}
		r, diags := lang.Load(src, engine.KindSpecs(builtin.Kinds()))
		if diags.HasErrors() && fi.IsDir() {
			if mvs, mdiags := lang.ModuleVariables(fsys, "."); !mdiags.HasErrors() && !hasRecipeBlock(name) {
				return mvs, nil
			}
		}
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s does not load: %v (diffuser validate %s shows where)", name, diags.Errs()[0], name)
		}
		return r.Variables, nil
	}
	switch m, isBuiltin := strings.CutPrefix(name, lang.BuiltinPrefix); {
	case isBuiltin:
		if !slices.Contains(lang.ModuleNames(recipes.Modules()), m) {
			return nil, fmt.Errorf("no built-in module %q (built-in: %v)", m, lang.ModuleNames(recipes.Modules()))
		}
		vs, diags = lang.ModuleVariables(recipes.Modules(), m)
	case !recipes.Has(name) && !recipes.HasRecipeModule(name):
		return nil, fmt.Errorf("no built-in recipe %q (built-in: %s)", name, strings.Join(recipes.Names(), ", "))
	case strings.Contains(name, "/modules/"):
		vs, diags = lang.ModuleVariables(recipes.FS(), name)
	default:
		var r *lang.Recipe
		r, diags = lang.Load(lang.Source{FS: recipes.FS(), Dir: name, Display: "builtin:" + name, Modules: recipes.Modules()}, engine.KindSpecs(builtin.Kinds()))
		if r != nil {
			vs = r.Variables
		}
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s does not load: %v (diffuser validate %s shows where)", name, diags.Errs()[0], name)
	}
	return vs, nil
}

// hasRecipeBlock says whether a .hcl file of dir declares a recipe (so
// that a broken recipe is reported as one, not read as a module).
func hasRecipeBlock(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && recipeBlockRE.Match(b) {
			return true
		}
	}
	return false
}

var recipeBlockRE = regexp.MustCompile(`(?m)^\s*recipe\s+"`)

// variableJSON describes v for recipes vars.
func variableJSON(v *lang.Variable) views.VariableJSON {
	j := views.VariableJSON{Name: v.Name, Type: typeexpr.TypeString(v.Type), Sensitive: v.Sensitive,
		Description: v.Description, Validations: len(v.Validations), Allowed: v.Constraints.Describe()}
	raw := func(val cty.Value) json.RawMessage {
		b, err := ctyjson.Marshal(val, val.Type())
		if err != nil {
			return nil
		}
		return b
	}
	switch {
	case v.Default == cty.NilVal:
		j.Required = true
	case !v.Sensitive:
		j.Default = raw(v.Default)
	}
	if c := v.Constraints; c.Any() {
		cj := &views.ConstraintsJSON{Integer: c.Integer, Format: c.Format, Pattern: c.Pattern, AllowEmpty: c.AllowEmpty}
		if c.Min != cty.NilVal {
			cj.Min = raw(c.Min)
		}
		if c.Max != cty.NilVal {
			cj.Max = raw(c.Max)
		}
		if len(c.OneOf) > 0 {
			cj.OneOf = raw(cty.TupleVal(c.OneOf))
		}
		j.Constraints = cj
	}
	return j
}

// variableLine is a variable's first line in recipes vars:
// "osds (number, default 3): must be at least 1" ("each element must be"
// for a list, set or map).
func variableLine(j views.VariableJSON, at string) string {
	head := j.Type
	switch {
	case j.Required:
		head += ", required"
	case j.Sensitive:
		head += ", sensitive"
	default:
		head += ", default " + string(j.Default)
	}
	var rules []string
	if j.Allowed != "" {
		must := "must be "
		if strings.HasPrefix(j.Type, "list(") || strings.HasPrefix(j.Type, "set(") || strings.HasPrefix(j.Type, "map(") {
			must = "each element must be " // as the constraint checks it, and its error says
		}
		rules = append(rules, must+j.Allowed)
	}
	switch {
	case j.Validations == 1 && at != "":
		rules = append(rules, "plus a validation block (at "+at+")")
	case j.Validations > 1 && at != "":
		rules = append(rules, fmt.Sprintf("plus %d validation blocks (the first at %s)", j.Validations, at))
	case j.Validations == 1:
		rules = append(rules, "plus a validation block (recipes show prints it)")
	case j.Validations > 1:
		rules = append(rules, fmt.Sprintf("plus %d validation blocks (recipes show prints them)", j.Validations))
	}
	line := fmt.Sprintf("%s (%s)", j.Name, head)
	if len(rules) > 0 {
		line += ": " + strings.Join(rules, "; ")
	}
	return line
}

// validationAt is where a validation block of a recipe or module on disk
// (path, as given to recipes vars) is written: FILE:LINE.
func validationAt(path string, r hcl.Range) string {
	name := r.Filename
	// The loader names files by the cleaned path (mine/main.hcl for ./mine).
	if fi, err := os.Stat(path); err == nil && fi.IsDir() && !strings.HasPrefix(name, filepath.Clean(path)+"/") {
		name = filepath.Join(path, name)
	}
	return fmt.Sprintf("%s:%d", name, r.Start.Line)
}

// readState loads a workspace's state without a recipe, by workspace name.
func (a *app) readState(name string) (*state.State, error) {
	return a.workspaceEnv().ReadState(name)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func (a *app) outputCmd() *cobra.Command {
	var showSensitive bool
	c := &cobra.Command{
		Use: "output WORKSPACE [NAME]", Short: "Print the recipe outputs of the last apply",
		Long: `output prints every output as name = value, or one output's value alone (as it is for a
pipe or a script, with control characters shown as escapes such as \x1b on a terminal, as in
the list). Sensitive outputs print as (sensitive) unless --show-sensitive; asking for one by
name needs it. -json prints the outputs as an object by name, or one output's value as a JSON
string (docs/json.md). A workspace without outputs (destroyed, or a recipe without output
blocks) prints nothing on stdout and says so on stderr, with exit status 0.`,
		Example: "  diffuser output glusterfs\n  diffuser output glusterfs mount\n  diffuser output glusterfs -json",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.readState(args[0])
			if err != nil {
				return err
			}
			if len(args) == 2 {
				o, ok := st.Outputs[args[1]]
				if !ok {
					return noOutput(args[1], args[0], st)
				}
				if o.Sensitive && !showSensitive {
					return fmt.Errorf("output %q is sensitive: pass --show-sensitive to print it", args[1])
				}
				if a.flags.json {
					return views.WriteJSON(a.stdout, o.Value)
				}
				v := o.Value
				if f, ok := a.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					v = views.Printable(v) // raw for a script ($(diffuser output ...)), text for a person
				}
				fmt.Fprintln(a.stdout, v)
				return nil
			}
			if a.flags.json {
				return views.WriteJSON(a.stdout, views.NewOutputsJSON(st.Outputs, showSensitive))
			}
			if len(st.Outputs) == 0 {
				fmt.Fprintln(a.stderr, "No outputs: "+noOutputs(args[0], st))
				return nil
			}
			views.WriteOutputs(a.stdout, st.Outputs, "", showSensitive)
			return nil
		},
	}
	c.Flags().BoolVar(&showSensitive, "show-sensitive", false, "print sensitive outputs' values")
	c.Flags().BoolVar(&a.flags.json, "json", false, "print JSON (docs/json.md)")
	return c
}

// noOutputs says why a workspace has no outputs to print (on stderr, as
// terraform output warns): nothing deployed, or a recipe without any.
func noOutputs(ws string, st *state.State) string {
	if len(st.Hosts) == 0 && len(st.Steps) == 0 {
		return fmt.Sprintf("workspace %s has nothing deployed (destroyed, or never applied to the end).", ws)
	}
	return fmt.Sprintf("the recipe of workspace %s declares no output blocks, or its last apply did not get to them.", ws)
}

// noOutput is the error for output NAME when the workspace has no such
// output: the ones it has, or why it has none.
func noOutput(name, ws string, st *state.State) error {
	if len(st.Outputs) == 0 {
		return fmt.Errorf("no output %q: %s", name, noOutputs(ws, st))
	}
	return fmt.Errorf("no output %q in workspace %s; it has %s", name, ws, strings.Join(slices.Sorted(maps.Keys(st.Outputs)), ", "))
}

func (a *app) stateCmd() *cobra.Command {
	c := &cobra.Command{Use: "state", Short: "Inspect and repair a workspace's state",
		Long: `state reads a workspace's state (list, show) and repairs it without touching any machine:
rm forgets what was removed by hand, mv follows a renamed step or host group, unlock breaks
a lock whose holder died, forget-hostkey accepts a host's new SSH key, push and pull move a
workspace's state between the local data directory and the site file's backend (docs/state.md).
Commands that write state take the workspace lock (-lock-timeout waits for it) and keep the
previous state as state.json.backup. -site names the site file whose backend block says where
state lives (default ./diffuser.hcl when present). See also diffuser import, which records
what exists without diffuser.`,
		Example: "  diffuser state list glusterfs\n  diffuser state show glusterfs server[0]\n  diffuser state mv glusterfs step.bricks step.brick"}
	c.PersistentFlags().StringVar(&a.flags.site, "site", "", "site file whose backend block says where state lives (default: ./diffuser.hcl when present)")
	list := &cobra.Command{
		Use: "list WORKSPACE", Short: "List hosts and step instances in state", Args: cobra.ExactArgs(1),
		Example: "  diffuser state list glusterfs\n  diffuser state list glusterfs -json",
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.readState(args[0])
			if err != nil {
				return err
			}
			if a.flags.json {
				return views.WriteJSON(a.stdout, views.NewStateListJSON(st, engine.LaunchAddr))
			}
			for _, h := range sortedKeys(st.Hosts) {
				fmt.Fprintln(a.stdout, engine.LaunchAddr(h))
			}
			for _, s := range sortedKeys(st.Steps) {
				fmt.Fprintf(a.stdout, "%s (%s)\n", s, st.Steps[s].Status)
			}
			return nil
		},
	}
	list.Flags().BoolVar(&a.flags.json, "json", false, "print JSON (docs/json.md)")
	c.AddCommand(list)
	show := &cobra.Command{
		Use: "show WORKSPACE ADDRESS", Short: "Show one host or step instance as recorded (JSON)", Args: cobra.ExactArgs(2),
		Long: `show prints one host (server[0], or launch["server[0]"] as state list prints it) or step
instance (by address) as state records it, in JSON
(always; -json is accepted for scripts that pass it to every command). A sensitive step's
outputs and destroy command print as (sensitive) and its arguments are left out.`,
		Example: "  diffuser state show glusterfs 'step.volume[\"server[0]\"]'\n  diffuser state show glusterfs server[0]",
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.readState(args[0])
			if err != nil {
				return err
			}
			var v any
			host := args[1]
			if a, err := engine.ParseAddress(host); err == nil && a.Kind == engine.AddrHost {
				host = a.Host // launch["server[0]"], as state list prints it
			}
			if h, ok := st.Hosts[host]; ok {
				v = h
			} else if i, ok := st.Steps[args[1]]; ok {
				cp := *i
				if cp.Sensitive {
					cp.Outputs = map[string]string{}
					for k := range i.Outputs {
						cp.Outputs[k] = "(sensitive)"
					}
					if cp.Destroy != "" {
						cp.Destroy = "(sensitive)"
					}
					cp.Args = nil
				}
				v = cp
			} else {
				return fmt.Errorf("nothing at %q in workspace %s (see diffuser state list %s)", args[1], args[0], args[0])
			}
			return views.WriteJSON(a.stdout, v)
		},
	}
	show.Flags().BoolVar(&a.flags.json, "json", false, "print JSON (the default: accepted for uniformity)")
	c.AddCommand(show)
	var forceID string
	unlock := &cobra.Command{
		Use: "unlock WORKSPACE", Short: "Break a stale lock left by a process that died", Args: cobra.ExactArgs(1),
		Long: `unlock breaks the workspace lock only when its holder is no longer alive; a live holder's lock is never broken.
A lock in an S3 bucket does not end with its holder: unlock breaks it when the holder ran on this host and
is gone; a holder on another host cannot be checked from here, so -force LOCK_ID (the id the locked error
and the lock object name) removes that lock, and no lock taken after it.`,
		Example: "  diffuser state unlock glusterfs\n  diffuser state unlock glusterfs -force 3f9c2a7e1b0d4c55",
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := a.workspaceEnv().Unlock(args[0], forceID)
			if err != nil {
				return err
			}
			switch {
			case res.Forced != nil:
				fmt.Fprintf(a.stdout, "Removed the lock held by %s.\n", res.Forced)
			case forceID != "":
				fmt.Fprintln(a.stdout, "The workspace was not locked.")
			case res.Broken != nil:
				fmt.Fprintf(a.stdout, "Broke the stale lock held by %s.\n", res.Broken)
			case res.Dead != nil:
				fmt.Fprintf(a.stdout, "The workspace is not locked: its last holder, %s, ended without releasing the lock, "+
					"and the lock ended with its process. Nothing to break.\n", res.Dead)
			default:
				fmt.Fprintln(a.stdout, "The workspace was not locked.")
			}
			return nil
		},
	}
	unlock.Flags().StringVar(&forceID, "force", "", "remove the lock with this lock id whoever holds it (S3 backend: its holder may run elsewhere)")
	c.AddCommand(unlock, a.statePushCmd(), a.statePullCmd())
	var jump string
	forget := &cobra.Command{
		Use: "forget-hostkey WORKSPACE (HOST | --jump ADDRESS)", Short: "Forget a host's or jump host's pinned SSH key so the next connection records the new one",
		Long: `forget-hostkey forgets the SSH host key pinned for HOST, or with --jump for the jump host at
ADDRESS (as the changed-key error names it: the address, with :PORT when the port is not 22) in
every host's jump chain. The next apply trusts the key offered then and pins it again.`,
		Example: "  diffuser state forget-hostkey glusterfs server[1]\n  diffuser state forget-hostkey glusterfs --jump bastion.example.com",
		Args: func(cmd *cobra.Command, args []string) error {
			if jump != "" {
				return cobra.ExactArgs(1)(cmd, args)
			}
			return cobra.ExactArgs(2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if jump != "" {
				hosts, err := a.workspaceEnv().ForgetJumpHostKey(cmd.Context(), args[0], jump)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "Forgot the host key of jump host %s (reached on the way to %s); the next connection trusts and records the key it offers.\n",
					jump, strings.Join(hosts, ", "))
				return nil
			}
			if err := a.workspaceEnv().ForgetHostKey(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Forgot the host key of %s; the next connection trusts and records the key it offers.\n", args[1])
			return nil
		},
	}
	forget.Flags().StringVar(&jump, "jump", "", "forget the key of this jump host (ADDRESS or ADDRESS:PORT) instead of a host's")
	a.lockFlag(forget)
	c.AddCommand(forget, a.stateRmCmd(), a.stateMvCmd())
	return c
}

func (a *app) hostsCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "hosts WORKSPACE", Short: "Table of hosts: addresses, how diffuser reaches them, provider ids, facts, volumes", Args: cobra.ExactArgs(1),
		Example: "  diffuser hosts glusterfs\n  diffuser hosts glusterfs -json",
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.readState(args[0])
			if err != nil {
				return err
			}
			if a.flags.json {
				return views.WriteJSON(a.stdout, views.NewHostsJSON(st))
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "HOST\tPRIVATE IP\tPUBLIC IP\tSSH\tPROVIDER\tID\tFACTS\tVOLUMES")
			for _, n := range sortedKeys(st.Hosts) {
				h := st.Hosts[n]
				vols := ""
				for _, vn := range sortedKeys(h.Volumes) {
					vols += fmt.Sprintf("%s=%s(%dG) ", vn, h.Volumes[vn].Device, h.Volumes[vn].SizeGB)
				}
				id := h.ProviderID
				if len(id) > 16 {
					id = id[:16]
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n, h.PrivateIP, h.PublicIP, sshTarget(h.SSH), h.Provider, id, views.FactsSummary(h.Facts), vols)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&a.flags.json, "json", false, "print JSON (docs/json.md)")
	return c
}

// sshTarget is how diffuser reaches a host, as state records it:
// user@address:port, then " via " and the jump hosts, the one dialed first
// first.
func sshTarget(s state.SSH) string {
	out := s.Target()
	if hops := s.Hops(); len(hops) > 0 {
		out += " via " + strings.Join(hops, ",")
	}
	return out
}

func (a *app) imageCmd() *cobra.Command {
	c := &cobra.Command{Use: "image", Short: "Manage the docker provider's node image", Example: "  diffuser image build"}
	c.AddCommand(a.imageBuildCmd())
	return c
}

// addCompletionCmd adds cobra's `completion` command now (cobra would add
// it at execution), with examples, and teaches commands to complete their
// arguments: recipe names, workspace names, host names, --progress modes.
func addCompletionCmd(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Example = `  source <(diffuser completion bash)                       # this shell
  diffuser completion bash > /etc/bash_completion.d/diffuser  # every new shell
  diffuser completion zsh > "${fpath[1]}/_diffuser"
  diffuser completion fish > ~/.config/fish/completions/diffuser.fish`
		for _, sh := range c.Commands() {
			sh.Example = "  diffuser completion " + sh.Name()
		}
	}
}

// completeArgs wires argument completion by the placeholders in each
// command's Use line. a supplies the data directory at completion time.
func (a *app) completeArgs(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Flags().Lookup("run") != nil {
			_ = c.RegisterFlagCompletionFunc("run", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return a.workspaceEnv().RunIDs(a.flags.workspace), cobra.ShellCompDirectiveNoFileComp
			})
		}
		if c.Flags().Lookup("progress") != nil {
			_ = c.RegisterFlagCompletionFunc("progress", cobra.FixedCompletions(views.ProgressModes, cobra.ShellCompDirectiveNoFileComp))
		}
		if c.ValidArgsFunction != nil || !c.Runnable() {
			return
		}
		words := strings.Fields(c.Use)
		if len(words) < 2 {
			return
		}
		placeholders := words[1:]
		c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			i := len(args)
			if last := placeholders[len(placeholders)-1]; i >= len(placeholders) && strings.HasSuffix(last, "...") {
				i = len(placeholders) - 1 // ADDRESS...: any number of them
			}
			if i >= len(placeholders) {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			switch strings.TrimSuffix(strings.Trim(placeholders[i], "[]"), "...") {
			case "ADDRESS", "SRC":
				if placeholders[0] == "WORKSPACE" && len(args) > 0 {
					if st, err := a.readState(args[0]); err == nil {
						return stateAddresses(st), cobra.ShellCompDirectiveNoFileComp
					}
				}
			case "RECIPE", "RECIPE|PLANFILE":
				return recipes.Names(), cobra.ShellCompDirectiveDefault // built-in names, or a path
			case "WORKSPACE":
				return a.workspaceNames(), cobra.ShellCompDirectiveNoFileComp
			case "RUN|PLANFILE":
				return a.workspaceEnv().RunIDs(a.flags.workspace), cobra.ShellCompDirectiveDefault // run ids, or a path
			case "HOST":
				if placeholders[0] == "STEP" && len(args) > 0 {
					return a.workspaceEnv().LoggedHosts(a.flags.workspace, args[0]), cobra.ShellCompDirectiveNoFileComp
				}
				if len(args) > 0 {
					if st, err := a.readState(args[0]); err == nil {
						return sortedKeys(st.Hosts), cobra.ShellCompDirectiveNoFileComp
					}
				}
			case "STEP":
				return a.workspaceEnv().LoggedSteps(a.flags.workspace), cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
	}
	walk(root)
}

// stateAddresses lists what state rm and state mv take: hosts, steps and
// step instances.
func stateAddresses(st *state.State) []string {
	steps := map[string]bool{}
	out := sortedKeys(st.Hosts)
	for _, addr := range sortedKeys(st.Steps) {
		if s := st.Steps[addr].Step; !steps[s] {
			steps[s] = true
			out = append(out, lang.StepAddr(s))
		}
		out = append(out, addr)
	}
	return out
}

// workspaceNames lists the workspaces under the data directory.
func (a *app) workspaceNames() []string { return a.workspaceEnv().Names() }

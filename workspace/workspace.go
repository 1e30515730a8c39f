package workspace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/remote"
	"diffuser/state"
	"diffuser/steps"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Workspace is everything one command works on: the loaded recipe, the
// site, the chosen provider and the state store.
type Workspace struct {
	env *Env

	Name     string
	Loaded   *engine.Loaded
	Site     *lang.Site
	Provider string
	Dir      string       // <data-dir>/<workspace>
	Store    Backend      // where state lives: the local directory or a bucket
	State    *state.State // set by OpenState
	Files    map[string]*hcl.File
	Source   RecipeRef
	Inputs   Inputs
	// Warnings are the load's non-error diagnostics, for the caller to show.
	Warnings hcl.Diagnostics
	// Remembered is what this load took from the inputs the last apply ran
	// with (diffuser vars): nil when it took nothing.
	Remembered *state.Inputs

	factory cloud.Factory
	// simulated: --simulate runs every group on the sim provider.
	simulated bool
	unlock    func() error
	memory    memory
	sitePath  string // the site file as given, or as the last apply gave it
}

// RecipeRef says where a recipe came from, for saved plans.
type RecipeRef struct {
	Arg     string `json:"arg"`
	Builtin bool   `json:"builtin"`
	Digest  string `json:"digest"`
}

// recipeArg is the recipe argument that loads r again: a built-in as
// builtin/NAME, so that a directory here named like it is not read.
func (r RecipeRef) recipeArg() string {
	if r.Builtin && !strings.HasPrefix(r.Arg, lang.BuiltinPrefix) {
		return lang.BuiltinPrefix + r.Arg
	}
	return r.Arg
}

// recordedRecipeArg is the recipe argument that loads the recipe
// remembered inputs record (Workspace.recipeArg): a built-in's name,
// which is not an absolute path, as builtin/NAME.
func recordedRecipeArg(arg string) string {
	if !filepath.IsAbs(arg) && recipes.Has(arg) {
		return lang.BuiltinPrefix + arg
	}
	return arg
}

// ErrNoState says a workspace has nothing applied yet.
var ErrNoState = errors.New("nothing applied yet in this workspace")

func resolveRecipe(arg string) (lang.Source, RecipeRef, error) {
	ref := RecipeRef{Arg: arg}
	if name, ok := strings.CutPrefix(arg, lang.BuiltinPrefix); ok && recipes.Has(name) {
		// builtin/NAME: the built-in whatever is here (a directory named
		// like it, a clone of its filesystem's sources, is read for NAME).
		ref.Builtin = true
		return lang.Source{FS: recipes.FS(), Dir: name, Display: "builtin:" + name, Modules: recipes.Modules()}, ref, nil
	}
	fi, err := os.Stat(arg)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		// There but not readable (a loop of links, a name too long, no
		// permission): say so, not that there is no such recipe.
		return lang.Source{}, ref, fmt.Errorf("cannot read recipe %s: %w", arg, err)
	}
	if err == nil {
		dir, display, file := arg, arg, ""
		if !fi.IsDir() {
			// The file named is read wherever a link leads; what it
			// reads must be beside where it really is.
			real, err := filepath.EvalSymlinks(arg)
			if err != nil {
				return lang.Source{}, ref, fmt.Errorf("cannot read recipe %s: %w", arg, err)
			}
			dir, display, file = filepath.Dir(real), filepath.Dir(arg), filepath.Base(real)
		}
		fsys, err := lang.DirFS(dir)
		if err != nil {
			return lang.Source{}, ref, fmt.Errorf("cannot read recipe %s: %w", arg, err)
		}
		return lang.Source{FS: fsys, Dir: ".", File: file, Display: display, Modules: recipes.Modules()}, ref, nil
	}
	if recipes.Has(arg) {
		ref.Builtin = true
		return lang.Source{FS: recipes.FS(), Dir: arg, Display: "builtin:" + arg, Modules: recipes.Modules()}, ref, nil
	}
	if name, ok := strings.CutPrefix(arg, lang.BuiltinPrefix); ok && slices.Contains(lang.ModuleNames(recipes.Modules()), name) {
		return lang.Source{}, ref, fmt.Errorf("%s is a built-in module, not a recipe: a recipe calls it with module \"NAME\" { source = %q ... } "+
			"(diffuser recipes vars %s lists its inputs, recipes show %s prints it)", arg, arg, arg, arg)
	}
	return lang.Source{}, ref, fmt.Errorf("no recipe %q: it is not a file or directory here, nor a built-in recipe (built-in: %s)", arg, strings.Join(recipes.Names(), ", "))
}

// siteBesideRecipe warns when the recipe directory arg holds a site file
// (lang.SiteFileName, never part of a recipe) that this run does not
// read: loaded from another directory, diffuser reads ./diffuser.hcl or
// -site, and the hosts would come from another provider than it names.
func siteBesideRecipe(arg string, ref RecipeRef, site *lang.Site) *hcl.Diagnostic {
	if ref.Builtin {
		return nil
	}
	if fi, err := os.Stat(arg); err != nil || !fi.IsDir() {
		return nil
	}
	beside := filepath.Join(arg, lang.SiteFileName)
	bfi, err := os.Stat(beside)
	if err != nil || !bfi.Mode().IsRegular() {
		return nil
	}
	used := "no site file"
	if site != nil && site.Filename != "" {
		if sfi, err := os.Stat(site.Filename); err == nil && os.SameFile(sfi, bfi) {
			return nil
		}
		used = "the site file " + site.Filename
	}
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Site file beside the recipe not read",
		Detail: fmt.Sprintf("%s is a site file, never part of the recipe, and diffuser reads the site file of the working directory or -site: this run uses %s. "+
			"To use it, run diffuser in %s or give -site %s.", beside, used, filepath.Clean(arg), beside)}
}

// LoadSite reads the site file in (default ./diffuser.hcl when present);
// it returns nil without one.
func LoadSite(path string) (*lang.Site, error) {
	if path == "" {
		var err error
		if path, err = defaultSite(); path == "" || err != nil {
			return nil, err
		}
	}
	site, diags := lang.LoadSite(path)
	if site != nil && site.Backend != nil {
		diags = append(diags, CheckBackend(site.Backend)...)
	}
	if diags.HasErrors() {
		files := map[string]*hcl.File{}
		if site != nil {
			files = site.Files
		}
		return nil, &DiagError{Files: files, Diags: diags}
	}
	return site, nil
}

// defaultSite is "diffuser.hcl" when the working directory has one, ""
// when it has none. Something by that name that is not a readable file (a
// directory, a link to nothing) is an error, not silently no site file:
// the hosts would come from the default provider instead of the site's.
func defaultSite() (string, error) {
	const name = lang.SiteFileName
	if _, err := os.Lstat(name); err != nil {
		return "", nil
	}
	fi, err := os.Stat(name)
	switch {
	case err != nil:
		to, _ := os.Readlink(name)
		return "", fmt.Errorf("./%s, the site file when present, is a link to %s, which cannot be read (%v): fix the link, remove it, or give -site FILE", name, to, errors.Unwrap(err))
	case fi.IsDir():
		return "", fmt.Errorf("./%s, the site file when present, is a directory: move it away, or give -site FILE", name)
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("./%s, the site file when present, is not a regular file: move it away, or give -site FILE", name)
	}
	return name, nil
}

// Load parses the recipe, the site file and variables, and picks the
// provider, using the inputs the workspace's last apply ran with for those
// not given (unless in.IgnoreRemembered). Errors in any of them come back
// as a *DiagError.
func (e *Env) Load(in Inputs) (*Workspace, error) {
	return e.load(in, engine.LoadRecipeToPlan)
}

// load is Load with the engine's loader: validate checks every instance
// it can (engine.LoadRecipe); the commands that plan leave that to Plan.
func (e *Env) load(in Inputs, loadRecipe func(*lang.Recipe, lang.Inputs, steps.Registry) (*engine.Loaded, hcl.Diagnostics)) (*Workspace, error) {
	if in.Workspace != "" {
		if err := CheckName(in.Workspace); err != nil {
			return nil, fmt.Errorf("--workspace: %w", err)
		}
	}
	src, ref, err := resolveRecipe(in.Recipe)
	if err != nil {
		return nil, err
	}
	kinds, err := e.Kinds()
	if err != nil {
		return nil, err
	}
	r, diags := lang.Load(src, engine.KindSpecs(kinds))
	if diags.HasErrors() {
		files := map[string]*hcl.File{}
		if r != nil {
			files = r.Files
		}
		if !ref.Builtin && recipes.Has(in.Recipe) {
			for _, d := range diags {
				if d.Severity == hcl.DiagError {
					d.Detail = strings.TrimSuffix(strings.TrimSpace(d.Detail), ".") + fmt.Sprintf(". %s here is read before the built-in recipe of that name: give builtin/%s for the built-in.", in.Recipe, in.Recipe)
					break
				}
			}
		}
		return nil, &DiagError{Files: files, Diags: diags}
	}
	ws := &Workspace{env: e, Source: ref, Inputs: in, Name: in.Workspace}
	if ws.Name == "" {
		ws.Name = r.Name
		if err := CheckName(ws.Name); err != nil {
			return nil, fmt.Errorf("the recipe's name is the workspace's: %w; give -workspace NAME", err)
		}
	}
	ws.Dir = e.Layout().Workspace(ws.Name)
	// The site file says where state lives, and state remembers the site
	// file: the one given (else the Env's, else ./diffuser.hcl) picks the
	// backend, and the site finally used must agree with it.
	var given *lang.Site
	if in.Site != "" {
		if given, err = LoadSite(in.Site); err != nil {
			return nil, err
		}
	}
	cfg, err := e.backendConfig(given, in.Site != "")
	if err != nil {
		return nil, err
	}
	if ws.Store, err = e.backend(ws.Name, cfg, true); err != nil {
		return nil, err
	}
	if err := e.localStateFirst(ws.Name, ws.Store); err != nil {
		return nil, err
	}
	if err := e.markRemote(ws.Name, ws.Store); err != nil {
		return nil, err
	}
	if !in.IgnoreRemembered {
		if ws.memory, err = recall(ws.Store, ws.Name); err != nil {
			return nil, err
		}
	}
	mem := ws.memory.inputs
	ws.sitePath = in.Site
	siteFromMemory := false
	if in.Site == "" && mem != nil && mem.SiteAbs != "" {
		path, err := rememberedSite(mem, ws.Name)
		if err != nil {
			return nil, err
		}
		ws.sitePath, siteFromMemory = mem.Site, true
		in.Site = path
	}
	site := given
	if site == nil {
		if site, err = LoadSite(in.Site); err != nil {
			return nil, err
		}
	}
	if err := sameBackend(site, cfg, ws.Store); err != nil {
		return nil, err
	}
	if site != nil && ws.sitePath == "" {
		ws.sitePath = site.Filename // ./diffuser.hcl, found
	}
	memVars, err := rememberedVars(mem, ws.Name)
	if err != nil {
		return nil, err
	}
	l, d := loadRecipe(r, lang.Inputs{Site: site, Remembered: memVars, VarFiles: in.VarFiles, Vars: in.Vars}, kinds)
	diags = append(diags, d...)
	files := r.Files
	if site != nil {
		files = mergeFiles(files, site.Files)
	}
	if diags.HasErrors() {
		return nil, &DiagError{Files: files, Diags: diags}
	}
	ref.Digest = recipeDigest(l.Recipe)
	if d := siteBesideRecipe(in.Recipe, ref, site); d != nil {
		diags = append(diags, d)
	}
	ws.Loaded, ws.Site, ws.Files, ws.Source, ws.Warnings = l, site, files, ref, diags
	without := in.Provider
	if without == "" && site != nil {
		without = site.DefaultProvider
	}
	if without == "" {
		without = "docker"
	}
	ws.Provider = in.Provider
	if ws.Provider == "" && mem != nil {
		ws.Provider = mem.Provider
	}
	if ws.Provider == "" {
		ws.Provider = without
	}
	if in.NoHosts && in.Provider == "" && ws.Provider == simProvider && !e.Sim.Enabled {
		// Simulated hosts are no reason to refuse what reaches none.
		ws.Provider = without
	}
	if err := aliasDeclared(ws.Provider, in.Provider, mem, site, files); err != nil {
		return nil, err
	}
	if s, _ := e.simulation(); s != nil {
		if _, ok := e.factories()[lang.ProviderBase(in.Provider)]; in.Provider != "" && !ok {
			// Simulated hosts replace it, but a typo is still one.
			return nil, unknownProvider(in.Provider, in.Provider, mem, site, files, providerNames(e.factories()))
		}
		ws.Provider, without = simProvider, simProvider
		ws.simulated = true
	}
	f, ok := e.factories()[lang.ProviderBase(ws.Provider)]
	if !ok && ws.Provider == simProvider && in.Provider == "" {
		return nil, fmt.Errorf("workspace %s was last applied with --simulate: pass --simulate again, or -provider NAME for real hosts", ws.Name)
	}
	if !ok {
		return nil, unknownProvider(ws.Provider, in.Provider, mem, site, files, providerNames(e.factories()))
	}
	ws.factory = f
	if err := ws.checkGroupProviders(); err != nil {
		return nil, err
	}
	ws.Remembered = ws.used(siteFromMemory, without)
	return ws, nil
}

// providerOrigin says where provider key came from, in the order
// diffuser picks one: the -provider flag, the workspace's memory of its
// last apply, the site file's default_provider (whose range it returns,
// for an error at its line), or "" (the docker default).
func providerOrigin(key, flag string, mem *state.Inputs, site *lang.Site) (string, *hcl.Range) {
	switch {
	case flag != "":
		return "-provider", nil
	case mem != nil && mem.Provider == key:
		return "remembered from the workspace's last apply", nil
	case site != nil && site.DefaultProvider == key:
		rng := site.DefaultProviderRange
		return "default_provider of " + site.Filename, &rng
	}
	return "", nil
}

// providerError is the error about provider key: at the line of the site
// file's default_provider when it came from there (summary and detail),
// else msg given where it came from (" (-provider)", or "").
func providerError(key, flag string, mem *state.Inputs, site *lang.Site, files map[string]*hcl.File, summary, detail string, msg func(where string) string) error {
	where, rng := providerOrigin(key, flag, mem, site)
	if rng != nil {
		return &DiagError{Files: files, Diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng}}}
	}
	if where != "" {
		where = " (" + where + ")"
	}
	return errors.New(msg(where))
}

// unknownProvider refuses a provider name diffuser does not have, saying
// where it came from.
func unknownProvider(name, flag string, mem *state.Inputs, site *lang.Site, files map[string]*hcl.File, known []string) error {
	hint := providerChoice(name, known)
	if where, _ := providerOrigin(name, flag, mem, site); strings.HasPrefix(where, "remembered") {
		hint = "pass -provider NAME; " + hint
	}
	return providerError(name, flag, mem, site, files, "Unknown provider",
		fmt.Sprintf("default_provider names %q, which diffuser does not have: %s.", name, hint),
		func(where string) string { return fmt.Sprintf("unknown provider %q%s: %s", name, where, hint) })
}

// aliasDeclared refuses a provider key NAME.ALIAS (from -provider flag,
// default_provider or memory) that no provider block of the site file
// declares: it would run on NAME's defaults, not on settings anyone wrote.
func aliasDeclared(key, flag string, mem *state.Inputs, site *lang.Site, files map[string]*hcl.File) error {
	name, alias, ok := strings.Cut(key, ".")
	if !ok || alias != "" && site != nil && site.Providers[key] != nil {
		return nil
	}
	if alias == "" {
		what := fmt.Sprintf("has nothing after the dot: write %s, or NAME.ALIAS for a provider block with an alias", name)
		return providerError(key, flag, mem, site, files, "Invalid provider", fmt.Sprintf("default_provider %q %s.", key, what),
			func(where string) string { return fmt.Sprintf("provider %q%s %s", key, where, what) })
	}
	what := fmt.Sprintf("no provider %q block of the site file has alias = %q; declare one (provider %q { alias = %q ... }) or use %s", name, alias, name, alias, name)
	return providerError(key, flag, mem, site, files, "Unknown provider alias", fmt.Sprintf("default_provider names %q: %s.", key, what),
		func(where string) string { return fmt.Sprintf("unknown provider alias %q%s: %s", key, where, what) })
}

// providerChoice says what to write instead of provider name, which
// diffuser does not have: the nearest of known, or all of them.
func providerChoice(name string, known []string) string {
	if s := lang.Suggest(name, known); s != "" {
		return fmt.Sprintf("did you mean %q? (diffuser has %s)", s, strings.Join(known, ", "))
	}
	return "use one of " + strings.Join(known, ", ")
}

func recipeDigest(r *lang.Recipe) string {
	names := make([]string, 0, len(r.Files))
	for n := range r.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write(r.Files[n].Bytes)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Settings decodes the provider settings for a host group ("" for the
// provider-wide block) from the site file.
func (ws *Workspace) Settings(group string) (cty.Value, hcl.Diagnostics) {
	key := ws.ProviderOf(group)
	f, err := ws.factoryFor(key)
	if err != nil {
		return cty.NilVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown provider", Detail: err.Error()}}
	}
	var pb *lang.ProviderBlock
	if ws.Site != nil {
		pb = ws.Site.Providers[key]
	}
	return pb.Settings(f.Spec(), group)
}

// OpenState reads state; with lock, it takes the workspace lock first
// (waiting up to the Env's LockTimeout), naming command ("apply") and the
// recipe as its holder. The caller calls Close.
func (ws *Workspace) OpenState(ctx context.Context, lock bool, command string) error {
	if lock {
		if err := os.MkdirAll(ws.Dir, 0o700); err != nil {
			return fmt.Errorf("creating workspace directory: %w", err)
		}
		if err := ws.env.markRemote(ws.Name, ws.Store); err != nil {
			return err
		}
		unlock, err := ws.Store.Lock(ctx, state.CurrentHolder(holderCommand(command, ws.Inputs.Recipe)))
		if err != nil {
			return err
		}
		ws.unlock = unlock
	}
	if ws.memory.st != nil && (!lock || ws.Store.Current()) {
		if err := ws.memory.st.Writable(); lock && err != nil {
			ws.Close() // read without the lock: refused here as Load under it refuses
			return fmt.Errorf("load state: %w", err)
		}
		ws.State = ws.memory.st // read by Load a moment ago, and unchanged since
		return nil
	}
	st, err := ws.Store.Load()
	if err != nil {
		ws.Close()
		return err
	}
	ws.State = st
	if lock {
		if err := ws.checkMemory(); err != nil {
			ws.Close()
			return err
		}
	}
	return nil
}

// holderCommand is how the lock names a command: "diffuser apply glusterfs".
func holderCommand(command string, args ...string) string {
	return strings.Join(append([]string{"diffuser", command}, args...), " ")
}

// Close releases the workspace lock, if held.
func (ws *Workspace) Close() {
	if ws.unlock != nil {
		_ = ws.unlock()
		ws.unlock = nil
	}
}

// Cluster is the provider-visible name of this workspace's cluster, fixed
// at first apply so that two checkouts never share containers.
func (ws *Workspace) Cluster() string {
	if ws.State.Cluster == "" {
		lin := ws.State.Lineage
		if len(lin) > 6 {
			lin = lin[:6]
		}
		ws.State.Cluster = Sanitize(filepath.Base(ws.Dir)) + "-" + lin
	}
	return ws.State.Cluster
}

// Sanitize lowercases s and turns anything but [a-z0-9-] into '-', for
// names providers accept.
func Sanitize(s string) string {
	out := []byte(s)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			if c >= 'A' && c <= 'Z' {
				out[i] = c + 32
			} else {
				out[i] = '-'
			}
		}
	}
	return string(out)
}

// Keys returns the workspace's SSH identity, generating it on first use.
func (ws *Workspace) Keys() (cloud.Keys, error) {
	if err := os.MkdirAll(ws.Dir, 0o700); err != nil {
		return cloud.Keys{}, err
	}
	priv, pub, err := remote.GenerateKey(ws.Dir)
	if err != nil {
		return cloud.Keys{}, fmt.Errorf("workspace SSH key: %w", err)
	}
	return cloud.Keys{PublicKey: pub, PrivateKeyFile: priv}, nil
}

// NewProvider instantiates the chosen provider.
func (ws *Workspace) NewProvider(ctx context.Context) (cloud.Provider, cloud.Keys, error) {
	keys, err := ws.Keys()
	if err != nil {
		return nil, keys, err
	}
	if ws.routed() || ws.stateOnOtherProviders() {
		p, err := ws.newProviders(ctx, keys)
		return p, keys, err
	}
	settings, diags := ws.Settings("")
	if diags.HasErrors() {
		return nil, keys, &DiagError{Files: ws.Files, Diags: diags}
	}
	abs, _ := filepath.Abs(ws.Dir)
	log := ws.env.log()
	p, err := ws.factory.New(ctx, settings, cloud.Env{Keys: keys, WorkDir: abs, Log: func(format string, args ...any) {
		fmt.Fprintf(log, format+"\n", args...)
	}})
	if err != nil {
		return nil, keys, fmt.Errorf("starting provider %s: %w", ws.Provider, err)
	}
	return p, keys, nil
}

// sealReporter is a store that says whether the state.json it last
// loaded is sealed (state.Store, s3store.Store).
type sealReporter interface{ Sealed() bool }

// sameAsStored says whether state in memory is what the store holds, in
// the form a save would write it (sealed with the state key, or in clear),
// so that saving it would change nothing but its serial. Any doubt says no:
// a store that cannot say how it holds state, a state.json whose form is
// not the key's (a workspace in clear is sealed by its next save).
func (ws *Workspace) sameAsStored() bool {
	if ws.State == nil || ws.State.Serial == 0 {
		return false
	}
	sr, ok := ws.Store.(sealReporter)
	if !ok {
		return false
	}
	stored, err := ws.Store.Load()
	if err != nil || sr.Sealed() != (ws.env.StateKey != nil) {
		return false
	}
	a, err1 := json.Marshal(stored)
	b, err2 := json.Marshal(ws.State)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

// SaveState compacts the journal into state.json.
func (ws *Workspace) SaveState() error {
	if err := ws.Store.Save(ws.State); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

// Connector returns how to reach the workspace's hosts: SSH with the
// workspace key, or the simulated or test connector. The caller calls
// the returned close function.
func (ws *Workspace) Connector(keys cloud.Keys) (engine.Connector, func(), error) {
	e := ws.env
	if s, _ := e.simulation(); s != nil {
		s.adopt(ws.Cluster(), ws.State)
		return s.connector(), func() {}, nil
	}
	if e.Connector != nil {
		return e.Connector, func() {}, nil
	}
	if keys.PrivateKeyFile == "" {
		var err error
		if keys, err = ws.Keys(); err != nil {
			return nil, nil, err
		}
	}
	c := NewSSHConnector(keys.PrivateKeyFile)
	c.workspace = ws.Name
	return c, c.Close, nil
}

// OpenApplied loads a recipe's workspace read-only for commands that work
// on an applied cluster (verify, bench) and returns how to reach its
// hosts. The caller calls the returned close function.
func (e *Env) OpenApplied(ctx context.Context, in Inputs, command string) (*Workspace, engine.Connector, func(), error) {
	ws, err := e.Load(in)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := ws.OpenState(ctx, false, command); err != nil {
		return nil, nil, nil, err
	}
	if len(ws.State.Hosts) == 0 {
		return nil, nil, nil, fmt.Errorf("workspace %s has no hosts: run diffuser apply %s first", ws.Dir, in.Recipe)
	}
	if err := ws.reachStaticNow(ctx); err != nil {
		return nil, nil, nil, err
	}
	conn, closeConn, err := ws.Connector(cloud.Keys{})
	if err != nil {
		return nil, nil, nil, err
	}
	return ws, conn, closeConn, nil
}

// reachStaticNow makes ws.State, in memory, say how each static host the
// site file (or ssh config) now says to reach another way at the same
// address is reached now (engine.ReachNow): a command that only reads
// state (verify, bench) then reaches it as apply will record it, not the
// recorded way that may no longer work (a rotated key). Only static hosts
// are asked: other providers' hosts are reached as recorded, without
// starting their provider (aws credentials). Nothing is saved.
func (ws *Workspace) reachStaticNow(ctx context.Context) error {
	var static []string // the static providers' keys, sorted
	for _, h := range ws.State.Hosts {
		if lang.ProviderBase(h.Provider) == "static" && !slices.Contains(static, h.Provider) {
			static = append(static, h.Provider)
		}
	}
	if len(static) == 0 {
		return nil
	}
	slices.Sort(static)
	keys, err := ws.Keys()
	if err != nil {
		return err
	}
	// The static providers only: a host on another is left out of
	// ReachNow's answer (its provider is not there), reached as recorded.
	p, _, err := ws.startProviders(ctx, keys, static)
	if err != nil {
		return err
	}
	opt := ws.planOptions()
	opt.Refresh = refresher{provider: p}
	now := ws.Loaded.ReachNow(ctx, opt, ws.State)
	if len(now) == 0 {
		return nil
	}
	st := *ws.State
	st.Hosts = maps.Clone(st.Hosts)
	maps.Copy(st.Hosts, now)
	ws.State = &st
	return nil
}

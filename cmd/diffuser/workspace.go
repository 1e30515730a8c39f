package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/remote"
	"diffuser/state"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/term"
)

// workspace is everything one command works on: the loaded recipe, the
// site, the chosen provider and the state store.
type workspace struct {
	app      *app
	loaded   *engine.Loaded
	site     *lang.Site
	provider string
	factory  cloud.Factory
	dir      string // <data-dir>/<workspace>
	store    *state.Store
	st       *state.State
	unlock   func() error
	files    map[string]*hcl.File
	source   recipeRef
}

// recipeRef says where a recipe came from, for saved plans.
type recipeRef struct {
	Arg     string `json:"arg"`
	Builtin bool   `json:"builtin"`
	Digest  string `json:"digest"`
}

func resolveRecipe(arg string) (lang.Source, recipeRef, error) {
	ref := recipeRef{Arg: arg}
	if fi, err := os.Stat(arg); err == nil {
		if fi.IsDir() {
			return lang.Source{FS: os.DirFS(arg), Dir: ".", Display: arg}, ref, nil
		}
		dir := filepath.Dir(arg)
		return lang.Source{FS: os.DirFS(dir), Dir: ".", File: filepath.Base(arg), Display: dir}, ref, nil
	}
	if recipes.Has(arg) {
		ref.Builtin = true
		return lang.Source{FS: recipes.FS(), Dir: arg, Display: "builtin:" + arg}, ref, nil
	}
	return lang.Source{}, ref, fmt.Errorf("no recipe %q: it is neither a file or directory here nor a built-in recipe (built-in: %v)", arg, recipes.Names())
}

// printDiags writes diagnostics with the offending source underlined.
func (a *app) printDiags(files map[string]*hcl.File, diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	width, color := 0, false
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		width, _, _ = term.GetSize(int(f.Fd()))
		color = !a.flags.noColor
	}
	w := hcl.NewDiagnosticTextWriter(a.stderr, files, uint(width), color)
	_ = w.WriteDiagnostics(diags)
}

func mergeFiles(ms ...map[string]*hcl.File) map[string]*hcl.File {
	out := map[string]*hcl.File{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func errorCount(diags hcl.Diagnostics) int {
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}

// load parses the recipe, the site file and variables, and picks the provider.
func (a *app) load(recipeArg string) (*workspace, error) {
	src, ref, err := resolveRecipe(recipeArg)
	if err != nil {
		return nil, err
	}
	ws := &workspace{app: a, source: ref}
	var site *lang.Site
	sitePath := a.flags.site
	if sitePath == "" {
		if _, err := os.Stat("diffuser.hcl"); err == nil {
			sitePath = "diffuser.hcl"
		}
	}
	if sitePath != "" {
		var diags hcl.Diagnostics
		site, diags = lang.LoadSite(sitePath)
		if diags.HasErrors() {
			files := map[string]*hcl.File{}
			if site != nil {
				files = site.Files
			}
			a.printDiags(files, diags)
			return nil, &shownError{errorCount(diags)}
		}
	}
	ws.site = site
	kinds, err := a.kinds()
	if err != nil {
		return nil, err
	}
	l, diags := engine.Load(src, lang.Inputs{Site: site, VarFiles: a.flags.varFiles, Vars: a.flags.vars}, kinds)
	files := map[string]*hcl.File{}
	if l != nil && l.Recipe != nil {
		files = l.Recipe.Files
	}
	if site != nil {
		files = mergeFiles(files, site.Files)
	}
	ws.files = files
	if diags.HasErrors() {
		a.printDiags(files, diags)
		return nil, &shownError{errorCount(diags)}
	}
	a.printDiags(files, diags) // warnings
	ws.loaded = l
	ref.Digest = recipeDigest(l.Recipe)
	ws.source = ref

	name := a.flags.workspace
	if name == "" {
		name = l.Recipe.Name
	}
	ws.dir = filepath.Join(a.flags.dataDir, name)
	ws.store = state.Open(ws.dir)
	ws.provider = a.flags.provider
	if ws.provider == "" && site != nil {
		ws.provider = site.DefaultProvider
	}
	if ws.provider == "" {
		ws.provider = "docker"
	}
	if s, _ := a.simulation(); s != nil {
		ws.provider = "sim"
	}
	f, ok := a.factories()[ws.provider]
	if !ok {
		return nil, fmt.Errorf("unknown provider %q: use one of %v", ws.provider, providerNames(a.factories()))
	}
	ws.factory = f
	return ws, nil
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

// settingsFn decodes provider settings for a group from the site file.
func (ws *workspace) settingsFn() func(string) (cty.Value, hcl.Diagnostics) {
	var pb *lang.ProviderBlock
	if ws.site != nil {
		pb = ws.site.Providers[ws.provider]
	}
	return func(group string) (cty.Value, hcl.Diagnostics) {
		return pb.Settings(ws.factory.Spec(), group)
	}
}

// openState reads state; with lock, it takes the workspace lock first.
func (ws *workspace) openState(ctx context.Context, lock bool, command string) error {
	if lock {
		if err := os.MkdirAll(ws.dir, 0o700); err != nil {
			return fmt.Errorf("creating workspace directory: %w", err)
		}
		unlock, err := ws.store.Lock(ctx, state.CurrentHolder(command))
		if err != nil {
			return err
		}
		ws.unlock = unlock
	}
	st, err := ws.store.Load()
	if err != nil {
		ws.close()
		return err
	}
	ws.st = st
	return nil
}

func (ws *workspace) close() {
	if ws.unlock != nil {
		_ = ws.unlock()
		ws.unlock = nil
	}
}

// cluster is the provider-visible name of this workspace's cluster, fixed
// at first apply so that two checkouts never share containers.
func (ws *workspace) cluster() string {
	if ws.st.Cluster == "" {
		lin := ws.st.Lineage
		if len(lin) > 6 {
			lin = lin[:6]
		}
		ws.st.Cluster = sanitize(filepath.Base(ws.dir)) + "-" + lin
	}
	return ws.st.Cluster
}

func sanitize(s string) string {
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

// keys returns the workspace's SSH identity, generating it on first use.
func (ws *workspace) keys() (cloud.Keys, error) {
	if err := os.MkdirAll(ws.dir, 0o700); err != nil {
		return cloud.Keys{}, err
	}
	priv, pub, err := remote.GenerateKey(ws.dir)
	if err != nil {
		return cloud.Keys{}, fmt.Errorf("workspace SSH key: %w", err)
	}
	return cloud.Keys{PublicKey: pub, PrivateKeyFile: priv}, nil
}

// newProvider instantiates the chosen provider.
func (ws *workspace) newProvider(ctx context.Context, log io.Writer) (cloud.Provider, cloud.Keys, error) {
	keys, err := ws.keys()
	if err != nil {
		return nil, keys, err
	}
	settings, diags := ws.settingsFn()("")
	if diags.HasErrors() {
		ws.app.printDiags(ws.files, diags)
		return nil, keys, &shownError{errorCount(diags)}
	}
	abs, _ := filepath.Abs(ws.dir)
	p, err := ws.factory.New(ctx, settings, cloud.Env{Keys: keys, WorkDir: abs, Log: func(format string, args ...any) {
		fmt.Fprintf(log, format+"\n", args...)
	}})
	if err != nil {
		return nil, keys, fmt.Errorf("starting provider %s: %w", ws.provider, err)
	}
	return p, keys, nil
}

var errNoState = errors.New("nothing applied yet in this workspace")

// openApplied loads a recipe's workspace read-only for commands that work
// on an applied cluster (verify, bench) and returns how to reach its hosts.
// The caller calls the returned close function.
func (a *app) openApplied(ctx context.Context, recipeArg, command string) (*workspace, engine.Connector, func(), error) {
	ws, err := a.load(recipeArg)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := ws.openState(ctx, false, command); err != nil {
		return nil, nil, nil, err
	}
	if len(ws.st.Hosts) == 0 {
		return nil, nil, nil, fmt.Errorf("workspace %s has no hosts: run diffuser apply %s first", ws.dir, recipeArg)
	}
	conn, closeConn, err := a.hostConnector(ws)
	if err != nil {
		return nil, nil, nil, err
	}
	return ws, conn, closeConn, nil
}

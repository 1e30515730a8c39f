package workspace

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"diffuser/state"
)

// Info describes one workspace under the data directory, as
// `diffuser workspace list` shows it.
type Info struct {
	Name      string
	Dir       string
	Recipe    string // the recipe last applied ("" before the first apply)
	Provider  string
	Cluster   string
	Hosts     int
	Instances int
	Outputs   int
	Serial    uint64
	// Expires is the cluster's deadline (zero: none); RecipeArg the recipe
	// its last apply was given (a name or an absolute path), for a sweep.
	Expires   time.Time
	RecipeArg string
	Modified  time.Time     // latest change to state.json or its journal
	LockedBy  *state.Holder // a process holding the workspace lock now
	Err       error         // state that cannot be read; the rest is zero
	// Bucket is where the state is when it is in a bucket (its backend
	// marker: s3://bucket/key/workspace), "" for a local one.
	Bucket string
}

// isWorkspaceDir says whether dir holds a workspace: a directory (not a
// symlink) with a state file, journal or lock in it. The data directory's
// other entries (logs/) are not workspaces.
func isWorkspaceDir(dir string) bool {
	ok, _ := lookWorkspaceDir(dir)
	return ok
}

// lookWorkspaceDir is isWorkspaceDir with the reason it could not tell:
// only "no such file or directory" says that dir, or each of its files,
// is not there. Any other error (permission denied: another user's data
// directory, made 0700) leaves the question open, and is returned.
func lookWorkspaceDir(dir string) (bool, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.IsDir() {
		return false, nil
	}
	for _, f := range []string{state.StateFile, state.JournalFile, state.LockFile} {
		_, err := os.Lstat(filepath.Join(dir, f))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
	}
	return false, nil
}

// List describes every workspace under the data directory, sorted by
// name. A workspace whose state cannot be read is listed with Err set;
// one whose state is in a bucket is read there through the site file's
// backend (Env.SiteFile, else ./diffuser.hcl), and has Err set when no
// site file names that backend.
func (e *Env) List() ([]Info, error) { return e.list(true) }

// list is List; buckets false leaves the state of workspaces kept in a
// bucket unread (Err says where it is): the sweep must not wait on a
// network.
func (e *Env) list(buckets bool) ([]Info, error) {
	ents, err := os.ReadDir(e.dataDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing workspaces: %w", err)
	}
	var out []Info
	for _, ent := range ents {
		dir := e.Layout().Workspace(ent.Name())
		// A workspace whose state is in a bucket keeps only its backend
		// marker (with its key and runs) in its directory.
		if inBucket, _ := bucketMarked(dir); inBucket && ent.IsDir() {
			out = append(out, e.bucketInfo(ent.Name(), dir, buckets))
			continue
		}
		if !isWorkspaceDir(dir) {
			continue
		}
		out = append(out, e.info(ent.Name(), dir))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (e *Env) info(name, dir string) Info {
	in := Info{Name: name, Dir: dir}
	for _, f := range []string{state.StateFile, state.JournalFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && fi.ModTime().After(in.Modified) {
			in.Modified = fi.ModTime()
		}
	}
	s := e.openLocal(dir)
	if h, err := s.LockInfo(); err == nil && h != nil {
		in.LockedBy = h
	}
	st, err := s.Load()
	if err != nil {
		in.Err = err
		return in
	}
	in.fill(st)
	return in
}

// bucketInfo describes a workspace whose state is in a bucket (its
// backend marker says which): read through the site file's backend when
// read is set and that backend is the marker's.
func (e *Env) bucketInfo(name, dir string, read bool) Info {
	in := Info{Name: name, Dir: dir}
	b, err := readMarker(filepath.Join(dir, "backend"))
	if err != nil {
		in.Err = err
		return in
	}
	where := strings.TrimSpace(string(b))
	in.Bucket = where
	if !read {
		in.Err = fmt.Errorf("its state is in %s", where)
		return in
	}
	cfg, err := e.envBackendConfig()
	if err != nil {
		in.Err = err
		return in
	}
	if cfg == nil {
		in.Err = fmt.Errorf("its state is in %s: give the site file whose backend block names it (-site FILE) to read it", where)
		return in
	}
	store, err := e.backend(name, cfg, false)
	if err != nil {
		in.Err = err
		return in
	}
	if store.Where() != where {
		in.Err = fmt.Errorf("its state is in %s, and the site file's backend is %s: give the site file that names %s", where, store.Where(), where)
		return in
	}
	if h, err := store.LockInfo(); err == nil && h != nil {
		in.LockedBy = h
	}
	st, err := store.Load()
	if err != nil {
		in.Err = err
		return in
	}
	in.fill(st)
	return in
}

// fill sets what in says of state st.
func (in *Info) fill(st *state.State) {
	in.Recipe, in.Provider, in.Cluster = st.Recipe, st.Provider, st.Cluster
	in.Hosts, in.Instances, in.Outputs, in.Serial = len(st.Hosts), len(st.Steps), len(st.Outputs), st.Serial
	in.Expires = st.Expires
	var provs []string
	for _, h := range st.Hosts {
		if h.Provider != "" && !contains(provs, h.Provider) {
			provs = append(provs, h.Provider)
		}
	}
	if len(provs) > 1 {
		sort.Strings(provs)
		in.Provider = strings.Join(provs, "+") // a cluster over several providers
	}
	if st.Inputs != nil {
		in.RecipeArg = recordedRecipeArg(st.Inputs.Recipe)
	}
}

// Deleted says what Delete removed.
type Deleted struct {
	Name string
	Dir  string
	// Abandoned are the hosts state still recorded when -force deleted it:
	// they keep running, and nothing tracks them any more.
	Abandoned []string
	Provider  string
	Cluster   string
}

// ErrNotEmpty says a workspace still has hosts or step instances.
var ErrNotEmpty = errors.New("the workspace still has hosts or step instances")

// Delete removes a workspace's directory (state, its journal and backup,
// the SSH key, known_hosts, its runs with their logs and timelines) under
// the workspace lock. It refuses while state records hosts or step
// instances — destroy them first — unless force, which also deletes a
// workspace whose state cannot be read.
func (e *Env) Delete(ctx context.Context, name string, force bool) (*Deleted, error) {
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("%w: give one of diffuser workspace list's names", err)
	}
	dir := e.Layout().Workspace(name)
	if !isWorkspaceDir(dir) {
		known := e.Names()
		if len(known) == 0 {
			return nil, fmt.Errorf("no workspace %q under %s: there are none", name, e.dataDir())
		}
		return nil, fmt.Errorf("no workspace %q under %s (workspaces: %s)", name, e.dataDir(), strings.Join(known, ", "))
	}
	s := e.openLocal(dir)
	unlock, err := s.Lock(ctx, state.CurrentHolder("workspace delete "+name))
	if err != nil {
		return nil, fmt.Errorf("workspace %s is in use: %w", name, err)
	}
	// Released after the removal too: the descriptor outlives the file.
	defer func() { _ = unlock() }()
	del := &Deleted{Name: name, Dir: dir}
	st, err := s.Load()
	switch {
	case err != nil && !force:
		return nil, fmt.Errorf("reading the state of workspace %s: %w\nIt may still record hosts: repair it (see its backup), "+
			"or pass -force to delete the workspace anyway, leaving whatever it made running", name, err)
	case err == nil:
		del.Provider, del.Cluster = st.Provider, st.Cluster
		if n, m := len(st.Hosts), len(st.Steps); n+m > 0 {
			if !force {
				recipe := st.Recipe
				if recipe == "" {
					recipe = "RECIPE"
				}
				return nil, fmt.Errorf("%w: %s has %d host(s) and %d step instance(s) in state. Destroy them first "+
					"(diffuser destroy %s -workspace %s), or pass -force to delete the workspace and leave them running, untracked",
					ErrNotEmpty, name, n, m, recipe, name)
			}
			for h := range st.Hosts {
				del.Abandoned = append(del.Abandoned, h)
			}
			sort.Strings(del.Abandoned)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("deleting workspace %s: %w", name, err)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return del, fmt.Errorf("deleted workspace %s, but syncing %s: %w", name, filepath.Dir(dir), err)
	}
	return del, nil
}

// syncDir makes a directory's entries durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

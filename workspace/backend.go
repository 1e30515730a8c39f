package workspace

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"diffuser/internal/regfile"
	"diffuser/lang"
	"diffuser/state"
	"diffuser/state/s3store"

	"github.com/hashicorp/hcl/v2"
)

// Backend is where a workspace's state, journal and lock live: the local
// data directory (*state.Store, the default) or an S3 bucket
// (*s3store.Store, a site file's backend "s3" block). Both keep the same
// contract, tested by one suite (state/backendtest): lineage and serial
// checks on every write, records durable when Record returns, an
// exclusive lock naming its holder. The workspace's SSH key, known_hosts
// and runs stay in the local data directory either way.
type Backend interface {
	Lock(ctx context.Context, holder state.Holder) (unlock func() error, err error)
	Load() (*state.State, error)
	Save(st *state.State) error
	// Replace writes a state moved from another backend, keeping its
	// lineage and serial (state push and pull).
	Replace(st *state.State) error
	Record(rec state.Record) error
	Current() bool
	LockInfo() (*state.Holder, error)
	BreakLock() (*state.Holder, error)
	DeadHolder() (*state.Holder, error)
	// Where names it in messages: a directory, or s3://bucket/prefix.
	Where() string
}

// forceUnlocker is a backend whose lock outlives its holder, removable by
// lock id (the S3 lock object).
type forceUnlocker interface {
	ForceUnlock(id string) (*state.Holder, error)
}

var (
	_ Backend       = (*state.Store)(nil)
	_ Backend       = (*s3store.Store)(nil)
	_ forceUnlocker = (*s3store.Store)(nil)
)

// backend opens the backend that holds workspace name's state: cfg's
// bucket when cfg is not nil, else the local directory. wait makes Lock
// wait up to LockTimeout.
func (e *Env) backend(name string, cfg *lang.Backend, wait bool) (Backend, error) {
	if err := e.Layout().CheckReal(name); err != nil {
		return nil, err
	}
	var lockWait time.Duration
	if wait {
		lockWait = e.LockTimeout
	}
	if cfg == nil {
		where, err := readMarker(e.Layout().BackendMarker(name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err == nil {
			return nil, fmt.Errorf("workspace %s keeps its state in %s (%s says so), but no site file given names that backend: "+
				"give the site file with its backend block (-site FILE), or diffuser state pull %s -site FILE to work from a local copy",
				name, strings.TrimSpace(string(where)), e.Layout().BackendMarker(name), name)
		}
		return e.localStore(name, lockWait), nil
	}
	if diags := CheckBackend(cfg); diags.HasErrors() {
		return nil, &DiagError{Diags: diags}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := s3store.NewClient(ctx, s3Config(cfg))
	if err != nil {
		return nil, err
	}
	return s3store.New(client, cfg.Bucket, path.Join(cfg.Key, name), s3store.Options{LockWait: lockWait, Key: e.StateKey,
		ClusterPrefix: Sanitize(name) + "-"}), nil
}

func (e *Env) localStore(name string, lockWait time.Duration) *state.Store {
	return e.openLocal(e.Layout().Workspace(name), state.WithLockWait(lockWait))
}

// openLocal opens the state in workspace directory dir. A state.json of
// another workspace's cluster, copied in by hand, is refused when read
// (state.WithClusterPrefix; Cluster names clusters after the directory).
func (e *Env) openLocal(dir string, more ...state.Option) *state.Store {
	prefix := state.WithClusterPrefix(Sanitize(filepath.Base(dir)) + "-")
	shared := state.WithClusterCheck(func(cluster string) error { return e.sharedCluster(dir, cluster) })
	return state.Open(dir, e.stateOpts(append(more, prefix, shared)...)...)
}

// SharedClusterError is a workspace whose state records the cluster
// another workspace's state records too: one directory is a copy of the
// other, made by hand under a name that gives the same cluster prefix
// (a-b, a_b, a.b and A-B all give a-b-), which the prefix check
// (state.ForeignError) cannot tell. Commands in either would change or
// destroy the other's machines, so both are refused.
type SharedClusterError struct {
	Cluster    string
	Dir, Other string
}

func (e *SharedClusterError) Error() string {
	return fmt.Sprintf("the state in %s records cluster %s, and so does the state in %s: one workspace directory is a copy of the other, "+
		"and commands in either would change or destroy the machines the other records. Keep the one the cluster belongs to and "+
		"remove the copy (diffuser workspace delete NAME -force deletes only its directory; the machines stay)", e.Dir, e.Cluster, e.Other)
}

// sharedCluster refuses cluster, recorded by the state in workspace
// directory dir, when another workspace of the same data directory whose
// name gives the same cluster prefix records it too.
func (e *Env) sharedCluster(dir, cluster string) error {
	parent, name := filepath.Split(dir)
	ents, err := os.ReadDir(parent)
	if err != nil {
		return nil // nothing to compare with: Load says what is wrong with dir
	}
	for _, ent := range ents {
		other := ent.Name()
		if other == name || !ent.IsDir() || Sanitize(other) != Sanitize(name) {
			continue
		}
		st, err := state.Open(filepath.Join(parent, other), e.stateOpts()...).Load()
		if err == nil && st.Cluster == cluster {
			return &SharedClusterError{Cluster: cluster, Dir: dir, Other: filepath.Join(parent, other)}
		}
	}
	return nil
}

// markRemote records in the workspace's local directory that its state
// lives in b, so that a later command given no site file is refused
// rather than start an empty local state beside it (as Terraform keeps
// its backend in .terraform/). Only existing workspace directories are
// marked: reading a bucket creates nothing locally.
func (e *Env) markRemote(name string, b Backend) error {
	if isLocal(b) {
		return nil
	}
	dir := e.Layout().Workspace(name)
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	p := e.Layout().BackendMarker(name)
	cur, err := readMarker(p)
	if err == nil && strings.TrimSpace(string(cur)) == b.Where() {
		return nil
	}
	var nr *regfile.NotRegularError
	if errors.As(err, &nr) {
		return err // os.WriteFile would block on a pipe, or fail on a directory
	}
	if err := writeFile(p, []byte(b.Where()+"\n")); err != nil { // replaces, never writes through, what is there
		return fmt.Errorf("recording the workspace's backend: %w", err)
	}
	return nil
}

// localStateFirst refuses bucket b for workspace name while its state is
// still in the local data directory: no backend marker says it moved, the
// local state records something, and the bucket does not hold that state
// (another lineage, or none). Read from the bucket, the workspace would
// plan its whole cluster anew and be marked as kept there, the local state
// and the hosts it records out of reach. state push moves it first.
func (e *Env) localStateFirst(name string, b Backend) error {
	if isLocal(b) {
		return nil
	}
	if _, err := readMarker(e.Layout().BackendMarker(name)); !errors.Is(err, fs.ErrNotExist) {
		return nil // marked (or unreadable, which backend said)
	}
	local, err := e.localStore(name, 0).Load()
	if err != nil || isEmpty(local) {
		return nil // nothing kept here (or nothing readable to move)
	}
	remote, err := b.Load()
	if err != nil {
		return err
	}
	if !isEmpty(remote) && remote.Lineage == local.Lineage {
		return nil // the same state, moved there already (a push from elsewhere)
	}
	return fmt.Errorf("workspace %s keeps its state in %s (serial %d, %d host(s), %d step instance(s)), and the site file's backend %s does not hold it: "+
		"read from there, the workspace would start anew and lose track of those hosts. Move the state first "+
		"(diffuser state push %s -site FILE), or give a site file without a backend block",
		name, e.Layout().Workspace(name), local.Serial, len(local.Hosts), len(local.Steps), b.Where(), name)
}

// maxMarker is the largest backend marker file read: it holds one
// s3:// URL.
const maxMarker = 64 << 10

// readMarker reads the backend marker at p; a named pipe or directory
// there is refused at once (it used to block every command on the
// workspace forever).
func readMarker(p string) ([]byte, error) {
	b, err := regfile.Read(p, maxMarker)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading the workspace's backend marker: %w", err)
	}
	return b, err
}

// envBackend is the backend of workspace name for commands that take no
// recipe: the Env's (the site file's) backend, else the local directory.
func (e *Env) envBackend(name string, wait bool) (Backend, error) {
	cfg, err := e.envBackendConfig()
	if err != nil {
		return nil, err
	}
	return e.backend(name, cfg, wait)
}

// envBackendConfig is Backend, else SiteFile's (or ./diffuser.hcl's)
// backend block, else nil.
func (e *Env) envBackendConfig() (*lang.Backend, error) {
	if e.Backend != nil {
		return e.Backend, nil
	}
	if e.SiteFile == "" {
		if name, err := defaultSite(); name == "" || err != nil {
			return nil, err
		}
	}
	s, err := LoadSite(e.SiteFile)
	if err != nil || s == nil {
		return nil, err
	}
	return s.Backend, nil
}

func s3Config(b *lang.Backend) s3store.Config {
	return s3store.Config{Bucket: b.Bucket, Key: b.Key, Endpoint: b.Endpoint, Region: b.Region, Profile: b.Profile, PathStyle: b.PathStyle}
}

// CheckBackend checks a site file's backend block's values, each problem
// a diagnostic at the value.
func CheckBackend(b *lang.Backend) hcl.Diagnostics {
	var diags hcl.Diagnostics
	bad := func(attr, summary string, err error) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
			Detail: err.Error() + ".", Subject: b.Range(attr).Ptr()})
	}
	if err := s3store.CheckBucket(b.Bucket); err != nil {
		bad("bucket", "Invalid bucket name", err)
	}
	if err := s3store.CheckKey(b.Key); err != nil {
		bad("key", "Invalid backend key", err)
	}
	if b.Endpoint != "" {
		u, err := url.Parse(b.Endpoint)
		switch {
		case err != nil:
			bad("endpoint", "Invalid endpoint", err)
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			bad("endpoint", "Invalid endpoint", fmt.Errorf("endpoint %q is not an http:// or https:// URL with a host (e.g. http://rgw.lab:7480)", b.Endpoint))
		case u.User != nil:
			bad("endpoint", "Credentials in the endpoint", fmt.Errorf("the endpoint carries a user or password: give keys through AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a profile, never in the site file"))
		}
	}
	return diags
}

// backupOf names the copy of the state a write replaced.
func backupOf(b Backend) string {
	if s, ok := b.(*state.Store); ok {
		return filepath.Join(s.Dir(), state.BackupFile)
	}
	return b.Where() + "/" + state.BackupFile
}

// isLocal says whether b keeps state in the local data directory.
func isLocal(b Backend) bool {
	_, ok := b.(*state.Store)
	return ok
}

// hasLocalDir says whether a local backend's directory exists (a state
// in a bucket always may).
func hasLocalDir(b Backend) bool {
	s, ok := b.(*state.Store)
	if !ok {
		return true
	}
	_, err := os.Stat(s.Dir())
	return err == nil
}

// backendConfig is the backend block that picks where a recipe's state
// lives: the given site file's (given tells whether one was), else the
// Env's, else ./diffuser.hcl's.
func (e *Env) backendConfig(site *lang.Site, given bool) (*lang.Backend, error) {
	if given {
		if site == nil {
			return nil, nil
		}
		return site.Backend, nil
	}
	return e.envBackendConfig()
}

// sameBackend refuses a site file whose backend block is not the one state
// was read from (a remembered site file that gained a backend block, say).
func sameBackend(site *lang.Site, cfg *lang.Backend, b Backend) error {
	if site == nil {
		return nil // the Env's backend, no site file to disagree
	}
	want := site.Backend
	if backendKey(want) == backendKey(cfg) {
		return nil
	}
	where := "the local data directory"
	if want != nil {
		where = fmt.Sprintf("s3://%s/%s (%s)", want.Bucket, want.Key, want.DeclRange)
	}
	return fmt.Errorf("the site file %s keeps state in %s, but this command read the workspace's state from %s: "+
		"give that site file with -site so both agree, or move the state with diffuser state push or pull", site.Filename, where, b.Where())
}

func backendKey(b *lang.Backend) string {
	if b == nil {
		return ""
	}
	return fmt.Sprintf("%s|%s|%s|%s|%s|%s|%t", b.Type, b.Bucket, b.Key, b.Endpoint, b.Region, b.Profile, b.PathStyle)
}

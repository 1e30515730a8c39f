package workspace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"diffuser/cloud/docker"
	"diffuser/lang"
	"diffuser/state"
)

// The sweep of expired docker clusters (docs/expiry.md). Docker cannot end
// a container at a deadline, so every diffuser command that works on
// this machine's clusters first removes the docker clusters whose
// deadline has passed (the CLI calls Env.SweepExpired; DIFFUSER_NO_SWEEP
// turns it off). Which deadline counts:
//
//   - A cluster some workspace owns (its state names the cluster; found
//     through the containers' diffuser.workdir label, else under this data
//     directory): the deadline in that state, which an apply renews or
//     --ttl 0 removes; the labels keep the launch's. Under the workspace
//     lock, taken without waiting (a locked workspace is skipped), the
//     cluster is removed as destroy's provider cleanup removes it, and
//     state is updated: hosts, step instances and outputs gone, the
//     deadline cleared. The recipe's destroy commands are not run: on
//     docker all they could undo is inside the containers removed. A
//     workspace with hosts on other providers, or imported ones, is left
//     to destroy --expired.
//   - A cluster no workspace owns (its workspace directory is gone): the
//     labels, only when every container names its workspace directory
//     and carries a valid deadline, all of them past. Gone means not
//     there: a directory this process may not look into (another user's
//     data directory) is an owner whose state cannot be read.
//
// Anything else (no deadline, a future one, garbage labels, an owner
// whose state cannot be read or lives in a bucket, a workspace with hosts
// on other providers) is left alone.

// ClusterSweeper is the engine side of the sweep: docker.Sweeper, or a
// test's fake.
type ClusterSweeper interface {
	Clusters(ctx context.Context) ([]docker.ClusterMarks, error)
	Remove(ctx context.Context, c docker.ClusterMarks, volumeFiles []string) error
	Close() error
}

// DockerSweeper connects to this machine's Docker Engine: the
// Env.Sweeper of the diffuser command.
func DockerSweeper(ctx context.Context) (ClusterSweeper, error) {
	s, err := docker.NewSweeper(ctx)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// DefaultSweepTimeout bounds a whole sweep: what is not done by then is
// left for the next command.
const DefaultSweepTimeout = 20 * time.Second

// sweepConnectTimeout bounds the wait for the engine to answer: one that
// does not (a DOCKER_HOST out of reach) costs a command no more.
const sweepConnectTimeout = 2 * time.Second

// Swept is one cluster the sweep removed.
type Swept struct {
	Cluster  string
	Deadline time.Time
	// Workspace and Dir name the workspace whose state was updated; both
	// are empty for a cluster no workspace owned.
	Workspace, Dir string
	Hosts          int    // hosts state recorded
	Gone           string // for a cluster without workspace: its directory, from the labels
}

// SweepResult is what a sweep did. Skipped says why an expired cluster
// was left (locked, hosts on other providers), one line each.
type SweepResult struct {
	Swept   []Swept
	Skipped []string
	Errors  []error
}

// owner is the workspace whose state names a cluster.
type owner struct {
	dir    string
	name   string
	remote bool
	err    error        // state that cannot be read
	st     *state.State // its state as read when it was found (not under its lock)
}

// SweepExpired removes the expired docker clusters of this machine (see
// above) within Env.SweepTimeout and writes one line per cluster swept,
// skipped or failed to out. It never fails: without Env.Sweeper, or when
// no Docker Engine answers, it does nothing.
func (e *Env) SweepExpired(ctx context.Context, out io.Writer) SweepResult {
	var res SweepResult
	if e.Sweeper == nil {
		return res
	}
	if out == nil {
		out = io.Discard
	}
	timeout := e.SweepTimeout
	if timeout <= 0 {
		timeout = DefaultSweepTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cctx, ccancel := context.WithTimeout(ctx, min(timeout, sweepConnectTimeout))
	s, err := e.Sweeper(cctx)
	ccancel()
	if err != nil {
		return res // no engine: nothing of docker to sweep
	}
	defer s.Close()
	clusters, err := s.Clusters(ctx)
	if err != nil {
		return res
	}
	now := e.now()
	var local map[string]string // cluster -> workspace dir under this data dir, read once when needed
	for _, c := range clusters {
		if ctx.Err() != nil {
			fmt.Fprintf(out, "sweep of expired clusters stopped after %s; the next diffuser command continues it\n", timeout)
			break
		}
		o := e.findOwner(c, &local)
		var err error
		switch {
		case o != nil:
			err = e.sweepOwned(ctx, s, c, o, now, out, &res)
		case c.AllLabelled():
			err = sweepOrphan(ctx, s, c, now, out, &res)
		}
		if err != nil {
			res.Errors = append(res.Errors, err)
			fmt.Fprintf(out, "warning: sweeping expired cluster %s: %v; the next diffuser command tries again\n", c.Cluster, err)
		}
	}
	return res
}

// findOwner is the workspace whose state names cluster c: in a directory
// a container's workdir label names, else under this data directory (a
// directory renamed by hand included). A directory whose state cannot be
// read (or lives in a bucket, or was renamed) is an owner too: nothing
// can be decided without it.
func (e *Env) findOwner(c docker.ClusterMarks, local *map[string]string) *owner {
	for _, dir := range c.OwnerDirs() {
		if o := e.ownerAt(dir, c.Cluster); o != nil {
			return o
		}
	}
	if *local == nil {
		*local = map[string]string{}
		list, _ := e.list(false)
		for _, in := range list {
			var fe *state.ForeignError
			switch {
			case in.Err == nil && in.Cluster != "":
				(*local)[in.Cluster] = in.Dir
			case errors.As(in.Err, &fe):
				// A workspace directory renamed by hand: its state names
				// the cluster, and every command refuses it until it has
				// its old name back. It owns the cluster all the same (the
				// labels name the old directory, which is gone).
				(*local)[fe.Cluster] = in.Dir
			}
		}
	}
	if dir, ok := (*local)[c.Cluster]; ok {
		return e.ownerAt(dir, c.Cluster)
	}
	return nil
}

// ownerAt says whether the workspace directory dir owns cluster. A
// directory that cannot be looked into (another user's data directory) is
// an owner whose state cannot be read: it is not known to be gone.
func (e *Env) ownerAt(dir, cluster string) *owner {
	o := &owner{dir: dir, name: filepath.Base(dir)}
	ok, err := lookWorkspaceDir(dir)
	if err != nil {
		o.err = err
		return o
	}
	// A workspace whose state is in a bucket keeps no state, journal or
	// lock here: only its backend marker (with its key and runs) says it
	// is there.
	remote, err := bucketMarked(dir)
	if err != nil {
		o.err = err
		return o
	}
	if remote {
		o.remote = true
		return o
	}
	if !ok {
		return nil
	}
	st, err := e.openLocal(dir).Load()
	if err != nil {
		o.err = err
		return o
	}
	if st.Cluster != cluster {
		return nil
	}
	o.st = st
	return o
}

// bucketMarked says whether dir holds a backend marker (its workspace's
// state is in a bucket). As for lookWorkspaceDir, only "not there"
// answers no; any other error is returned.
func bucketMarked(dir string) (bool, error) {
	_, err := os.Lstat(filepath.Join(dir, "backend"))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return false, nil
	}
	return false, err
}

// sweepOwned sweeps cluster c of workspace o if the deadline in its state
// has passed, under its lock.
func (e *Env) sweepOwned(ctx context.Context, s ClusterSweeper, c docker.ClusterMarks, o *owner, now time.Time, out io.Writer, res *SweepResult) error {
	if o.remote || o.err != nil {
		return nil // its deadline is not known here: destroy --expired decides
	}
	// The state findOwner read says whether the deadline has passed (a
	// cluster not yet expired, the common case, costs no second read);
	// it is read again under the lock before anything is removed.
	st := o.st
	if st == nil || st.Expires.IsZero() || st.Expires.After(now) {
		return nil
	}
	store := e.openLocal(o.dir, state.WithLockWait(0))
	unlock, err := store.Lock(ctx, state.CurrentHolder("diffuser sweep of expired clusters"))
	if errors.Is(err, state.ErrLocked) {
		who := "another diffuser"
		var le *state.LockedError
		if errors.As(err, &le) && le.Holder.PID != 0 {
			who = le.Holder.String()
		}
		line := fmt.Sprintf("not sweeping expired cluster %s (deadline %s) now: workspace %s is in use by %s; a later command sweeps it",
			c.Cluster, st.Expires.UTC().Format(time.RFC3339), o.name, who)
		res.Skipped = append(res.Skipped, line)
		fmt.Fprintln(out, line)
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()
	// Again under the lock: an apply may have renewed the deadline.
	if st, err = store.Load(); err != nil {
		return err
	}
	if st.Cluster != c.Cluster || st.Expires.IsZero() || st.Expires.After(now) {
		return nil
	}
	var files []string
	for _, name := range sortedHostNames(st) {
		h := st.Hosts[name]
		prov := h.Provider
		if prov == "" {
			prov = st.Provider
		}
		if lang.ProviderBase(prov) != docker.Name {
			line := fmt.Sprintf("not sweeping expired cluster %s (deadline %s): workspace %s has hosts on provider %s too; run diffuser destroy --expired -workspace %s",
				c.Cluster, st.Expires.UTC().Format(time.RFC3339), o.name, prov, o.name)
			res.Skipped = append(res.Skipped, line)
			fmt.Fprintln(out, line)
			return nil
		}
		if docker.Imported(h.Attrs) {
			// Its container carries another cluster's labels: only a destroy
			// removes it (and forgets it).
			line := fmt.Sprintf("not sweeping expired cluster %s (deadline %s): workspace %s has an imported host (%s); run diffuser destroy --expired -workspace %s",
				c.Cluster, st.Expires.UTC().Format(time.RFC3339), o.name, name, o.name)
			res.Skipped = append(res.Skipped, line)
			fmt.Fprintln(out, line)
			return nil
		}
		for _, v := range h.Volumes {
			files = append(files, v.ProviderID)
		}
		for k, v := range h.Attrs {
			if strings.HasPrefix(k, "volume.") && strings.HasSuffix(k, ".file") {
				files = append(files, v)
			}
		}
	}
	if err := s.Remove(ctx, c, files); err != nil {
		return err
	}
	sw := Swept{Cluster: c.Cluster, Deadline: st.Expires, Workspace: o.name, Dir: o.dir, Hosts: len(st.Hosts)}
	st.Hosts, st.Steps, st.Outputs, st.Expires = map[string]*state.Host{}, map[string]*state.Instance{}, nil, time.Time{}
	if err := store.Save(st); err != nil {
		return fmt.Errorf("the cluster is removed, but updating the state of workspace %s: %w", o.name, err)
	}
	res.Swept = append(res.Swept, sw)
	fmt.Fprintf(out, "swept expired cluster %s (deadline %s): its containers, network and volumes are removed; workspace %s (%s) no longer records its hosts (%d)\n",
		c.Cluster, sw.Deadline.UTC().Format(time.RFC3339), o.name, o.dir, sw.Hosts)
	return nil
}

// sweepOrphan sweeps cluster c, which no workspace owns, if every
// container's deadline label has passed.
func sweepOrphan(ctx context.Context, s ClusterSweeper, c docker.ClusterMarks, now time.Time, out io.Writer, res *SweepResult) error {
	deadline, ok := c.LabelDeadline()
	if !ok || deadline.After(now) {
		return nil
	}
	if err := s.Remove(ctx, c, nil); err != nil {
		return err
	}
	dirs := c.OwnerDirs()
	res.Swept = append(res.Swept, Swept{Cluster: c.Cluster, Deadline: deadline, Gone: strings.Join(dirs, ", ")})
	fmt.Fprintf(out, "swept expired cluster %s (deadline %s): its containers, network and volumes are removed; no workspace holds it (%s is gone)\n",
		c.Cluster, deadline.UTC().Format(time.RFC3339), strings.Join(dirs, ", "))
	return nil
}

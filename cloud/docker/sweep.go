package docker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"diffuser/cloud"
)

// Sweeping expired clusters. Docker cannot end a container at a time, so
// every diffuser command on the machine first looks for clusters past
// their deadline (workspace.Env.SweepExpired decides which). This is the
// engine's side: what the containers' labels say (Sweeper.Clusters), and
// the removal of a cluster without its provider settings
// (Sweeper.Remove), which removes what Cleanup removes.

// Marked is one container carrying diffuser's cluster label, as the sweep
// reads it. The label values are the engine's, not trusted: Deadline and
// OwnerDir say which ones are usable.
type Marked struct {
	ID, Name     string
	Group, Index string
	Expires      string            // the diffuser.expires label ("" when absent)
	WorkDir      string            // the diffuser.workdir label ("" when absent)
	Devices      map[string]string // volume name -> loop device, from diffuser.volume.* labels
}

// Deadline is the container's deadline label when it is one diffuser
// writes: RFC 3339 in UTC to the second ("2026-12-06T09:00:00Z"), years
// 2000 to 9999. Anything else (absent, garbage, another format or zone)
// is no deadline.
func (m Marked) Deadline() (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, m.Expires)
	if err != nil || t.Year() < 2000 || t.UTC().Format(time.RFC3339) != m.Expires {
		return time.Time{}, false
	}
	return t, true
}

// OwnerDir is the workdir label when it is a clean absolute path, else "".
func (m Marked) OwnerDir() string {
	d := m.WorkDir
	if d == "" || !filepath.IsAbs(d) || filepath.Clean(d) != d || strings.ContainsAny(d, "\x00\n") {
		return ""
	}
	return d
}

// ClusterMarks are the containers labelled with one cluster.
type ClusterMarks struct {
	Cluster    string
	Containers []Marked
}

// LabelDeadline is the cluster's deadline by its labels: the latest of
// its containers' (a later launch knew a later deadline), and only when
// every container carries a valid one.
func (c ClusterMarks) LabelDeadline() (time.Time, bool) {
	var latest time.Time
	for _, m := range c.Containers {
		t, ok := m.Deadline()
		if !ok {
			return time.Time{}, false
		}
		if t.After(latest) {
			latest = t
		}
	}
	return latest, len(c.Containers) > 0
}

// OwnerDirs are the distinct valid workdir labels, sorted.
func (c ClusterMarks) OwnerDirs() []string {
	var out []string
	for _, m := range c.Containers {
		if d := m.OwnerDir(); d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// AllLabelled says whether every container names the workspace that
// launched it (a valid workdir label).
func (c ClusterMarks) AllLabelled() bool {
	for _, m := range c.Containers {
		if m.OwnerDir() == "" {
			return false
		}
	}
	return len(c.Containers) > 0
}

// Sweeper lists and removes clusters on the Docker Engine of this machine.
type Sweeper struct {
	cli *client.Client
}

// NewSweeper connects to the Docker Engine (DOCKER_HOST etc. honoured); it
// fails, within ctx, when no engine answers.
func NewSweeper(ctx context.Context) (*Sweeper, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker: %w", err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		return nil, fmt.Errorf("docker: cannot reach the Docker Engine at %s: %w", cli.DaemonHost(), err)
	}
	return &Sweeper{cli: cli}, nil
}

// Close releases the engine connection.
func (s *Sweeper) Close() error { return s.cli.Close() }

// Clusters lists the containers carrying a cluster label, grouped by
// cluster and sorted. Containers without diffuser's labels are not
// listed; nor are those whose cluster label is no name the provider makes.
func (s *Sweeper) Clusters(ctx context.Context) ([]ClusterMarks, error) {
	res, err := s.cli.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: make(client.Filters).Add("label", LabelCluster)})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	by := map[string]*ClusterMarks{}
	for _, c := range res.Items {
		cl := c.Labels[LabelCluster]
		if !validName(cl) {
			continue
		}
		m := Marked{ID: c.ID, Name: strings.TrimPrefix(firstOr(c.Names, c.ID), "/"), Group: c.Labels[LabelGroup],
			Index: c.Labels[LabelIndex], Expires: c.Labels[LabelExpires], WorkDir: c.Labels[LabelWorkDir], Devices: map[string]string{}}
		for k, v := range c.Labels {
			if vol, ok := strings.CutPrefix(k, labelVolumePrefix); ok {
				m.Devices[vol] = v
			}
		}
		if by[cl] == nil {
			by[cl] = &ClusterMarks{Cluster: cl}
		}
		by[cl].Containers = append(by[cl].Containers, m)
	}
	out := make([]ClusterMarks, 0, len(by))
	for _, c := range by {
		slices.SortFunc(c.Containers, func(a, b Marked) int { return cmp.Compare(a.Name, b.Name) })
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b ClusterMarks) int { return cmp.Compare(a.Cluster, b.Cluster) })
	return out, nil
}

// Remove removes cluster c as Cleanup does: its containers (not those
// imported into another cluster), its network, and its volume files with
// their loop devices. Without provider settings, the volume directories
// are found from volumeFiles (the files state recorded), from the loop
// devices the containers' labels name (a device counts only when it is
// bound to <dir>/<cluster>/<group>-<index>-<volume>.img of that very
// container, so a forged label cannot free another device), and from the
// default <workdir>/volumes of each workdir label. A device whose file
// was deleted with its directory is detached too.
func (s *Sweeper) Remove(ctx context.Context, c ClusterMarks, volumeFiles []string) error {
	dirs := map[string]bool{}
	for _, f := range volumeFiles {
		if filepath.IsAbs(f) && strings.HasSuffix(f, ".img") && filepath.Base(filepath.Dir(f)) == c.Cluster {
			dirs[filepath.Dir(filepath.Dir(f))] = true
		}
	}
	for _, d := range c.OwnerDirs() {
		dirs[filepath.Join(d, "volumes")] = true
	}
	bound, _ := boundLoops()
	deleted := map[int]bool{} // devices whose volume file is gone
	for _, m := range c.Containers {
		for vol, dev := range m.Devices {
			n, ok := loopNumber(dev)
			if !ok {
				continue
			}
			file, gone := strings.CutSuffix(bound[n], " (deleted)")
			if !ownVolumeFile(c.Cluster, m, vol, file) {
				continue
			}
			dirs[filepath.Dir(filepath.Dir(file))] = true
			if gone {
				deleted[n] = true
			}
		}
	}
	shared, err := s.sharedNetworks(ctx)
	if err != nil {
		return err
	}
	p := &Provider{cli: s.cli, settings: Settings{Networks: shared}, env: cloud.Env{Log: func(string, ...any) {}},
		networks: map[string]string{}, plans: map[string]addressPlan{}}
	keep, err := p.cleanupEngine(ctx, c.Cluster)
	if keep == nil {
		return err
	}
	errs := []error{err}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if err := releaseClusterVolumes(c.Cluster, filepath.Join(d, c.Cluster), keep); err != nil {
			errs = append(errs, fmt.Errorf("volumes of %s in %s: %w", c.Cluster, d, err))
		}
	}
	now, _ := boundLoops()
	for n := range deleted {
		// Still bound to the deleted file it was checked against above.
		if keep[n] || now[n] != bound[n] {
			continue
		}
		if err := detachDeleted(n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ownVolumeFile says whether file is the volume file the provider made
// for volume vol of container m of cluster: <dir>/<cluster>/<group>-<index>-<vol>.img.
func ownVolumeFile(cluster string, m Marked, vol, file string) bool {
	if !filepath.IsAbs(file) || !validName(m.Group) || !validName(vol) {
		return false
	}
	if _, err := strconv.Atoi(m.Index); err != nil {
		return false
	}
	return filepath.Base(filepath.Dir(file)) == cluster && filepath.Base(file) == m.Group+"-"+m.Index+"-"+vol+".img"
}

// sharedNetworks are the engine's networks diffuser did not make (no
// cluster label): a cluster's container on one of them joined it (the
// networks setting); it was not imported there.
func (s *Sweeper) sharedNetworks(ctx context.Context) ([]string, error) {
	res, err := s.cli.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	var out []string
	for _, n := range res.Items {
		if _, ok := n.Labels[LabelCluster]; !ok {
			out = append(out, n.Name)
		}
	}
	return out, nil
}

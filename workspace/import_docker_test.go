package workspace_test

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/docker"
	"diffuser/cloud/docker/dockertest"
	"diffuser/workspace"

	"github.com/zclconf/go-cty/cty"
)

// TestImportDocker imports into a workspace the container another
// workspace launched: the container joins the new cluster's network, its
// host key is pinned, a step found done by its guard is recorded, a
// package step whose check fails is not; the next apply installs the
// package on that same container and nothing else, the plan after it
// (with refresh, which finds the container by its recorded ID although
// its labels name the other cluster) is a no-op. After StateRm in the
// source workspace, the source cluster's cleanup removes its network but
// not the container (it is the target's now), the target still plans
// nothing, and the target's destroy removes the container.
func TestImportDocker(t *testing.T) {
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	ctx := context.Background()
	suffix := randomSuffix()
	src := newDockerWS(t, filepath.Join(relDir, "tiny.hcl"), "impsrc"+suffix)
	src.mustApply(t, src.in(), "apply")
	st := src.readState(t, src.ws)
	cid := st.Hosts["node[0]"].ProviderID
	dst := &dockerWS{sysEnv: src.sysEnv, dir: src.dir, site: src.site, ws: "impdst" + suffix, recipe: filepath.Join(relDir, "import.hcl")}
	t.Cleanup(func() {
		// Before src's cleanup, and whatever the test did: the container is
		// on both clusters' networks, which cannot go while it is.
		_ = exec.Command("docker", "rm", "-f", cid).Run()
		dst.cleanup(t)
	})

	imp := func(addr, id string) (*workspace.Imported, error) {
		return dst.env.Import(ctx, workspace.ImportRequest{Inputs: dst.in(), Address: addr, ID: id})
	}
	if _, err := imp(`step.hello["server[0]"]`, ""); err == nil || !strings.Contains(err.Error(), "host server[0] is not in state: import it first") {
		t.Errorf("import of a step before its host: %v", err)
	}
	got, err := imp("server[0]", cid[:12])
	if err != nil {
		t.Fatalf("import server[0] %s: %v", cid[:12], err)
	}
	if got.Addr != "server[0]" || got.Host == nil || got.Host.ProviderID != cid || got.Host.Provider != "docker" ||
		!got.KeyPinned || !strings.HasPrefix(got.Host.SSH.HostKey, "ssh-") {
		t.Fatalf("import server[0] %s: %+v (host %+v), want machine %s (docker) with its host key pinned", cid[:12], got, got.Host, cid)
	}
	h := dst.readState(t, dst.ws).Hosts["server[0]"]
	if h.SSH.HostKey == "" || h.SSH.HostKey != st.Hosts["node[0]"].SSH.HostKey || h.Attrs["imported"] != "true" || h.PrivateIP == "" || h.PrivateIP == st.Hosts["node[0]"].PrivateIP {
		t.Errorf("imported host %+v\nsource host %+v", h, st.Hosts["node[0]"])
	}

	_, err = imp(`step.tools["server[0]"]`, "")
	var nd *workspace.NotDoneError
	if !errors.As(err, &nd) || !strings.Contains(err.Error(), "is not done on server[0]: package not installed: tree; nothing was recorded") {
		t.Errorf("import of a package not installed: %v", err)
	}
	if got, err := imp(`step.hello["server[0]"]`, ""); err != nil || got.Instance == nil || got.Instance.Host != "server[0]" {
		t.Errorf("import of a step done by the source workspace: %+v, %v", got, err)
	}
	plan := dst.changes(t, dst.in())
	if len(plan) != 1 || plan[`step.tools["server[0]"]`] == nil || plan[`step.tools["server[0]"]`].Action.String() != "create" {
		t.Errorf("plan after the imports: %v; want only step.tools created", changeLines(plan))
	}

	a := dst.mustApply(t, dst.in(), "apply")
	for _, s := range a.Res.Spans {
		if s.Addr != `step.tools["server[0]"]` {
			t.Errorf("apply after the imports did more than install tools: %s", s.Addr)
		}
	}
	if len(a.Res.Spans) != 1 {
		t.Errorf("apply after the imports ran %d instances, want 1 (tools)", len(a.Res.Spans))
	}
	if b, err := exec.Command("docker", "exec", cid, "dpkg-query", "-W", "-f=${Status}", "tree").CombinedOutput(); err != nil || !strings.Contains(string(b), "install ok installed") {
		t.Errorf("tree on the imported container: %v %s", err, b)
	}
	dst.noChanges(t, dst.in())

	// The source workspace lets go of it and is cleaned up: its network
	// goes (the container is disconnected from it), the container stays,
	// and the target still plans nothing. Destroying the target removes it.
	edit, err := src.env.StateRm(ctx, src.ws, []string{"node[0]"})
	if err != nil || len(edit.Hosts) != 1 || edit.Hosts[0].From != "node[0]" || edit.Hosts[0].To != "" {
		t.Errorf("state rm in the source workspace: %+v, %v", edit, err)
	}
	src.mustApply(t, src.in(), "destroy")
	// The cleanup a destroy of the source's last host runs: it sweeps the
	// cluster's unrecorded containers, but not one another cluster imported.
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	p, err := docker.New(cctx, cty.NullVal(cty.DynamicPseudoType), cloud.Env{WorkDir: src.env.Layout().Workspace(src.ws)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Cleanup(cctx, st.Cluster); err != nil {
		t.Errorf("cleanup of the source cluster: %v", err)
	}
	if b, err := exec.Command("docker", "inspect", "-f", "{{.State.Running}}", cid).CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "true" {
		t.Errorf("cleaning up the source cluster after state rm touched the container: %v %s", err, b)
	}
	if b, err := exec.Command("docker", "network", "ls", "-q", "--filter", "name=diffuser-"+st.Cluster).CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "" {
		t.Errorf("the source cluster's network outlived its destroy: %v %q", err, b)
	}
	dst.noChanges(t, dst.in())
	dst.mustApply(t, dst.in(), "destroy")
	if b, err := exec.Command("docker", "inspect", "-f", "{{.Id}}", cid).CombinedOutput(); err == nil {
		t.Errorf("the imported container outlived destroy: %s", b)
	}
}

// TestStateMvDocker renames a docker host and its step in state after the
// recipe renamed them: the refreshed plan is a no-op (docker finds the
// container by its recorded ID although its name and labels say node-0),
// and destroy under the new name removes that container.
func TestStateMvDocker(t *testing.T) {
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	ctx := context.Background()
	w := newDockerWS(t, filepath.Join(relDir, "tiny.hcl"), "mv"+randomSuffix())
	w.mustApply(t, w.in(), "apply")
	cid := w.readState(t, w.ws).Hosts["node[0]"].ProviderID
	renamed := &dockerWS{sysEnv: w.sysEnv, dir: w.dir, site: w.site, ws: w.ws, recipe: filepath.Join(relDir, "tiny_renamed.hcl")}
	if _, err := w.env.StateMv(ctx, w.ws, "step.hello", "step.greeting"); err != nil {
		t.Fatalf("state mv step.hello step.greeting: %v", err)
	}
	if _, err := w.env.StateMv(ctx, w.ws, "node[0]", "box[0]"); err != nil {
		t.Fatalf("state mv node[0] box[0]: %v", err)
	}
	renamed.noChanges(t, renamed.in())
	if h := w.readState(t, w.ws).Hosts["box[0]"]; h == nil || h.ProviderID != cid {
		t.Fatalf("box[0] after the move: %+v, want container %s", h, cid)
	}
	renamed.mustApply(t, renamed.in(), "destroy")
	if b, err := exec.Command("docker", "inspect", "-f", "{{.Id}}", cid).CombinedOutput(); err == nil {
		t.Errorf("the moved container outlived destroy: %s", b)
	}
}

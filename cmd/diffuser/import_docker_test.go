package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/docker"
	"diffuser/cloud/docker/dockertest"

	"github.com/zclconf/go-cty/cty"
)

// TestImportDocker imports into a workspace the container another
// workspace launched: the container joins the new cluster's network, its
// host key is pinned, a step found done by its guard is recorded, a
// package step whose check fails is not; the next apply installs the
// package on that same container and nothing else, the plan after it
// (with refresh, which finds the container by its recorded ID although
// its labels name the other cluster) is a no-op. After state rm in the
// source workspace, the source cluster's cleanup removes its network but
// not the container (it is the target's now), the target still plans
// nothing, and the target's destroy removes the container.
func TestImportDocker(t *testing.T) {
	needContainers(t)
	dockertest.Serialize(t)
	suffix := randHex(3)
	src := newDockerWorkspace(t, filepath.Join(relDir, "tiny.hcl"), "impsrc"+suffix)
	src.apply(t)
	st := loadState(t, src.data, src.ws)
	cid := st.Hosts["node[0]"].ProviderID
	dst := &dockerWorkspace{cliEnv: src.cliEnv, dir: src.dir, site: src.site, ws: "impdst" + suffix, recipe: filepath.Join(relDir, "import.hcl")}
	t.Cleanup(func() {
		// Before src's cleanup, and whatever the test did: the container is
		// on both clusters' networks, which cannot go while it is.
		_ = exec.Command("docker", "rm", "-f", cid).Run()
		dst.cleanup(t)
	})

	imp := func(addr string, id ...string) (int, string, string) {
		return dst.run(t, "", append(append([]string{"import", dst.recipe, addr}, id...), "--site", dst.site, "--workspace", dst.ws)...)
	}
	if code, _, errs := imp(`step.hello["server[0]"]`); code != exitError || !strings.Contains(errs, "host server[0] is not in state: import it first") {
		t.Errorf("import of a step before its host: exit %d\n%s", code, errs)
	}
	code, out, errs := imp("server[0]", cid[:12])
	if code != 0 || !strings.Contains(out, "Imported server[0]: machine "+cid+" (docker)") || !strings.Contains(out, "Pinned its SSH host key: ssh-") {
		t.Fatalf("import server[0] %s: exit %d\n%s%s", cid[:12], code, out, errs)
	}
	h := loadState(t, dst.data, dst.ws).Hosts["server[0]"]
	if h.SSH.HostKey == "" || h.SSH.HostKey != st.Hosts["node[0]"].SSH.HostKey || h.Attrs["imported"] != "true" || h.PrivateIP == "" || h.PrivateIP == st.Hosts["node[0]"].PrivateIP {
		t.Errorf("imported host %+v\nsource host %+v", h, st.Hosts["node[0]"])
	}

	code, _, errs = imp(`step.tools["server[0]"]`)
	if code != exitError || !strings.Contains(errs, "is not done on server[0]: package not installed: tree; nothing was recorded") {
		t.Errorf("import of a package not installed: exit %d\n%s", code, errs)
	}
	if code, out, errs := imp(`step.hello["server[0]"]`); code != 0 || !strings.Contains(out, `Imported step.hello["server[0]"]: its check holds on server[0]`) {
		t.Errorf("import of a step done by the source workspace: exit %d\n%s%s", code, out, errs)
	}
	plan := dst.planJSON(t, dst.args()...)
	if len(plan) != 1 || plan[`step.tools["server[0]"]`].Action != "create" {
		t.Errorf("plan after the imports: %+v; want only step.tools created", plan)
	}

	out = dst.apply(t)
	if !strings.Contains(out, `step.tools["server[0]"]`) || strings.Contains(out, "launch[") || strings.Contains(out, `step.hello["server[0]"]`) {
		t.Errorf("apply after the imports did more than install tools:\n%s", out)
	}
	if b, err := exec.Command("docker", "exec", cid, "dpkg-query", "-W", "-f=${Status}", "tree").CombinedOutput(); err != nil || !strings.Contains(string(b), "install ok installed") {
		t.Errorf("tree on the imported container: %v %s", err, b)
	}
	dst.noChanges(t, dst.args()...)

	// The source workspace lets go of it and is cleaned up: its network
	// goes (the container is disconnected from it), the container stays,
	// and the target still plans nothing. Destroying the target removes it.
	if out := src.must(t, "state", "rm", src.ws, "node[0]"); !strings.Contains(out, "Removed node[0]") {
		t.Errorf("state rm in the source workspace:\n%s", out)
	}
	src.must(t, append([]string{"destroy", "-auto-approve", "--progress", "plain"}, src.args()...)...)
	// The cleanup a destroy of the source's last host runs: it sweeps the
	// cluster's unrecorded containers, but not one another cluster imported.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := docker.New(ctx, cty.NullVal(cty.DynamicPseudoType), cloud.Env{WorkDir: filepath.Join(src.data, src.ws)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Cleanup(ctx, st.Cluster); err != nil {
		t.Errorf("cleanup of the source cluster: %v", err)
	}
	if b, err := exec.Command("docker", "inspect", "-f", "{{.State.Running}}", cid).CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "true" {
		t.Errorf("cleaning up the source cluster after state rm touched the container: %v %s", err, b)
	}
	if b, err := exec.Command("docker", "network", "ls", "-q", "--filter", "name=diffuser-"+st.Cluster).CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "" {
		t.Errorf("the source cluster's network outlived its destroy: %v %q", err, b)
	}
	dst.noChanges(t, dst.args()...)
	dst.must(t, append([]string{"destroy", "-auto-approve", "--progress", "plain"}, dst.args()...)...)
	if b, err := exec.Command("docker", "inspect", "-f", "{{.Id}}", cid).CombinedOutput(); err == nil {
		t.Errorf("the imported container outlived destroy: %s", b)
	}
}

// TestStateMvDocker renames a docker host and its step in state after the
// recipe renamed them: the refreshed plan is a no-op (docker finds the
// container by its recorded ID although its name and labels say node-0),
// and destroy under the new name removes that container.
func TestStateMvDocker(t *testing.T) {
	needContainers(t)
	dockertest.Serialize(t)
	w := newDockerWorkspace(t, filepath.Join(relDir, "tiny.hcl"), "mv"+randHex(3))
	w.apply(t)
	cid := loadState(t, w.data, w.ws).Hosts["node[0]"].ProviderID
	renamed := &dockerWorkspace{cliEnv: w.cliEnv, dir: w.dir, site: w.site, ws: w.ws, recipe: filepath.Join(relDir, "tiny_renamed.hcl")}
	w.must(t, "state", "mv", w.ws, "step.hello", "step.greeting")
	w.must(t, "state", "mv", w.ws, "node[0]", "box[0]")
	renamed.noChanges(t, renamed.args()...)
	if h := loadState(t, w.data, w.ws).Hosts["box[0]"]; h == nil || h.ProviderID != cid {
		t.Fatalf("box[0] after the move: %+v, want container %s", h, cid)
	}
	renamed.must(t, append([]string{"destroy", "-auto-approve", "--progress", "plain"}, renamed.args()...)...)
	if b, err := exec.Command("docker", "inspect", "-f", "{{.Id}}", cid).CombinedOutput(); err == nil {
		t.Errorf("the moved container outlived destroy: %s", b)
	}
}

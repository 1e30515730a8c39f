//go:build reliability

package main

import (
	"diffuser/cloud/docker/dockertest"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The slow half of the reliability suite (make reliability, -tags
// reliability): twenty SIGKILLs of a real deploy, and a GlusterFS server
// lost in the middle of its deploy.

// TestReliabilityCrash SIGKILLs `diffuser apply` at 20 random moments of
// real local deploys (3 containers, 12 quick steps each; a new deploy
// after each one converges) and prints how many kills landed, how many
// deploys converged and how many recorded steps ran again (must be 0).
func TestReliabilityCrash(t *testing.T) {
	needContainers(t)
	dockertest.Serialize(t)
	start := time.Now()
	res := crashLoop(t, 20)
	fmt.Printf("RELIABILITY crash safety: %s, in %s\n", res, time.Since(start).Round(time.Second))
	if res.dups > 0 {
		t.Errorf("%d duplicate runs", res.dups)
	}
	if res.converged != res.deploys {
		t.Errorf("%d of %d deploys converged", res.converged, res.deploys)
	}
}

// TestReliabilityHostLossGlusterfs stops a GlusterFS server's container
// once a few of its steps have run: the apply fails naming it, the other
// hosts' independent steps finish, and the next apply starts the server
// again, converges, and verify (write on one client, read on the other,
// with a server stopped) passes.
func TestReliabilityHostLossGlusterfs(t *testing.T) {
	needContainers(t)
	dockertest.Serialize(t)
	bin := buildDiffuser(t)
	w := newDockerWorkspace(t, "glusterfs", "gluster-loss")
	vars := []string{"--var", "servers=2", "--var", "replica=2", "--var", "clients=1"}
	out := filepath.Join(w.dir, "apply1.out")
	start := time.Now()
	p := startDiffuser(t, bin, w.data, out, append([]string{"apply", "-auto-approve", "--progress", "plain"}, w.args(vars...)...)...)
	// The third step of server[1] to start, whatever the recipe calls it.
	started := regexp.MustCompile(`(?m) server\[1\] (\S+): started$`)
	deadline := time.Now().Add(15 * time.Minute)
	for {
		b, _ := os.ReadFile(out)
		n := 0
		for _, m := range started.FindAllStringSubmatch(string(b), -1) {
			if m[1] != "launch" {
				n++
			}
		}
		if n >= 3 {
			break
		}
		select {
		case <-p.done:
			t.Fatalf("apply ended before server[1] ran three steps:\n%s", b)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server[1] did not get to its third step in 15 minutes")
		}
	}
	st := loadState(t, w.data, w.ws)
	victim := st.Hosts["server[1]"].ProviderID
	if b, err := exec.Command("docker", "stop", "-t", "20", victim).CombinedOutput(); err != nil {
		t.Fatalf("docker stop: %v\n%s", err, b)
	}
	code := p.wait(20 * time.Minute)
	text := readFile(t, out)
	if code != exitError || !strings.Contains(text, "on host server[1]") {
		t.Fatalf("apply with server[1] stopped: exit %d, want 1 naming server[1]\n%s", code, text)
	}
	st = loadState(t, w.data, w.ws)
	finished := 0
	for _, i := range st.Steps {
		if i.Host != "server[1]" && i.Status == "applied" {
			finished++
		}
	}
	t.Logf("server[1] lost after %s; %d instances on other hosts finished; the summary:\n%s",
		time.Since(start).Round(time.Second), finished, text[strings.Index(text, "step instance(s) failed"):])
	if finished == 0 {
		t.Errorf("nothing finished on the other hosts")
	}
	w.apply(t, vars...)
	if out := w.must(t, append([]string{"verify"}, w.args(vars...)...)...); !strings.Contains(out, "checks passed") {
		t.Errorf("verify:\n%s", out)
	}
	w.noChanges(t, w.args(vars...)...)
	checkOneContainerPerHost(t, w.clusterPrefix())
	fmt.Printf("RELIABILITY host loss (glusterfs, 2 servers, 1 client): server[1] stopped mid-deploy, re-apply converged and verify passed in %s\n",
		time.Since(start).Round(time.Second))
}

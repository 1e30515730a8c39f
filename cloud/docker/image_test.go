package docker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
)

// TestDockerfileBuild exercises the Dockerfile path. No registry is
// reachable here, so the base image is the debootstrap-built node image
// (what newTestEnv ensures); the build still runs apt-get against the
// mirror, writes the node files and setup.sh, and the result must boot
// and accept SSH like the debootstrap image.
func TestDockerfileBuild(t *testing.T) {
	base := newTestEnv(t, nil)
	baseTag, err := base.p.EnsureImage(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEnvNoImage(t, map[string]cty.Value{
		"build":      cty.StringVal(BuildDockerfile),
		"base_image": cty.StringVal(baseTag),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	plan, err := e.p.PlanImage(ctx, e.p.Settings())
	if err != nil {
		t.Fatal(err)
	}
	if plan.Method != BuildDockerfile || plan.Tag == baseTag || !strings.HasPrefix(plan.Tag, ImageRepo+":") {
		t.Fatalf("plan = %+v", plan)
	}
	t.Cleanup(func() {
		// Only the image this test built; containers of it are gone by now.
		if _, err := e.p.cli.ImageRemove(context.Background(), plan.Tag, client.ImageRemoveOptions{PruneChildren: true}); err != nil {
			t.Logf("remove test image %s: %v", plan.Tag, err)
		}
	})
	var out strings.Builder
	tag, err := e.p.BuildImage(ctx, &out)
	if err != nil {
		t.Fatalf("dockerfile build: %v\n%s", err, out.String())
	}
	if tag != plan.Tag {
		t.Errorf("built %s, planned %s", tag, plan.Tag)
	}
	if !strings.Contains(out.String(), "Step 1/") {
		t.Errorf("no build progress was written:\n%s", out.String())
	}
	img, err := e.p.cli.ImageInspect(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	if img.Config == nil || img.Config.Labels[labelImageBuild] != BuildDockerfile || img.Config.Labels[labelImageInputs] != plan.Inputs {
		t.Errorf("image labels = %v", img.Config)
	}

	spec := e.spec("node", 0)
	t.Cleanup(func() { e.destroyAll(t, []cloud.HostSpec{spec}, nil) })
	h, err := e.p.Launch(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if h.Attrs["image"] != tag {
		t.Errorf("host runs image %s, want %s", h.Attrs["image"], tag)
	}
	c, err := e.dialSSH(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	defer c.c.Close()
	if st := waitSystemRunning(t, c); st != "running" && st != "degraded" {
		t.Errorf("systemctl is-system-running = %q", st)
	}
}

// TestGivenImage: with settings.image the provider builds nothing; an
// image that is neither present nor pullable is a clear error.
func TestGivenImage(t *testing.T) {
	base := newTestEnv(t, nil)
	tag, err := base.p.EnsureImage(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	e := newTestEnvNoImage(t, map[string]cty.Value{"image": cty.StringVal(tag)})
	var out strings.Builder
	got, err := e.p.EnsureImage(ctx, &out)
	if err != nil || got != tag || out.Len() != 0 {
		t.Errorf("EnsureImage with image = %s: %s, %v, output %q", tag, got, err, out.String())
	}

	missing := newTestEnvNoImage(t, map[string]cty.Value{"image": cty.StringVal("diffuser-test-missing:none")})
	_, err = missing.p.EnsureImage(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "could not be pulled") {
		t.Errorf("missing image: error %v, want one saying it could not be pulled", err)
	}
	_, err = missing.p.Launch(ctx, missing.spec("node", 0))
	if err == nil {
		t.Error("Launch with a missing image succeeded")
	}
	if got := clusterContainers(t, missing); len(got) != 0 {
		t.Errorf("a failed Launch left containers: %v", got)
	}
}

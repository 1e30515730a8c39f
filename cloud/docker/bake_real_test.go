package docker

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
)

// TestBakedImage: packages = ["jq"] makes hosts run an image derived from
// the node image with jq installed (its services left as the package has
// them, no build leftovers), built once: of two providers asking at once
// (two applies) one builds and the other waits for it, and a third finds
// it and builds nothing. The node image's dpkg
// configuration keeps copyright files and drops manual pages.
func TestBakedImage(t *testing.T) {
	needDocker(t)
	// The machine's real-deployment lock (dockertest.Serialize, which
	// this package cannot import).
	unlock, err := lockFile(t.Context(), "diffuser-dockertest.lock", func(path string) { t.Logf("waiting for %s", path) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	settings := map[string]cty.Value{"packages": cty.ListVal([]cty.Value{cty.StringVal("jq")})}
	e := newTestEnvNoImage(t, settings)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	base, err := e.p.ensureBase(ctx, e.p.Settings(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	img, err := e.p.cli.ImageInspect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	want := bakedTag(e.p.Settings().Suite, bakeInputs(img.ID, e.p.Settings()))
	if _, err := e.p.cli.ImageInspect(ctx, want); err == nil {
		t.Logf("%s exists already (a run that did not clean up): removing it to see it built", want)
		if _, err := e.p.cli.ImageRemove(ctx, want, client.ImageRemoveOptions{PruneChildren: true}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		// Only the image this test built; its containers are gone by now.
		if _, err := e.p.cli.ImageRemove(context.Background(), want, client.ImageRemoveOptions{PruneChildren: true}); err != nil {
			t.Errorf("remove test image %s: %v", want, err)
		}
	})

	// Two providers (two applies starting together) ask for it at once:
	// one builds, the other waits for the node image lock and finds it.
	other := newTestEnvNoImage(t, settings)
	var outs [2]strings.Builder
	var tags [2]string
	var errs [2]error
	start := time.Now()
	var wg sync.WaitGroup
	for i, p := range []*Provider{e.p, other.p} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tags[i], errs[i] = p.EnsureImage(ctx, &outs[i])
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("derived build %d: %v\n%s", i, errs[i], outs[i].String())
		}
	}
	t.Logf("derived image %s built in %s", tags[0], time.Since(start).Round(time.Millisecond))
	builds := 0
	for i := range 2 {
		if tags[i] != want {
			t.Errorf("provider %d: %s, want %s", i, tags[i], want)
		}
		if o := outs[i].String(); strings.Contains(o, "Step 1/") && strings.Contains(o, "jq") {
			builds++
		} else if !strings.Contains(o, "waiting for another process") {
			t.Errorf("provider %d neither built nor waited:\n%s", i, o)
		}
	}
	if builds != 1 {
		t.Errorf("%d builds of %s, want 1:\n%s\n---\n%s", builds, want, outs[0].String(), outs[1].String())
	}
	tag := tags[0]
	built, err := e.p.cli.ImageInspect(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	if l := built.Config.Labels; l[labelImageBuild] != BuildPackages || l[labelImagePackages] != "jq" {
		t.Errorf("labels %v", l)
	}

	// A second provider with the same settings (another process, another
	// apply) reuses the image.
	again := newTestEnvNoImage(t, map[string]cty.Value{"packages": cty.ListVal([]cty.Value{cty.StringVal("jq"), cty.StringVal("jq")})})
	var out2 strings.Builder
	tag2, err := again.p.EnsureImage(ctx, &out2)
	if err != nil || tag2 != tag || out2.Len() != 0 {
		t.Errorf("second EnsureImage: %s, %v, output %q; want %s reused silently", tag2, err, out2.String(), tag)
	}
	if img2, err := again.p.cli.ImageInspect(ctx, tag); err != nil || img2.ID != built.ID {
		t.Errorf("the image changed: %s, was %s (%v)", img2.ID, built.ID, err)
	}

	spec := e.spec("node", 0)
	var hosts []cloud.Host
	t.Cleanup(func() { e.destroyAll(t, []cloud.HostSpec{spec}, hosts) })
	h, err := e.p.Launch(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	hosts = append(hosts, h)
	if h.Attrs["image"] != tag {
		t.Errorf("host runs %s, want %s", h.Attrs["image"], tag)
	}
	c, err := e.dialSSH(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	defer c.c.Close()
	if st := waitSystemRunning(t, c); st != "running" && st != "degraded" {
		t.Errorf("systemctl is-system-running = %q", st)
	}
	for cmd, want := range map[string]string{
		"dpkg-query -W -f='${Status}' jq": "install ok installed",
		"jq -n 1+1":                       "2",
		"ls /var/lib/apt/lists | grep -c Packages || true":               "0",
		"ls /diffuser-bake.sh /usr/sbin/policy-rc.d 2>/dev/null | wc -l": "0",
		"test -s /etc/machine-id && echo fresh":                          "fresh", // made at boot
		"test -e /usr/share/doc/jq/copyright && echo kept":               "kept",
		"ls /usr/share/man/man1/jq.1.gz 2>/dev/null | wc -l":             "0",
		"grep -c force-unsafe-io /etc/dpkg/dpkg.cfg.d/diffuser":          "1",
		"ls /etc/ssh/ssh_host_*_key.pub | wc -l":                         "1", // the host's own, made at boot
		"systemctl is-enabled ssh":                                       "enabled",
	} {
		got, err := c.run(cmd)
		if err != nil {
			t.Errorf("%s: %v", cmd, err)
			continue
		}
		if want != "" && got != want {
			t.Errorf("%s = %q, want %q", cmd, got, want)
		}
	}
}

package docker

import (
	"os"
	"testing"
	"time"
	"context"
	"fmt"
	"sync"
	"diffuser/cloud"

	"github.com/zclconf/go-cty/cty"
)

func TestExpBench(t *testing.T) {
	var s map[string]cty.Value
	if img := os.Getenv("EXP_IMAGE"); img != "" {
		s = map[string]cty.Value{"image": cty.StringVal(img)}
	}
	e := newTestEnv(t, s)
	e.p.env.Log = func(string, ...any) {}
	b := &testing.B{}
	_ = b
	for _, n := range []int{1, 16} {
		d := launchReadyT(t, e, e.cluster+"x"+string(rune('a'+n)), n)
		t.Logf("%d hosts: %s", n, d.Round(time.Millisecond))
	}
}
func launchReadyT(b *testing.T, e *testEnv, cluster string, n int) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	specs := make([]cloud.HostSpec, n)
	hosts := make([]cloud.Host, n)
	for i := range specs {
		specs[i] = cloud.HostSpec{Cluster: cluster, Group: "node", Index: i, Count: n,
			Name: fmt.Sprintf("node[%d]", i), Hostname: fmt.Sprintf("node-%d", i),
			Volumes: []cloud.VolumeSpec{{Name: "data", SizeGB: 1}}}
	}
	teardown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		for i := range specs {
			if err := e.p.Destroy(ctx, specs[i], hosts[i]); err != nil {
				b.Errorf("destroy %s: %v", specs[i].Name, err)
			}
		}
		if err := e.p.Cleanup(ctx, cluster); err != nil {
			b.Errorf("cleanup %s: %v", cluster, err)
		}
	}
	b.Cleanup(teardown) // a no-op the second time; covers Fatal below

	
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range specs {
		wg.Go(func() {
			h, err := e.p.Launch(ctx, specs[i])
			if err != nil {
				errs[i] = err
				return
			}
			hosts[i] = h
			c, err := e.dialSSH(ctx, h)
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = c.run("true")
			c.c.Close()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	
	for i, err := range errs {
		if err != nil {
			b.Fatalf("%s: %v", specs[i].Name, err)
		}
	}
	teardown()
	return elapsed
}

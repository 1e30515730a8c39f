package docker

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"diffuser/cloud"
)

// BenchmarkLaunch measures the time from the first Launch call to every
// host accepting SSH (with the test key), for 1, 4 and 16 hosts launched in
// parallel with one 1 GB volume each, the node image already built. It
// prints each duration and the 16/1 ratio (target <= 2). Every iteration
// uses a fresh cluster and destroys it outside the timed part.
//
//	go test -run '^$' -bench BenchmarkLaunch -benchtime 1x ./cloud/docker
func BenchmarkLaunch(b *testing.B) {
	e := newTestEnv(b, nil)
	e.p.env.Log = func(string, ...any) {} // a line per host per step drowns the result
	sizes := []int{1, 4, 16}
	per := map[int]time.Duration{}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			b.StopTimer() // only launch-to-ready is timed, not teardown
			var total time.Duration
			for i := 0; i < b.N; i++ {
				total += launchReady(b, e, fmt.Sprintf("%s-%d-%d", e.cluster, n, i), n)
			}
			per[n] = total / time.Duration(b.N)
			b.ReportMetric(per[n].Seconds(), "s/ready")
		})
	}
	for _, n := range sizes {
		if d, ok := per[n]; ok {
			b.Logf("%2d hosts SSH-ready in %s", n, d.Round(time.Millisecond))
		}
	}
	if per[1] > 0 && per[16] > 0 {
		ratio := per[16].Seconds() / per[1].Seconds()
		b.Logf("16/1 ratio: %.2f (target <= 2)", ratio)
	}
}

// launchReady launches n hosts of cluster in parallel, waits for SSH on all
// of them, returns the elapsed time, then destroys them (not timed).
func launchReady(b *testing.B, e *testEnv, cluster string, n int) time.Duration {
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

	b.StartTimer()
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
	b.StopTimer()
	for i, err := range errs {
		if err != nil {
			b.Fatalf("%s: %v", specs[i].Name, err)
		}
	}
	teardown()
	return elapsed
}

// BenchmarkEngineFloor is the reference for BenchmarkLaunch: how long the
// engine alone takes to create and start 1 and 16 containers of the node
// image running `sleep` (no systemd, no volumes, no SSH) in parallel on a
// cluster network. Launch cannot scale better than this.
//
//	go test -run '^$' -bench 'BenchmarkEngineFloor' -benchtime 1x ./cloud/docker
func BenchmarkEngineFloor(b *testing.B) {
	e := newTestEnv(b, nil)
	e.p.env.Log = func(string, ...any) {}
	image, err := e.p.EnsureImage(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	per := map[int]time.Duration{}
	for _, n := range []int{1, 16} {
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			b.StopTimer()
			var total time.Duration
			for i := 0; i < b.N; i++ {
				total += startBare(b, e, image, fmt.Sprintf("%s-f%d-%d", e.cluster, n, i), n)
			}
			per[n] = total / time.Duration(b.N)
			b.ReportMetric(per[n].Seconds(), "s/started")
		})
	}
	if per[1] > 0 && per[16] > 0 {
		b.Logf("engine floor: 1 container %s, 16 containers %s, ratio %.2f",
			per[1].Round(time.Millisecond), per[16].Round(time.Millisecond), per[16].Seconds()/per[1].Seconds())
	}
}

// startBare creates and starts n sleeping containers of cluster in
// parallel, returns the time that took, and removes them and the network.
func startBare(b *testing.B, e *testEnv, image, cluster string, n int) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	netID, err := e.p.ensureNetwork(ctx, cluster)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := e.p.Cleanup(context.Background(), cluster); err != nil {
			b.Errorf("cleanup %s: %v", cluster, err)
		}
	})
	b.StartTimer()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			res, err := e.p.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
				Name:   fmt.Sprintf("diffuser-%s-bare-%d", cluster, i),
				Config: &container.Config{Image: image, Cmd: []string{"sleep", "600"}, Labels: map[string]string{LabelCluster: cluster}},
				NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
					netID: {},
				}},
			})
			if err == nil {
				_, err = e.p.cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{})
			}
			errs[i] = err
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := e.p.Cleanup(ctx, cluster); err != nil {
		b.Fatal(err)
	}
	return elapsed
}

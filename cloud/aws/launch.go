package aws

import (
	"context"
	"fmt"
	"time"

	"diffuser/cloud"
)

// How Launch works
//
// The engine calls Launch once per host, concurrently. The first call for a
// host group starts a group launch in its own goroutine; calls arriving
// while it runs join it. A group launch
//
//  1. makes sure the cluster's security group and key pair exist,
//  2. resolves the image (and the instance type, for arch and Nitro),
//  3. adopts what exists: DescribeInstances filtered by diffuser:cluster,
//     diffuser:group and a live state; each instance's host index is read
//     from its tags (see instanceIndex); stopped ones are started,
//  4. launches every missing index of [0, Count) with ONE RunInstances per
//     group (MinCount = MaxCount = missing), whose ClientToken is derived
//     from cluster, group, generation and the missing indexes, so a retry
//     or a re-run after a crash gets the same reservation back instead of
//     new instances,
//  5. waits with ec2.NewInstanceRunningWaiter (one poll per group, not per
//     host); an instance that died while pending is relaunched under the
//     next generation, up to maxRounds times.
//
// Its results are parked per index; each Launch call takes its own. API
// calls thus grow with host groups and waiter polls, not with hosts.
//
// A launch cannot tag instances one by one without one CreateTags call per
// instance, so every instance of a reservation carries the same tags:
// diffuser:indexes lists the host indexes launched ("0-499" or "3,7-9") and
// an instance's index is the entry at its AmiLaunchIndex. A single-instance
// launch also gets diffuser:index and a per-host Name.

// maxRounds bounds relaunches of instances that die while pending.
const maxRounds = 3

// maxGenerations bounds how far a launch walks past client tokens whose
// instances already terminated.
const maxGenerations = 32

// groupState is the coalescing state of one host group. Guarded by Provider.mu.
type groupState struct {
	inflight *groupOp
	ready    map[int]readyHost
}

type readyHost struct {
	host cloud.Host
	at   time.Time
}

// groupOp is one group launch. err is written before done is closed.
type groupOp struct {
	done    chan struct{}
	err     error
	waiters int
	cancel  context.CancelFunc
}

// Launch returns the running host for spec, launching or adopting its whole
// group on the first call (see "How Launch works" above).
func (p *Provider) Launch(ctx context.Context, spec cloud.HostSpec) (cloud.Host, error) {
	if spec.Cluster == "" || spec.Group == "" || spec.Index < 0 || spec.Index >= spec.Count {
		return cloud.Host{}, fmt.Errorf("launch %q: bad host identity (cluster %q, group %q, index %d of %d)", spec.Name, spec.Cluster, spec.Group, spec.Index, spec.Count)
	}
	if len(spec.Volumes) > maxVolumes {
		return cloud.Host{}, fmt.Errorf("launch %s: %d volumes, at most %d fit in /dev/sdf../dev/sdp", spec.Name, len(spec.Volumes), maxVolumes)
	}
	hc, err := p.hostConfig(spec)
	if err != nil {
		return cloud.Host{}, fmt.Errorf("launch %s: %w", spec.Name, err)
	}
	key := spec.Cluster + "\x00" + spec.Group
	for range 2 {
		p.mu.Lock()
		g := p.groups[key]
		if g == nil {
			g = &groupState{ready: map[int]readyHost{}}
			p.groups[key] = g
		}
		if h, ok := g.take(spec.Index); ok {
			p.mu.Unlock()
			return h, nil
		}
		op := g.inflight
		if op == nil {
			op = p.startGroupOp(ctx, g, spec, hc)
		}
		op.waiters++
		p.mu.Unlock()

		select {
		case <-op.done:
		case <-ctx.Done():
			p.mu.Lock()
			op.waiters--
			if op.waiters == 0 {
				op.cancel()
			}
			p.mu.Unlock()
			return cloud.Host{}, fmt.Errorf("launch %s: %w", spec.Name, ctx.Err())
		}
		p.mu.Lock()
		op.waiters--
		h, ok := g.take(spec.Index)
		p.mu.Unlock()
		if ok {
			return h, nil
		}
		if op.err != nil {
			return cloud.Host{}, fmt.Errorf("launch %s in cluster %s: %w", spec.Name, spec.Cluster, op.err)
		}
		// The group launch did not cover this index (another Count): go again.
	}
	return cloud.Host{}, fmt.Errorf("launch %s in cluster %s: the group launch produced no host %d", spec.Name, spec.Cluster, spec.Index)
}

// take removes and returns the parked host for index. Caller holds p.mu.
func (g *groupState) take(index int) (cloud.Host, bool) {
	r, ok := g.ready[index]
	if !ok {
		return cloud.Host{}, false
	}
	delete(g.ready, index)
	if time.Since(r.at) > readyTTL {
		return cloud.Host{}, false
	}
	return r.host, true
}

// startGroupOp starts a group launch detached from ctx; it is cancelled
// only when every caller waiting on it has gone. Caller holds p.mu.
func (p *Provider) startGroupOp(ctx context.Context, g *groupState, spec cloud.HostSpec, hc hostConfig) *groupOp {
	opCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	op := &groupOp{done: make(chan struct{}), cancel: cancel}
	g.inflight = op
	go func() {
		defer cancel()
		hosts, err := p.launchGroup(opCtx, spec, hc)
		p.mu.Lock()
		now := time.Now()
		for i, r := range g.ready {
			if now.Sub(r.at) > readyTTL {
				delete(g.ready, i)
			}
		}
		for i, h := range hosts {
			g.ready[i] = readyHost{h, now}
		}
		op.err = err
		g.inflight = nil
		p.mu.Unlock()
		close(op.done)
	}()
	return op
}

// forgetReady drops a parked host, so a later Launch looks again.
func (p *Provider) forgetReady(spec cloud.HostSpec) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if g := p.groups[spec.Cluster+"\x00"+spec.Group]; g != nil {
		delete(g.ready, spec.Index)
	}
}

package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/runner"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

const goneRecipe = `
recipe "t" {}
hosts "a" {}
hosts "b" {}
step "s1" {
  on      = [hosts.a[0], hosts.b[0]]
  run     = "echo s1"
  destroy = "echo undo-s1 on ${host.name}"
}
step "s2" {
  on      = [hosts.a[0], hosts.b[0]]
  run     = "echo s2"
  destroy = "echo undo-s2 on ${host.name}"
  after   = [step.s1]
}
step "s3" {
  on      = [hosts.a[0], hosts.b[0]]
  run     = "echo s3"
  destroy = "echo undo-s3 on ${host.name}"
  after   = [step.s2]
}
`

// dialCounter is the simulated cloud's connector that counts the
// connections asked for, by host name, and refuses those to the hosts
// in down (a machine that exists but does not answer).
type dialCounter struct {
	engine.Connector
	mu    sync.Mutex
	dials map[string]int
	down  map[string]bool
}

func (d *dialCounter) Runner(ctx context.Context, h state.Host, onHostKey func(int, string) error) (runner.Runner, error) {
	d.mu.Lock()
	d.dials[h.Name]++
	down := d.down[h.Name]
	d.mu.Unlock()
	if down {
		return nil, errors.New("dial tcp: i/o timeout (gave up after 25 attempts in 2m59s)")
	}
	return d.Connector.Runner(ctx, h, onHostKey)
}

func goneWorld(t *testing.T) (*world, *dialCounter, cloud.Provider) {
	t.Helper()
	w := newWorld(t, goneRecipe)
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("apply: %v", res.Failures)
	}
	prov, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	return w, &dialCounter{Connector: w.cloud.Connector(), dials: map[string]int{}, down: map[string]bool{}}, prov
}

func countWarnings(res *engine.Result, substr string) int {
	n := 0
	for _, w := range res.Warnings {
		if strings.Contains(w, substr) {
			n++
		}
	}
	return n
}

// TestDestroyGoneHost: a destroy of a cluster one of whose machines was
// removed behind diffuser's back (docker rm -f) does not connect to it:
// refresh found it gone, so its instances have nothing to undo and are
// forgotten with a warning naming the host (connecting would retry a
// machine that does not exist for minutes, once per instance). The
// instances of the host that still exists are undone as ever, and both
// hosts leave state.
func TestDestroyGoneHost(t *testing.T) {
	w, conn, prov := goneWorld(t)
	w.cloud.Remove("test", "a[0]")
	p := w.plan(w.refresh, func(o *engine.PlanOptions) { o.Destroy = true })
	gone := 0
	for _, c := range p.Destroys {
		if c.HostGone {
			gone++
			if c.Host != "a[0]" || c.Kind == "launch" {
				t.Errorf("plan says %s (host %s) is on a gone host", c.Addr, c.Host)
			}
		}
	}
	if gone != 3 {
		t.Errorf("plan marks %d destroys as on a gone host, want a[0]'s 3 instances", gone)
	}
	res := w.applyVia(p, 4, prov, conn)
	if len(res.Failures) != 0 {
		t.Fatalf("destroy failed: %v", res.Failures)
	}
	if conn.dials["a[0]"] != 0 {
		t.Errorf("connected to the gone host a[0] %d times, want none", conn.dials["a[0]"])
	}
	if n := countWarnings(res, "its host a[0] is gone (found by refresh)"); n != 3 {
		t.Errorf("%d warnings name the gone host, want 3 (one per instance): %q", n, res.Warnings)
	}
	for _, s := range []string{"s1", "s2", "s3"} {
		if n := w.cloud.CountMatching("undo-" + s + " on b[0]"); n != 1 {
			t.Errorf("undo of %s ran %d times on b[0], the host that exists, want 1", s, n)
		}
	}
	if len(w.st.Steps) != 0 || len(w.st.Hosts) != 0 {
		t.Errorf("left in state: %d instances, %d hosts", len(w.st.Steps), len(w.st.Hosts))
	}
}

// TestDestroyGoneHostWithoutRefresh: -refresh=false (NoRefresh) does not
// ask which hosts are gone; the gone host is tried once, not once per
// instance, and the destroy still finishes (the host is going away: its
// failed undos are warnings).
func TestDestroyGoneHostWithoutRefresh(t *testing.T) {
	w, conn, prov := goneWorld(t)
	w.cloud.Remove("test", "a[0]")
	p := w.plan(w.refresh, func(o *engine.PlanOptions) { o.Destroy, o.NoRefresh = true, true })
	for _, c := range p.Destroys {
		if c.HostGone {
			t.Errorf("without refresh the plan cannot know a host is gone, but marks %s", c.Addr)
		}
	}
	res := w.applyVia(p, 4, prov, conn)
	if len(res.Failures) != 0 {
		t.Fatalf("destroy failed: %v", res.Failures)
	}
	if conn.dials["a[0]"] != 1 {
		t.Errorf("connected to a[0] %d times, want once", conn.dials["a[0]"])
	}
	if len(w.st.Steps) != 0 || len(w.st.Hosts) != 0 {
		t.Errorf("left in state: %d instances, %d hosts", len(w.st.Steps), len(w.st.Hosts))
	}
}

// TestDestroyUnreachableHost: a host whose machine exists but does not
// answer is tried once for all of its instances, not once per instance
// (each try is the connector's whole retry budget, minutes). When the
// host goes too, its instances are forgotten with warnings and the host
// is destroyed; when it stays (a targeted destroy of its steps), the
// failed undo is a failure, the instances stay in state for the next
// destroy, and the other host's undos still run.
func TestDestroyUnreachableHost(t *testing.T) {
	t.Run("the host goes too", func(t *testing.T) {
		w, conn, prov := goneWorld(t)
		conn.down["a[0]"] = true
		p := w.plan(w.refresh, func(o *engine.PlanOptions) { o.Destroy = true })
		res := w.applyVia(p, 4, prov, conn)
		if len(res.Failures) != 0 {
			t.Fatalf("destroy failed: %v", res.Failures)
		}
		if conn.dials["a[0]"] != 1 {
			t.Errorf("connected to the unreachable a[0] %d times, want once", conn.dials["a[0]"])
		}
		if n := countWarnings(res, "connecting to a[0]"); n != 3 {
			t.Errorf("%d warnings tell a[0] was not reached, want 3: %q", n, res.Warnings)
		}
		if n := w.cloud.CountMatching("undo-s1 on b[0]"); n != 1 {
			t.Errorf("undo of s1 ran %d times on b[0], want 1", n)
		}
		if len(w.st.Steps) != 0 || len(w.st.Hosts) != 0 || w.cloud.Hosts() != 0 {
			t.Errorf("left: %d instances, %d hosts in state, %d machines", len(w.st.Steps), len(w.st.Hosts), w.cloud.Hosts())
		}
	})
	t.Run("the host stays", func(t *testing.T) {
		w, conn, prov := goneWorld(t)
		conn.down["a[0]"] = true
		p := w.plan(w.refresh, func(o *engine.PlanOptions) {
			o.Destroy, o.Targets = true, []string{"step.s1", "step.s2", "step.s3"}
		})
		res := w.applyVia(p, 4, prov, conn)
		if len(res.Failures) != 1 || res.Failures[0].Host != "a[0]" {
			t.Fatalf("failures %v, want one, on a[0]", res.Failures)
		}
		if conn.dials["a[0]"] > 1 {
			t.Errorf("connected to the unreachable a[0] %d times, want once", conn.dials["a[0]"])
		}
		left := 0
		for _, inst := range w.st.Steps {
			if inst.Host == "a[0]" {
				left++
			}
		}
		if left != 3 || len(w.st.Steps) != 3 || w.st.Hosts["a[0]"] == nil || w.st.Hosts["b[0]"] == nil {
			t.Errorf("state: %d instances (%d on a[0]), want a[0]'s 3 kept; hosts %d", len(w.st.Steps), left, len(w.st.Hosts))
		}
		if n := w.cloud.CountMatching("undo-s3 on b[0]"); n != 1 {
			t.Errorf("undo of s3 ran %d times on b[0], want 1", n)
		}
	})
}

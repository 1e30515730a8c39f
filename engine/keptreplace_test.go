package engine_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/runner"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

// keeper is the simulated cloud seen as the static provider: Launch names
// a machine that exists already (the sim's, or, with typo set, one that
// does not answer: an address nothing listens at), and Destroy releases
// nothing.
type keeper struct {
	cloud.Provider
	typo bool
}

func (*keeper) Name() string { return "static" }

func (k *keeper) Launch(ctx context.Context, spec cloud.HostSpec) (cloud.Host, error) {
	if k.typo {
		return cloud.Host{ProviderID: "static:root@10.99.0.2:22", PrivateIP: "10.99.0.2", PublicIP: "10.99.0.2",
			SSHAddress: "10.99.0.2", SSHPort: 22, SSHUser: "root", Volumes: map[string]cloud.Volume{}}, nil
	}
	return k.Provider.Launch(ctx, spec)
}

func (*keeper) Destroy(context.Context, cloud.HostSpec, cloud.Host) error { return nil }

func keeperWorld(t *testing.T) (*world, *keeper) {
	w, _ := drainWorld(t)
	sim, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	k := &keeper{Provider: sim}
	asStatic := func(o *engine.PlanOptions) { o.Provider = "static" }
	if res := w.applyVia(w.plan(asStatic), 0, k, w.cloud.Connector()); len(res.Failures) > 0 {
		t.Fatalf("first apply: %v", res.Failures[0].Err)
	}
	if h := w.st.Hosts["server[0]"]; h == nil || h.Provider != "static" || h.SSH.HostKey == "" || len(h.Facts) == 0 {
		t.Fatalf("first apply recorded server[0] as %+v", h)
	}
	return w, k
}

// TestStaticReplaceUnansweredKeepsHost: a host of a provider that keeps
// machines (static) replaced by one that does not answer (a typo in the
// site file's address) fails its launch, and state keeps what it knew of
// the host: its record (address, pinned host key, facts) and its step
// instances as they were, with no replacement owed. The old machine is not
// drained: nothing takes its place. Planned again with the old address,
// nothing changes.
func TestStaticReplaceUnansweredKeepsHost(t *testing.T) {
	w, k := keeperWorld(t)
	old := *w.st.Hosts["server[0]"]
	steps := map[string]state.Instance{}
	for addr, in := range w.st.Steps {
		steps[addr] = *in
	}
	k.typo = true
	p := w.plan(func(o *engine.PlanOptions) { o.Provider = "static"; o.Replace = []string{"server[0]"} })
	res := w.applyVia(p, 0, k, w.cloud.Connector())
	if len(res.Failures) != 1 || res.Failures[0].Addr != `launch["server[0]"]` {
		t.Fatalf("want the launch of server[0] to fail alone, got %+v", res.Failures)
	}
	if msg := res.Failures[0].Err.Error(); !strings.Contains(msg, "state keeps server[0] as recorded (root@server[0]:22)") {
		t.Errorf("the failure does not say state keeps the host: %s", msg)
	}
	if n := w.cloud.CountMatching("drain"); n != 0 {
		t.Errorf("%d drain commands ran on the old machine, though no machine answered in its place", n)
	}
	if h := w.st.Hosts["server[0]"]; h == nil || !reflect.DeepEqual(*h, old) {
		t.Errorf("the failed launch changed the recorded host:\nwas %+v\nnow %+v", old, h)
	}
	if len(w.st.Steps) != len(steps) {
		t.Errorf("state holds %d step instances, was %d", len(w.st.Steps), len(steps))
	}
	for addr, in := range steps {
		if now := w.st.Steps[addr]; now == nil || !reflect.DeepEqual(*now, in) {
			t.Errorf("%s: was %+v, now %+v", addr, in, now)
		}
	}

	k.typo = false // the address put back
	if p := w.plan(w.refresh, func(o *engine.PlanOptions) { o.Provider = "static" }); p.HasChanges() {
		t.Fatalf("plan with the address put back:\n%s", summary(p))
	}
}

// TestStaticReplaceDrainsOnceAnswered: replacing a host of a provider that
// keeps machines drains the recorded machine once the machine named now
// answered, runs the replacement step on the new one and owes nothing
// after; the host key is learned anew (replacing says the machine is new).
func TestStaticReplaceDrainsOnceAnswered(t *testing.T) {
	w, k := keeperWorld(t)
	before := len(w.cloud.Commands("server[0]"))
	p := w.plan(func(o *engine.PlanOptions) { o.Provider = "static"; o.Replace = []string{"server[0]"} })
	if res := w.applyVia(p, 0, k, w.cloud.Connector()); len(res.Failures) > 0 {
		t.Fatalf("replace: %v", res.Failures[0].Err)
	}
	cmds := w.cloud.Commands("server[0]")[before:]
	ready := slices.Index(cmds, "true")
	drain := slices.IndexFunc(cmds, func(c string) bool { return strings.Contains(c, "echo drain server[0]") })
	if ready < 0 || drain < ready {
		t.Errorf("the drain ran before the machine named now answered: %q", cmds)
	}
	if n := w.cloud.CountMatching("echo rejoin server[0]"); n != 1 {
		t.Errorf("rejoin ran %d times on server[0], want once", n)
	}
	if in := w.st.Steps[`step.rejoin["server[0]"]`]; in == nil || in.Status != state.StatusApplied {
		t.Errorf("rejoin recorded as %+v", in)
	}
	if p := w.plan(w.refresh, func(o *engine.PlanOptions) { o.Provider = "static" }); p.HasChanges() {
		t.Fatalf("re-plan:\n%s", summary(p))
	}
}

// unreachable is a connector to hosts that do not answer.
type unreachable struct{}

func (unreachable) Runner(context.Context, state.Host, func(int, string) error) (runner.Runner, error) {
	return nil, errors.New("no route to host")
}

// TestStartedHostUnreachableKeepsFacts: a stopped host started again that
// does not answer fails its launch; state keeps its facts and pinned host
// key (the same machine), not a record without them.
func TestStartedHostUnreachableKeepsFacts(t *testing.T) {
	w := newWorld(t, twoGroups)
	mustApply(t, w, w.plan())
	old := *w.st.Hosts["a[0]"]
	if len(old.Facts) == 0 || old.SSH.HostKey == "" {
		t.Fatalf("first apply recorded a[0] as %+v", old)
	}
	w.cloud.Stop("test", "a[0]")
	p := w.plan(w.refresh)
	if !strings.Contains(summary(p), `~ launch["a[0]"] (host is stopped (found by refresh))`) {
		t.Fatalf("plan with a[0] stopped:\n%s", summary(p))
	}
	sim, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	res := w.applyVia(p, 0, sim, unreachable{})
	if len(res.Failures) == 0 {
		t.Fatal("apply reaching no host succeeded")
	}
	h := w.st.Hosts["a[0]"]
	if h == nil {
		t.Fatal("a[0] is no longer in state")
	}
	if h.ProviderID != old.ProviderID || string(h.Facts) != string(old.Facts) || h.SSH.HostKey != old.SSH.HostKey {
		t.Errorf("the started host that did not answer is recorded with %d bytes of facts (were %d), host key %q (was %q)",
			len(h.Facts), len(old.Facts), h.SSH.HostKey, old.SSH.HostKey)
	}
}

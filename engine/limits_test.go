package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/state"
	"diffuser/steps/builtin"

	"github.com/zclconf/go-cty/cty"
)

// wideRecipe is n independent run steps on each of hosts hosts: with
// unlimited parallelism all n start on a host at once.
func wideRecipe(hosts, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "recipe \"wide\" {}\nhosts \"node\" { count = %d }\n", hosts)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "step \"s%d\" {\n  on = hosts.node\n  run = \"echo %d\"\n}\n", i, i)
	}
	return b.String()
}

// wideWorld is a simulated world where each run step takes 200 ms,
// handshakes take 20 ms alone and 50 ms of CPU on 2 cores (more than 21
// at once pass the 500 ms timeout), and sshd refuses an 11th session on
// a host.
func wideWorld(t *testing.T, hosts, n int) *world {
	prof := sim.Profile{Kinds: map[string]sim.Dist{"run": {Mean: sim.Duration(200 * time.Millisecond)}},
		Connect: sim.ConnectModel{Handshake: sim.Duration(20 * time.Millisecond), CPU: sim.Duration(50 * time.Millisecond),
			Cores: 2, Timeout: sim.Duration(500 * time.Millisecond), MaxSessions: 10}}
	w := newWorld(t, wideRecipe(hosts, n))
	w.kinds = sim.Kinds(builtin.Kinds(), prof)
	w.cloud.Profile = prof
	return w
}

func applyLimits(w *world, p *engine.Plan, par int, l engine.Limits) *engine.Result {
	w.t.Helper()
	prov, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	return p.Apply(context.Background(), w.st, engine.ApplyOptions{Provider: prov, Cluster: "test",
		Connector: w.cloud.Connector(), Recorder: recorder{w.store}, Parallelism: par, Limits: l, LogDir: w.t.TempDir()})
}

// TestSessionsPerHostKeepsUnderSSHDMaxSessions: 16 steps ready at once on
// one host. With no limit the 11th session is refused, as sshd refuses
// it; with the default limit (8 per host) every step runs, never more
// than 8 at once on the host, and waiting for a session costs no
// parallelism slot: the steps of other hosts run meanwhile.
func TestSessionsPerHostKeepsUnderSSHDMaxSessions(t *testing.T) {
	w := wideWorld(t, 1, 16)
	res := applyLimits(w, w.plan(), 0, engine.Limits{})
	if len(res.Failures) == 0 || !strings.Contains(res.Failures[0].Err.Error(), "administratively prohibited") {
		t.Fatalf("16 sessions at once on one host with no limit: want sshd's refusal, got %d failures %v", len(res.Failures), res.Failures)
	}
	if p := w.cloud.Peaks(); p.Refused == 0 || p.SessionsPerHost != 10 {
		t.Errorf("peaks %+v: want sessions refused past 10", p)
	}

	w = wideWorld(t, 4, 16)
	res = applyLimits(w, w.plan(), 0, engine.DefaultLimits())
	if len(res.Failures) > 0 {
		t.Fatalf("default limits: %v", res.Failures[0].Err)
	}
	if res.Ran != 4+4*16 {
		t.Errorf("%d ran, want %d", res.Ran, 4+4*16)
	}
	p := w.cloud.Peaks()
	if p.SessionsPerHost != engine.DefaultSessionsPerHost || p.Refused != 0 {
		t.Errorf("peaks %+v: want %d sessions at once on a host, none refused", p, engine.DefaultSessionsPerHost)
	}
	// A host waiting for its sessions holds nothing other hosts need:
	// more than one host's worth ran at once.
	if p.Sessions <= engine.DefaultSessionsPerHost {
		t.Errorf("peaks %+v: at most %d sessions at once over 4 hosts: hosts waited on each other", p, p.Sessions)
	}
}

// TestConnectsBoundHandshakes: 400 hosts reached at once time out when
// their handshakes all share the controller's 2 cores (past 21 at once
// the model's 500 ms timeout); a connect limit of 4 keeps every handshake
// at 70 ms.
func TestConnectsBoundHandshakes(t *testing.T) {
	w := wideWorld(t, 400, 1)
	res := applyLimits(w, w.plan(), 0, engine.Limits{SessionsPerHost: 8})
	if len(res.Failures) == 0 || !strings.Contains(res.Failures[0].Err.Error(), "handshake") {
		t.Fatalf("400 hosts reached at once (peak %d handshakes): want timeouts, got %d failures", w.cloud.Peaks().Handshakes, len(res.Failures))
	}
	w = wideWorld(t, 400, 1)
	res = applyLimits(w, w.plan(), 0, engine.Limits{Connects: 4, SessionsPerHost: 8})
	if len(res.Failures) > 0 {
		t.Fatalf("4 connects at once: %v", res.Failures[0].Err)
	}
	if p := w.cloud.Peaks(); p.Handshakes > 4 || p.Handshakes < 2 {
		t.Errorf("peaks %+v: want at most 4 handshakes at once", p)
	}
}

// TestParallelismStillCaps: -parallelism keeps its meaning on top of the
// limits.
func TestParallelismStillCaps(t *testing.T) {
	w := wideWorld(t, 2, 8)
	res := applyLimits(w, w.plan(), 2, engine.DefaultLimits())
	if len(res.Failures) > 0 {
		t.Fatal(res.Failures[0].Err)
	}
	if p := w.cloud.Peaks(); p.SessionsPerHost > 2 {
		t.Errorf("parallelism 2: %d sessions at once on one host", p.SessionsPerHost)
	}
}

func TestLimitsValidate(t *testing.T) {
	if err := (engine.Limits{Connects: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "connects is -1") {
		t.Errorf("negative connects: %v", err)
	}
	if err := engine.DefaultLimits().Validate(); err != nil {
		t.Error(err)
	}
	if err := (engine.Limits{}).Validate(); err != nil {
		t.Errorf("0 is no limit: %v", err)
	}
}

// countingRecorder counts host records.
type countingRecorder struct {
	recorder
	mu    sync.Mutex
	hosts int
}

func (r *countingRecorder) PutHost(h state.Host) error {
	r.mu.Lock()
	r.hosts++
	r.mu.Unlock()
	return r.recorder.PutHost(h)
}

// TestLaunchRecordsKeyWithFacts: a launch records its host twice, the
// machine before it is reached and then its first-use host key with its
// facts in one durable write; when the facts cannot be had, the key is
// still recorded before the failure.
func TestLaunchRecordsKeyWithFacts(t *testing.T) {
	for _, broken := range []bool{false, true} {
		w := wideWorld(t, 2, 1)
		if broken {
			w.cloud.SetFacts("node[1]", "no facts sections here\n")
		}
		rec := &countingRecorder{recorder: recorder{w.store}}
		prov, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
		res := w.plan().Apply(context.Background(), w.st, engine.ApplyOptions{Provider: prov, Cluster: "test",
			Connector: w.cloud.Connector(), Recorder: rec, Limits: engine.DefaultLimits(), LogDir: t.TempDir()})
		if broken != (len(res.Failures) == 1) {
			t.Fatalf("broken facts %v: failures %v", broken, res.Failures)
		}
		if rec.hosts != 4 {
			t.Errorf("broken facts %v: %d host records for 2 launches, want 4", broken, rec.hosts)
		}
		onDisk, err := w.store.Load()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"node[0]", "node[1]"} {
			h := onDisk.Hosts[name]
			if h == nil || !strings.HasPrefix(h.SSH.HostKey, "ssh-ed25519 SIM") {
				t.Fatalf("broken facts %v: %s on disk without its host key: %+v", broken, name, h)
			}
			if hasFacts := len(h.Facts) > 0; hasFacts != (!broken || name == "node[0]") {
				t.Errorf("broken facts %v: %s has facts on disk: %v", broken, name, hasFacts)
			}
		}
	}
}

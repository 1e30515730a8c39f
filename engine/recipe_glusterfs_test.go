package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"
	"diffuser/steps/builtin"

	"github.com/zclconf/go-cty/cty"
)

// TestGlusterfsPoolRounds applies the built-in glusterfs recipe on
// simulated hosts for 1 to 40 servers and reads back what the pool steps
// ran: every server but server[0] is probed exactly once, pool_seed probes
// only servers below probers (ceil(sqrt(servers))), pool_join runs on
// exactly those first servers and each probes only servers already
// outside the seed round, and no probe chain is longer than 2*probers.
func TestGlusterfsPoolRounds(t *testing.T) {
	probe := regexp.MustCompile(`peer probe (\S+)`)
	for n := 1; n <= 40; n++ {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			l, diags := engine.Load(lang.Source{FS: recipes.FS(), Dir: "glusterfs", Display: "glusterfs", Modules: recipes.Modules()},
				lang.Inputs{Vars: []string{"servers=" + strconv.Itoa(n), "replica=1", "clients=1"}}, sim.Kinds(builtin.Kinds(), sim.Profile{}))
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			store := state.Open(t.TempDir())
			unlock, err := store.Lock(context.Background(), state.CurrentHolder("test"))
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			st, _ := store.Load()
			p, diags := l.Plan(context.Background(), engine.PlanOptions{State: st, Provider: "sim", Settings: noSettings})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			c := sim.New()
			prov, _ := c.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
			res := p.Apply(context.Background(), st, engine.ApplyOptions{Provider: prov, Cluster: "t", Connector: c.Connector(),
				Recorder: recorder{store}, LogDir: t.TempDir()})
			if len(res.Failures) > 0 {
				t.Fatalf("apply failed: %v", res.Failures[0].Err)
			}
			index := map[string]int{} // private IP -> server index
			for i := 0; i < n; i++ {
				index[st.Hosts[fmt.Sprintf("server[%d]", i)].PrivateIP] = i
			}
			probers := 1
			for probers*probers < n {
				probers++
			}
			probed := map[int]int{}
			probes := func(addr string) []int {
				inst := st.Steps[addr]
				if inst == nil {
					t.Fatalf("%s did not run", addr)
				}
				var args struct{ Command string }
				if err := json.Unmarshal(inst.Args, &args); err != nil {
					t.Fatalf("%s: %v", addr, err)
				}
				var out []int
				for _, m := range probe.FindAllStringSubmatch(args.Command, -1) {
					i, ok := index[m[1]]
					if !ok {
						t.Fatalf("%s probes %s, which is no server", addr, m[1])
					}
					probed[i]++
					out = append(out, i)
				}
				return out
			}
			for _, i := range probes(`step.pool_seed["server[0]"]`) {
				if i == 0 || i >= probers {
					t.Errorf("pool_seed probes server[%d]; want 1..%d", i, probers-1)
				}
			}
			joins := 0
			for addr, inst := range st.Steps {
				if inst.Step != "pool_join" {
					continue
				}
				joins++
				m := regexp.MustCompile(`server\[(\d+)\]`).FindStringSubmatch(addr)
				from, _ := strconv.Atoi(m[1])
				targets := probes(addr)
				if from >= probers {
					t.Errorf("pool_join runs on server[%d], which the seed round did not bring in", from)
				}
				if len(targets) > probers {
					t.Errorf("server[%d] probes %d servers; at most %d expected", from, len(targets), probers)
				}
				for _, i := range targets {
					if i < probers || i%probers != from {
						t.Errorf("server[%d] probes server[%d]", from, i)
					}
				}
			}
			if joins != probers {
				t.Errorf("pool_join ran on %d servers, want %d", joins, probers)
			}
			for i := 1; i < n; i++ {
				if probed[i] != 1 {
					t.Errorf("server[%d] probed %d times, want once", i, probed[i])
				}
			}
			if probed[0] != 0 {
				t.Errorf("server[0] probed %d times", probed[0])
			}
		})
	}
}

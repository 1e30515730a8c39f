package engine_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"diffuser/engine"
	"diffuser/facts"
)

const factsRecipe = `
recipe "t" {}
hosts "server" { count = 2 }
hosts "client" { count = 1 }

step "client_packages" {
  on  = hosts.client
  run = "install ${host.facts.os.family == "debian" ? "glusterfs-client" : "glusterfs-fuse"}"
}

step "release" {
  on  = hosts.server
  run = "echo ${host.facts.os.version_id} ${host.facts.cores}"
}

step "plain" {
  on  = hosts.server
  run = "echo plain"
}
`

const rockyFacts = `@@facts:os-release
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
@@facts:nproc
8
@@facts:end
`

// TestFactsGatheredAtLaunch: every launch records its host's facts, and a
// step reads its own host's.
func TestFactsGatheredAtLaunch(t *testing.T) {
	w := newWorld(t, factsRecipe)
	w.cloud.SetFacts("client[0]", rockyFacts)
	p := w.plan()
	for _, c := range p.Changes {
		if c.Step == "client_packages" && !c.Deferred {
			t.Fatalf("facts of a host not launched are known at plan: %+v", c)
		}
	}
	res := w.apply(p, 0)
	if len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	for name, h := range w.st.Hosts {
		f, ok := facts.Decode(h.Facts)
		if !ok {
			t.Fatalf("%s: no facts recorded", name)
		}
		want := "debian"
		if name == "client[0]" {
			want = "rocky"
		}
		if f.OS.ID != want {
			t.Errorf("%s: os.id %q, want %q", name, f.OS.ID, want)
		}
	}
	if got := strings.Join(w.cloud.Commands("client[0]"), "\n"); !strings.Contains(got, "install glusterfs-fuse") {
		t.Errorf("client ran %q, want the RHEL package", got)
	}
	if got := strings.Join(w.cloud.Commands("server[1]"), "\n"); !strings.Contains(got, "echo 12 2") {
		t.Errorf("server[1] ran %q, want its facts", got)
	}
	if n := w.cloud.FactsGathered(); n != 3 {
		t.Errorf("facts gathered %d times for 3 hosts", n)
	}
	if s := summary(w.plan(w.refresh)); s != "" {
		t.Errorf("plan after apply:\n%s", s)
	}
}

// TestFactsWaitOnlyForOwnHost: reading host.facts waits for the step's own
// host's launch, never another's; reading hosts.G[i].facts waits for G.
func TestFactsWaitOnlyForOwnHost(t *testing.T) {
	l := mustLoad(t, factsRecipe+`
step "peer_facts" {
  on  = hosts.client
  run = "echo ${hosts.server[1].facts.arch}"
}
`)
	g := l.Graph
	reach := func(from int32) map[int32]bool {
		seen := map[int32]bool{from: true}
		stack := []int32{from}
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, u := range g.Out(v) {
				if !seen[u] {
					seen[u] = true
					stack = append(stack, u)
				}
			}
		}
		return seen
	}
	vertex := map[string]int32{}
	for v := int32(0); v < int32(g.NumVertices()); v++ {
		vertex[g.Addr(v)] = v
	}
	find := func(addr string) int32 {
		v, ok := vertex[addr]
		if !ok {
			t.Fatalf("no vertex %s in %v", addr, vertex)
		}
		return v
	}
	client := find(`step.client_packages["client[0]"]`)
	peer := find(`step.peer_facts["client[0]"]`)
	release0 := find(`step.release["server[0]"]`)
	for _, h := range []string{"server[0]", "server[1]"} {
		r := reach(g.LaunchV[hostIndex(t, g, h)])
		if r[client] {
			t.Errorf("client_packages waits for %s's launch", h)
		}
		if !r[peer] {
			t.Errorf("peer_facts does not wait for %s's launch", h)
		}
	}
	if reach(g.LaunchV[hostIndex(t, g, "server[1]")])[release0] {
		t.Error("release on server[0] waits for server[1]'s launch")
	}
	if !reach(g.LaunchV[hostIndex(t, g, "client[0]")])[client] {
		t.Error("client_packages does not wait for its own host's launch")
	}
}

func hostIndex(t *testing.T, g *engine.Instances, name string) int {
	for i, h := range g.Hosts {
		if h.Name == name {
			return i
		}
	}
	t.Fatalf("no host %s", name)
	return -1
}

// TestFactsRefreshChanged: a fact that changed on a host (found by plan's
// refresh) re-records the host's facts and updates the instances on that
// host that read it, saying why; nothing else changes.
func TestFactsRefreshChanged(t *testing.T) {
	w := newWorld(t, factsRecipe)
	if res := w.apply(w.plan(), 0); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	w.cloud.SetFacts("server[1]", strings.Replace(strings.Replace(defaultSimFacts(t), `VERSION_ID="12"`, `VERSION_ID="13"`, 1), "\n2\n", "\n4\n", 1))
	if s := summary(w.plan()); s != "" {
		t.Fatalf("without refresh the plan must not see new facts:\n%s", s)
	}
	p := w.plan(w.refresh)
	want := `~ launch["server[1]"] (host facts changed: os.version_id 12 → 13, cores 2 → 4 (found by refresh))
~ step.release["server[1]"] (inputs changed: host facts changed: os.version_id 12 → 13, cores 2 → 4)
`
	if got := summary(p); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	if p.Drift != 1 {
		t.Errorf("drift %d, want 1", p.Drift)
	}
	launches := w.cloud.Launches()
	if res := w.apply(p, 0); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	if w.cloud.Launches() != launches {
		t.Error("recording facts launched a host")
	}
	if f, _ := facts.Decode(w.st.Hosts["server[1]"].Facts); f.OS.VersionID != "13" || f.Cores != 4 {
		t.Errorf("recorded facts %+v", f)
	}
	if got := strings.Join(w.cloud.Commands("server[1]"), "\n"); !strings.Contains(got, "echo 13 4") {
		t.Errorf("server[1] ran %q", got)
	}
	if s := summary(w.plan(w.refresh)); s != "" {
		t.Errorf("plan after apply:\n%s", s)
	}
}

// TestFactsRefreshChangedThroughModuleAndLocal: a step that reads a fact
// through a module input set from host.facts at the call (also one
// nested call deeper) is updated saying which facts changed, as one
// reading host.facts itself; a service restarted because of it restarts
// on that host alone. A step on another host reading them through a local
// made from hosts.G[i].facts is updated too, saying only "inputs
// changed": the reason names the facts of the step's own host, which did
// not change.
func TestFactsRefreshChangedThroughModuleAndLocal(t *testing.T) {
	w := newWorld(t, factsRecipe+`
locals {
  server1_cores = hosts.server[1].facts.cores
}

module "worker" {
  source  = "./modules/worker"
  on      = hosts.server
  threads = host.facts.cores * 4
}

step "peer_sized" {
  on  = hosts.client
  run = "echo ${local.server1_cores}"
}
`)
	w.extra = map[string]string{
		"modules/worker/main.hcl": `
variable "threads" { type = number }
step "conf" {
  run = "echo threads=${var.threads}"
}
step "daemon" {
  restart_on = [step.conf]
  run        = "echo restart"
}
module "inner" {
  source = "../inner"
  size   = var.threads * 2
}
`,
		"modules/inner/main.hcl": `
variable "size" { type = number }
step "cache" {
  run = "echo size=${var.size}"
}
`,
	}
	if res := w.apply(w.plan(), 0); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	w.cloud.SetFacts("server[1]", strings.Replace(defaultSimFacts(t), "\n2\n", "\n4\n", 1))
	want := `~ launch["server[1]"] (host facts changed: cores 2 → 4 (found by refresh))
~ step.release["server[1]"] (inputs changed: host facts changed: cores 2 → 4)
~ module.worker.step.conf["server[1]"] (inputs changed: host facts changed: cores 2 → 4)
~ module.worker.step.daemon["server[1]"] (restart because module.worker.step.conf["server[1]"] will change)
~ module.worker.module.inner.step.cache["server[1]"] (inputs changed: host facts changed: cores 2 → 4)
~ step.peer_sized["client[0]"] (inputs changed)
`
	got := summary(w.plan(w.refresh))
	if sorted(got) != sorted(want) {
		t.Errorf("plan:\n%s\nwant (in any order):\n%s", got, want)
	}
}

func sorted(lines string) string {
	l := strings.Split(strings.TrimSpace(lines), "\n")
	slices.Sort(l)
	return strings.Join(l, "\n")
}

// TestFactsMissingFromOldState: state written before facts existed plans
// a launch that only records facts; no step that reads facts re-runs when
// its arguments come out the same.
func TestFactsMissingFromOldState(t *testing.T) {
	for _, refresh := range []bool{false, true} {
		w := newWorld(t, factsRecipe)
		if res := w.apply(w.plan(), 0); len(res.Failures) > 0 {
			t.Fatalf("apply: %+v", res.Failures)
		}
		for _, h := range w.st.Hosts {
			h.Facts = nil
		}
		var p *engine.Plan
		if refresh {
			p = w.plan(w.refresh)
		} else {
			p = w.plan()
		}
		got := summary(p)
		for _, h := range []string{"client[0]", "server[0]", "server[1]"} {
			if !strings.Contains(got, "~ launch[\""+h+"\"] (host facts not recorded yet)\n") {
				t.Errorf("refresh=%v: no facts-only launch of %s:\n%s", refresh, h, got)
			}
		}
		if strings.Contains(got, "plain") || (refresh && strings.Contains(got, "step.")) {
			t.Errorf("refresh=%v: steps re-run:\n%s", refresh, got)
		}
		before := len(w.cloud.Commands("client[0]"))
		res := w.apply(p, 0)
		if len(res.Failures) > 0 {
			t.Fatalf("apply: %+v", res.Failures)
		}
		if after := len(w.cloud.Commands("client[0]")); after != before {
			t.Errorf("refresh=%v: client ran %v again", refresh, w.cloud.Commands("client[0]")[before:])
		}
		for name, h := range w.st.Hosts {
			if _, ok := facts.Decode(h.Facts); !ok {
				t.Errorf("%s: facts not recorded", name)
			}
		}
		if s := summary(w.plan(w.refresh)); s != "" {
			t.Errorf("refresh=%v: plan after apply:\n%s", refresh, s)
		}
	}
}

func defaultSimFacts(t *testing.T) string {
	t.Helper()
	return strings.Join([]string{"@@facts:os-release", `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"`, `NAME="Debian GNU/Linux"`,
		`VERSION_ID="12"`, "ID=debian", "@@facts:uname-m", "x86_64", "@@facts:dpkg-arch", "amd64", "@@facts:rpm-arch",
		"@@facts:nproc", "2", "@@facts:meminfo", "MemTotal:        4028452 kB",
		"@@facts:capbnd", "CapBnd:\t000001ffffffffff", "@@facts:lsblk",
		`NAME="vda" SIZE="21474836480" TYPE="disk" MOUNTPOINT="/" FSTYPE="ext4"`, "@@facts:end", ""}, "\n")
}

// TestFactsDevicesAloneChangeNothing: formatting and mounting change a
// host's devices; a refresh that finds only that plans nothing.
func TestFactsDevicesAloneChangeNothing(t *testing.T) {
	w := newWorld(t, factsRecipe)
	if res := w.apply(w.plan(), 0); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	w.cloud.SetFacts("server[0]", strings.Replace(defaultSimFacts(t), `MOUNTPOINT="/" FSTYPE="ext4"`,
		"MOUNTPOINT=\"/\" FSTYPE=\"ext4\"\nNAME=\"loop3\" SIZE=\"2147483648\" TYPE=\"loop\" MOUNTPOINT=\"/data/brick\" FSTYPE=\"xfs\"", 1))
	if s := summary(w.plan(w.refresh)); s != "" {
		t.Fatalf("a new mount alone planned:\n%s", s)
	}
}

// TestFactsRefreshAsksNoDevices: a refresh asks hosts whose facts state
// records for the others only (no lsblk on every host at every plan), a
// host without recorded facts for all of them; a changed fact keeps the
// recorded devices until the facts-only launch records them anew.
func TestFactsRefreshAsksNoDevices(t *testing.T) {
	w := newWorld(t, factsRecipe)
	if res := w.apply(w.plan(), 0); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	asked, devices := w.cloud.FactsGathered(), w.cloud.DevicesGathered()
	if s := summary(w.plan(w.refresh)); s != "" {
		t.Fatalf("plan:\n%s", s)
	}
	if n := w.cloud.FactsGathered() - asked; n != 3 {
		t.Errorf("refresh asked %d hosts, want 3", n)
	}
	if n := w.cloud.DevicesGathered() - devices; n != 0 {
		t.Errorf("refresh asked %d hosts for their devices, want 0", n)
	}

	w.st.Hosts["client[0]"].Facts = nil
	w.cloud.SetFacts("server[1]", strings.Replace(strings.Replace(defaultSimFacts(t), `VERSION_ID="12"`, `VERSION_ID="13"`, 1),
		`NAME="vda"`, `NAME="vdz"`, 1))
	devices = w.cloud.DevicesGathered()
	p := w.plan(w.refresh)
	if n := w.cloud.DevicesGathered() - devices; n != 1 {
		t.Errorf("refresh asked %d hosts for their devices, want 1 (client[0], whose facts state lacks)", n)
	}
	want := `~ launch["server[1]"] (host facts changed: os.version_id 12 → 13 (found by refresh))
~ launch["client[0]"] (host facts not recorded yet)
~ step.release["server[1]"] (inputs changed: host facts changed: os.version_id 12 → 13)
`
	if got := summary(p); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	if res := w.apply(p, 0); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	for _, h := range []string{"client[0]", "server[1]"} {
		f, _ := facts.Decode(w.st.Hosts[h].Facts)
		if len(f.Devices) != 1 {
			t.Fatalf("%s: recorded devices %+v", h, f.Devices)
		}
		if h == "server[1]" && (f.Devices[0].Name != "vdz" || f.OS.VersionID != "13") {
			t.Errorf("server[1]: the facts-only launch recorded %+v", f)
		}
	}
}

// TestFactsCapabilitiesMissingFromOldState: facts state recorded before
// diffuser gathered capabilities plan a launch that only records them, not
// drift; steps that read other facts stay as they are, a step that reads
// the capabilities is known at plan with refresh, else after apply, and
// re-runs nothing when they come out as its arguments were.
func TestFactsCapabilitiesMissingFromOldState(t *testing.T) {
	src := factsRecipe + `
step "caps" {
  on  = hosts.server
  run = "echo ${length(host.facts.capabilities)}"
}
`
	for _, refresh := range []bool{false, true} {
		w := newWorld(t, src)
		if res := w.apply(w.plan(), 0); len(res.Failures) > 0 {
			t.Fatalf("apply: %+v", res.Failures)
		}
		for _, h := range w.st.Hosts {
			var m map[string]any
			if err := json.Unmarshal(h.Facts, &m); err != nil || m["capabilities"] == nil {
				t.Fatalf("%s: recorded facts %s (%v)", h.Name, h.Facts, err)
			}
			delete(m, "capabilities")
			h.Facts, _ = json.Marshal(m)
		}
		var p *engine.Plan
		if refresh {
			p = w.plan(w.refresh)
		} else {
			p = w.plan()
		}
		want := `~ launch["server[0]"] (host facts not recorded yet: capabilities)
~ launch["server[1]"] (host facts not recorded yet: capabilities)
~ launch["client[0]"] (host facts not recorded yet: capabilities)
`
		if !refresh {
			want += `~ step.caps["server[0]"] (inputs known after apply)
~ step.caps["server[1]"] (inputs known after apply)
`
		}
		if got := summary(p); got != want {
			t.Fatalf("refresh=%v: plan:\n%s\nwant:\n%s", refresh, got, want)
		}
		if p.Drift != 0 {
			t.Errorf("refresh=%v: drift %d, want 0", refresh, p.Drift)
		}
		before := len(w.cloud.Commands("server[0]"))
		if res := w.apply(p, 0); len(res.Failures) > 0 {
			t.Fatalf("apply: %+v", res.Failures)
		}
		if ran := w.cloud.Commands("server[0]")[before:]; len(ran) != 0 {
			t.Errorf("refresh=%v: server[0] ran %q again", refresh, ran)
		}
		for name, h := range w.st.Hosts {
			if f, _ := facts.Decode(h.Facts); len(f.Capabilities) != 41 {
				t.Errorf("%s: recorded capabilities %v", name, f.Capabilities)
			}
		}
		if s := summary(w.plan(w.refresh)); s != "" {
			t.Errorf("refresh=%v: plan after apply:\n%s", refresh, s)
		}
	}
}

// TestFactsIncompleteAnswer: a host whose answer to the facts command is
// cut short (or lost its start) records nothing. At launch the launch
// fails naming the host and what was wrong; on refresh the plan keeps
// what state recorded: before, the missing facts were read as none, and
// the plan "recorded" them, running again every step reading them.
func TestFactsIncompleteAnswer(t *testing.T) {
	full := defaultSimFacts(t)
	cut := full[:strings.Index(full, "@@facts:lsblk")] // no end line
	headless := full[strings.Index(full, "@@facts:nproc"):]

	w := newWorld(t, factsRecipe)
	w.cloud.SetFacts("server[1]", cut)
	res := w.apply(w.plan(), 0)
	if len(res.Failures) != 1 || res.Failures[0].Host != "server[1]" ||
		!strings.Contains(res.Failures[0].Err.Error(), "server[1]: the host's answer to the facts command is cut short") {
		t.Fatalf("apply with a cut answer: %+v", res.Failures)
	}
	if h := w.st.Hosts["server[1]"]; h != nil && len(h.Facts) != 0 {
		t.Fatalf("recorded %s", h.Facts)
	}

	w.cloud.SetFacts("server[1]", "")
	if res := w.apply(w.plan(), 0); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	for _, answer := range []string{cut, headless} {
		w.cloud.SetFacts("server[1]", answer)
		if s := summary(w.plan(w.refresh)); s != "" {
			t.Errorf("refresh with an incomplete answer plans:\n%s", s)
		}
	}
}

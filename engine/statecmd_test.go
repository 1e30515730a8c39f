package engine_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/state"
	"diffuser/steps"
	"diffuser/steps/builtin"
)

func TestParseAddress(t *testing.T) {
	for _, tc := range []struct {
		in, str string
		want    engine.Address
	}{
		{`server[1]`, `server[1]`, engine.Address{Kind: engine.AddrHost, Host: "server[1]", Group: "server", Index: 1}},
		{`launch["data-node[12]"]`, `data-node[12]`, engine.Address{Kind: engine.AddrHost, Host: "data-node[12]", Group: "data-node", Index: 12}},
		{`step.brick_mount`, `step.brick_mount`, engine.Address{Kind: engine.AddrStep, Step: "brick_mount"}},
		{` step.x["server[0]"]`, `step.x["server[0]"]`, engine.Address{Kind: engine.AddrInstance, Step: "x", Host: "server[0]", Group: "server"}},
	} {
		got, err := engine.ParseAddress(tc.in)
		if err != nil || got != tc.want || got.String() != tc.str {
			t.Errorf("ParseAddress(%q) = %+v (%s), %v; want %+v (%s)", tc.in, got, got, err, tc.want, tc.str)
		}
	}
	for _, bad := range []string{``, `server`, `server[]`, `server[01]`, `server[-1]`, `server[1`, `step.`, `step.x[server[0]]`,
		`step.x["server"]`, `step.1x`, `launch[server[0]]`, `hosts.server`, `step.x["server[0]"`, `módulo[0]`} {
		_, err := engine.ParseAddress(bad)
		if err == nil || !strings.Contains(err.Error(), "step.NAME") {
			t.Errorf("ParseAddress(%q): %v; want an error naming the forms", bad, err)
		}
	}
}

// allKinds applies one step of every declarative kind and a run step with
// guards, env and captures, on simulated hosts.
const allKinds = `
recipe "allkinds" {}
variable "secret" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
hosts "server" {
  count = 2
  volume "data" { size_gb = 2 }
}
step "pkgs" {
  on      = hosts.server
  package = ["xfsprogs", "nfs-common"]
}
step "conf" {
  on = hosts.server
  file {
    path    = "/etc/demo/${host.name}.conf"
    content = "index = ${host.index}\nratio = 0.1\n"
    mode    = "0600"
  }
}
step "fmt" {
  on     = hosts.server
  format {
    device  = host.volume.data.device
    fstype  = "xfs"
    options = ["-f", "-m", "crc=1"]
  }
}
step "mnt" {
  on    = hosts.server
  after = [step.fmt]
  mount {
    source = host.volume.data.device
    target = "/data"
    fstype = "xfs"
  }
}
step "svc" {
  on = hosts.server
  service {
    name    = "demo"
    enabled = true
  }
}
step "ready" {
  on = hosts.server
  wait {
    port    = 22
    timeout = "5s"
  }
}
step "cmd" {
  on      = hosts.server
  run     = "echo ${host.private_ip} > /tmp/ip"
  creates = "/tmp/ip"
  env     = { A = "1", B = "two" }
  timeout = "30s"
  destroy = "rm -f /tmp/ip"
  capture {
    ip = "cat /tmp/ip"
  }
}
step "hidden" {
  on        = hosts.server[0]
  run       = "echo ${var.secret}"
  unless    = "true"
  sensitive = true
}
`

// simKinds have the real kinds' specs (so the same digests and recorded
// arguments) and apply without a host to answer them.
var simKinds = sim.Kinds(builtin.Kinds(), sim.Profile{})

// Redigest gives back every recorded digest from the recorded arguments,
// for every kind; a sensitive step, which records none, cannot be
// redigested; the new name gives the digest plan computes for it.
func TestRedigest(t *testing.T) {
	w := newWorld(t, allKinds)
	w.kinds = simKinds
	if res := w.apply(w.plan(), 0); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	kinds := builtin.Kinds()
	seen := map[string]bool{}
	for addr, inst := range w.st.Steps {
		h := w.st.Hosts[inst.Host]
		dg, ok := engine.Redigest(kinds, inst, inst.Host, h.ProviderID)
		if inst.Sensitive {
			if ok {
				t.Errorf("%s is sensitive but was redigested", addr)
			}
			continue
		}
		seen[inst.Kind] = true
		if !ok || dg != inst.Digest {
			t.Errorf("%s (%s): Redigest = %q, %v; recorded %q", addr, inst.Kind, dg, ok, inst.Digest)
		}
		other, ok := engine.Redigest(kinds, inst, "storage[7]", h.ProviderID)
		if !ok || other == inst.Digest {
			t.Errorf("%s: Redigest under another name = %q, %v; want a different digest", addr, other, ok)
		}
	}
	for _, k := range []string{"package", "file", "format", "mount", "service", "wait", "run"} {
		if !seen[k] {
			t.Errorf("no %s instance was checked", k)
		}
	}
	// Arguments that do not decode to the recorded digest are not trusted.
	inst := *w.st.Steps[`step.conf["server[0]"]`]
	inst.Args = []byte(`{"path":"/elsewhere","content":"x","mode":"0644","owner":null,"group":null}`)
	if _, ok := engine.Redigest(kinds, &inst, "server[5]", "id"); ok {
		t.Error("Redigest trusted arguments that do not give the recorded digest")
	}
	if _, ok := engine.Redigest(steps.Registry{}, w.st.Steps[`step.conf["server[0]"]`], "server[5]", "id"); ok {
		t.Error("Redigest without the kind")
	}
}

// Desired is the instance as the plan sees it, with what apply records:
// the same digest, arguments and destroy command as the apply recorded.
func TestDesired(t *testing.T) {
	w := newWorld(t, allKinds)
	w.kinds = simKinds
	if res := w.apply(w.plan(), 0); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	p := w.plan()
	for _, addr := range []string{`step.cmd["server[1]"]`, `step.conf["server[0]"]`, `step.hidden["server[0]"]`} {
		d, err := p.Desired(w.st, addr)
		if err != nil {
			t.Fatalf("Desired(%s): %v", addr, err)
		}
		rec := w.st.Steps[addr]
		var recArgs bytes.Buffer
		if len(rec.Args) > 0 {
			_ = json.Compact(&recArgs, rec.Args)
		}
		if d.Digest != rec.Digest || string(d.ArgsJSON) != recArgs.String() || d.Destroy != rec.Destroy ||
			d.Sensitive != rec.Sensitive || d.Kind != rec.Kind || d.Step != rec.Step || d.Host != rec.Host {
			t.Errorf("Desired(%s) = %s %s %q %v\napplied %s %s %q %v", addr, d.Digest, d.ArgsJSON, d.Destroy, d.Sensitive,
				rec.Digest, recArgs.String(), rec.Destroy, rec.Sensitive)
		}
	}
	for addr, want := range map[string]string{
		`step.nope["server[0]"]`:   `the recipe has no step "nope"; its steps: cmd, conf, fmt, hidden, mnt, pkgs, ready, svc`,
		`step.hidden["server[1]"]`: "step hidden does not run on server[1]; it runs on server[0]",
		`step.cmd["server[9]"]`:    "step cmd does not run on server[9]; it runs on server[0], server[1]",
		`server[0]`:                "not a step instance address",
	} {
		if _, err := p.Desired(w.st, addr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Desired(%s): %v; want %q", addr, err, want)
		}
	}

	// A host not in state, and an instance whose inputs are known only at
	// apply (it reads a capture of a step not applied).
	w2 := newWorld(t, allKinds+`
step "late" {
  on  = hosts.server[1]
  run = "echo ${step.cmd.hosts["server[0]"].outputs.ip}"
}`)
	w2.kinds = simKinds
	p2 := w2.plan()
	if _, err := p2.Desired(w2.st, `step.conf["server[0]"]`); err == nil || !strings.Contains(err.Error(), "host server[0] is not in state: import it first") {
		t.Errorf("Desired on a host not in state: %v", err)
	}
	w2.st.Hosts = w.st.Hosts
	delete(w2.st.Hosts, "server[1]")
	w2.st.Hosts["server[1]"] = &state.Host{}
	*w2.st.Hosts["server[1]"] = *w.st.Hosts["server[0]"]
	w2.st.Hosts["server[1]"].Name = "server[1]"
	w2.st.Hosts["server[1]"].Index = 1
	p2 = w2.plan()
	if _, err := p2.Desired(w2.st, `step.late["server[1]"]`); err == nil || !strings.Contains(err.Error(), "known only at apply") {
		t.Errorf("Desired of an instance reading a step not applied: %v", err)
	}
}

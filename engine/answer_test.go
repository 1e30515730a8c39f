package engine_test

import (
	"context"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

// hostileProvider answers every launch with a field no real machine has.
type hostileProvider struct {
	cloud.Provider
	spoil func(*cloud.Host)
}

func (p hostileProvider) Launch(ctx context.Context, spec cloud.HostSpec) (cloud.Host, error) {
	h, err := p.Provider.Launch(ctx, spec)
	p.spoil(&h)
	return h, err
}

// TestHostileProviderAnswerNotRecorded: a provider answer (docker inspect,
// an EC2 response, ssh_config) with a private address that could end a
// script, an option-like user, a port out of range or a relative device
// fails the launch naming the field, and nothing of it is recorded.
func TestHostileProviderAnswerNotRecorded(t *testing.T) {
	cases := map[string]func(*cloud.Host){
		"private_ip":     func(h *cloud.Host) { h.PrivateIP = "10.0.0.1\nDIFFUSER_RELAY_EOF\nreboot" },
		"ssh.user":       func(h *cloud.Host) { h.SSHUser = "-oProxyCommand=id" },
		"ssh.port":       func(h *cloud.Host) { h.SSHPort = 65536 },
		"ssh.address":    func(h *cloud.Host) { h.SSHAddress = "a;b" },
		"ssh.jump.user":  func(h *cloud.Host) { h.SSHJump = []cloud.Hop{{Address: "bastion", Port: 22, User: "x y"}} },
		"public_ip":      func(h *cloud.Host) { h.PublicIP = "$(id)" },
		"volumes[\"v\"]": func(h *cloud.Host) { h.Volumes = map[string]cloud.Volume{"v": {Device: "sdb"}} },
	}
	for field, spoil := range cases {
		t.Run(field, func(t *testing.T) {
			w := newWorld(t, `
recipe "t" {}
hosts "a" { count = 1 }
step "s" {
  on  = hosts.a
  run = "true"
}
`)
			p := w.plan()
			prov, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
			res := p.Apply(context.Background(), w.st, engine.ApplyOptions{Provider: hostileProvider{prov, spoil}, Cluster: "test",
				Connector: w.cloud.Connector(), Recorder: recorder{w.store}, Parallelism: 2, LogDir: t.TempDir()})
			if len(res.Failures) == 0 {
				t.Fatal("the hostile answer was accepted")
			}
			msg := res.Failures[0].Err.Error()
			if !strings.Contains(msg, "a[0]."+field) || !strings.Contains(msg, "nothing was recorded") {
				t.Errorf("the error does not locate %s: %s", field, msg)
			}
			if len(w.st.Hosts) != 0 {
				t.Errorf("recorded: %+v", w.st.Hosts)
			}
			if st, err := state.Open(w.store.Dir()).Load(); err != nil || len(st.Hosts) != 0 {
				t.Errorf("on disk: %v %v", st, err)
			}
		})
	}
}

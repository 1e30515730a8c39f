package remote

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"diffuser/runner"
)

func TestJumpHost(t *testing.T) {
	env := newTestEnv(t)
	jump, target, cfg := env.jumped(t)

	p := NewPool()
	defer p.Close()
	c, err := p.Connect(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Run(context.Background(), "echo via jump", runner.Options{})
	if err != nil || res.Stdout != "via jump\n" {
		t.Fatalf("%+v %v", res, err)
	}
	// The jump sshd forwarded a TCP connection to the target's port.
	want := fmt.Sprintf("target 127.0.0.1 port %d", target.port)
	if !strings.Contains(jump.log.String(), want) {
		t.Errorf("jump host log lacks %q: the connection did not go through it", want)
	}
	// The jump connection is pooled: a second target through the same
	// bastion logs in to it once.
	target2 := env.newSSHD(t, sshdOptions{})
	cfg2 := env.config(target2)
	cfg2.Jump = cfg.Jump
	if _, err := p.Connect(context.Background(), cfg2); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(jump.log.String(), "Accepted publickey"); got != 1 {
		t.Errorf("%d logins on the jump host, want 1", got)
	}

	// The jump host is rebooted: the target connection over it dies, and
	// the next Run reconnects both hops.
	jump.stop()
	jump.start()
	res, err = c.Run(context.Background(), "echo again", runner.Options{})
	if err != nil || res.Stdout != "again\n" {
		t.Fatalf("after the jump host restarted: %+v %v", res, err)
	}
}

func TestJumpHostTargetDown(t *testing.T) {
	env := newTestEnv(t)
	jump := env.newSSHD(t, sshdOptions{})
	cfg := env.config(jump)
	cfg.Name = "behind"
	cfg.Port = freePort(t) // nothing listens there
	jcfg := env.config(jump)
	cfg.Jump = &jcfg
	_, err := NewPool().Connect(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "via jump host") {
		t.Errorf("err = %v, want a failure naming the jump host", err)
	}
}

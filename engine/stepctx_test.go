package engine

import (
	"context"
	"testing"

	"diffuser/cloud"
	"diffuser/state"
	"diffuser/steps"
)

// A kind learns the host's package cache from the attribute its provider
// recorded, and nothing when there is none.
func TestStepCtxCarriesAptProxy(t *testing.T) {
	h := state.Host{Name: "server[0]", Attrs: map[string]string{cloud.AttrAptProxy: "http://172.20.0.1:3142/"}}
	ctx := stepCtx(context.Background(), `step.packages["server[0]"]`, h)
	if got := steps.AptProxyFrom(ctx); got != "http://172.20.0.1:3142/" {
		t.Errorf("apt proxy = %q", got)
	}
	if got := steps.InstanceFrom(ctx); got != `step.packages["server[0]"]` {
		t.Errorf("instance = %q", got)
	}
	if got := steps.AptProxyFrom(stepCtx(context.Background(), "x", state.Host{Name: "client[0]"})); got != "" {
		t.Errorf("a host without the attribute got apt proxy %q", got)
	}
}

//go:build reliability

package main

import (
	"diffuser/cloud/docker/dockertest"
	"fmt"
	"testing"
	"time"
)

// The slow half of the CLI's reliability suite (make reliability, -tags
// reliability): twenty SIGKILLs of a real deploy. (A GlusterFS server lost
// in the middle of its deploy is TestReliabilityHostLossGlusterfs in
// package workspace.)

// TestReliabilityCrash SIGKILLs `diffuser apply` at 20 random moments of
// real local deploys (3 containers, 12 quick steps each; a new deploy
// after each one converges) and prints how many kills landed, how many
// deploys converged and how many recorded steps ran again (must be 0).
func TestReliabilityCrash(t *testing.T) {
	needContainers(t)
	dockertest.Serialize(t)
	start := time.Now()
	res := crashLoop(t, 20)
	fmt.Printf("RELIABILITY crash safety: %s, in %s\n", res, time.Since(start).Round(time.Second))
	if res.dups > 0 {
		t.Errorf("%d duplicate runs", res.dups)
	}
	if res.converged != res.deploys {
		t.Errorf("%d of %d deploys converged", res.converged, res.deploys)
	}
}

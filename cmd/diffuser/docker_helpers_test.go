package main

import (
	"testing"

	"diffuser/cloud/docker/dockertest"
)

// dockerOK says whether a Docker Engine answers.
func dockerOK() bool { return dockertest.DockerOK() }

// mirrorHosts returns the extra_hosts list as scripts/mirror-hosts.sh prints it.
func mirrorHosts(t *testing.T) string { return dockertest.MirrorHosts(t) }

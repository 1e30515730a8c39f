package main

import (
	"diffuser/cloud"
	"diffuser/cloud/docker"
)

// builtinFactories lists the providers compiled in (static is added by app).
func builtinFactories() map[string]cloud.Factory {
	return map[string]cloud.Factory{"docker": docker.Factory{}}
}

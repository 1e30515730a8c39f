package main

import "diffuser/cloud"

// builtinFactories lists the providers compiled in (static is added by app).
func builtinFactories() map[string]cloud.Factory {
	return map[string]cloud.Factory{}
}

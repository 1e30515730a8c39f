package workspace

import (
	"diffuser/cloud"
	awsprovider "diffuser/cloud/aws"
	"diffuser/cloud/docker"
)

// builtinFactories lists the providers compiled in (static is added by
// Env.factories).
func builtinFactories() map[string]cloud.Factory {
	return map[string]cloud.Factory{"docker": docker.Factory{}, awsprovider.Name: awsprovider.NewFactory()}
}

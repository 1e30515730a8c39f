package main

import (
	"fmt"
	"strings"
)

// terraformCommands says what to type instead of the Terraform commands
// diffuser has no equivalent of under that name, for the root's "unknown
// command" error: a Terraform user types them first.
var terraformCommands = map[string]string{
	"refresh":      "diffuser has no refresh command: plan asks the hosts whether recorded work still holds and lists what drifted, and apply puts it back",
	"init":         "diffuser needs no init: modules are directories of the recipe or built in (builtin/NAME) and providers are part of the binary; start with diffuser validate RECIPE",
	"taint":        "to redo work, give apply -replace 'step.NAME[\"HOST\"]' (a step instance) or -replace 'server[1]' (a host)",
	"force-unlock": "diffuser state unlock WORKSPACE breaks a lock whose holder died",
}

// terraformFlags says the same for Terraform's flags of plan and apply,
// given to any command.
var terraformFlags = map[string]string{
	"refresh-only": "diffuser has no refresh-only mode: plan shows what refresh found changed on the hosts, and apply puts it back as the recipe says",
}

// withTerraformHint adds to cobra's `unknown command "refresh" for
// "diffuser"` what diffuser does instead, when the command is Terraform's.
func withTerraformHint(err error) error {
	rest, ok := strings.CutPrefix(err.Error(), `unknown command "`)
	if !ok {
		return err
	}
	name, rest, _ := strings.Cut(rest, `"`)
	if h := terraformCommands[name]; h != "" && strings.HasPrefix(rest, ` for "diffuser"`) {
		return fmt.Errorf("%w: %s", err, h)
	}
	return err
}

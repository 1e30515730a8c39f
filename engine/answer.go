package engine

import (
	"fmt"

	"diffuser/state"
)

// CheckAnswer checks a host as its provider answered for it (docker
// inspect, an EC2 response, a site file and ssh_config) before it is
// recorded: the same checks state applies when it is read, so that
// nothing is written that the next read would refuse. A refused answer is
// not recorded; the machine, if one was made, carries the provider's tags.
func CheckAnswer(provider string, h *state.Host) error {
	if err := h.Check(); err != nil {
		return fmt.Errorf("the %s provider answered for %s (machine %q) with a value diffuser does not use: %s%w; "+
			"nothing was recorded: fix the site file or ssh config that gave it (or remove the machine with the provider's tools) and apply again",
			provider, h.Name, h.ProviderID, h.Name, err)
	}
	return nil
}

package workspace

import (
	"fmt"

	"diffuser/cloud"
	"diffuser/cloud/multi"
)

// trackPeers hands the router the cluster's peers across providers: the
// hosts state records on providers whose hosts connect from their public
// address (egress), and the recipe's declared ports, which firewall
// providers (aws) open to them and nothing else. See cloud/peers.go.
func (ws *Workspace) trackPeers(m *multi.Providers, egress map[string]bool) error {
	var ports []cloud.PortRange
	if ws.Loaded != nil && ws.Loaded.Recipe != nil {
		var err error
		if ports, err = cloud.ParsePorts(ws.Loaded.Recipe.Ports); err != nil {
			return fmt.Errorf("recipe %s: %w", ws.Loaded.Recipe.Name, err)
		}
	}
	var seed []cloud.Peer
	if ws.State != nil {
		for _, h := range ws.State.Hosts {
			key := h.Provider
			if key == "" {
				key = ws.Provider
			}
			seed = append(seed, cloud.Peer{Name: h.Name, Provider: key, Address: cloud.PeerAddress(cloud.Host{PublicIP: h.PublicIP})})
		}
	}
	m.Peers(seed, ports, func(key string) bool { return egress[key] })
	return nil
}

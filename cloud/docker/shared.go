package docker

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
)

// Shared networks. Containers on two bridge networks of one machine cannot
// reach each other, so a cluster whose other groups run elsewhere (static
// machines on the lab's network, say) is joined to it: `networks = ["lab"]`
// names existing Docker networks every container of the group also joins.
// The cluster network stays the one diffuser makes, with fixed addresses,
// and SSH still goes there; but the host's private_ip and public_ip become
// its address on the first shared network, since that is the address every
// member of the cluster (the hosts of other providers on that network and
// the cluster's own containers, which are on it too) reaches: a recipe that
// names its servers by private_ip (GlusterFS names its bricks so) announces
// an address the others can use. diffuser never creates or removes a shared
// network; destroy only removes the containers from it.

// decodeNetworks reads the networks setting: a list of network names.
func decodeNetworks(a cty.Value) ([]string, error) {
	if a.IsNull() {
		return nil, nil
	}
	bad := cloud.Problem(cty.GetAttrPath("networks"), "Invalid docker setting", "docker provider setting networks: want a list of Docker network names, like [\"lab\"]")
	if !a.Type().IsListType() && !a.Type().IsTupleType() && !a.Type().IsSetType() {
		return nil, bad
	}
	var out []string
	for it := a.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || e.Type() != cty.String {
			return nil, bad
		}
		out = append(out, strings.TrimSpace(e.AsString()))
	}
	return out, nil
}

// networkProblems checks the names of shared networks.
func networkProblems(nets []string) []cloud.SettingsProblem {
	var out []cloud.SettingsProblem
	for i, n := range nets {
		path := cty.GetAttrPath("networks").Index(cty.NumberIntVal(int64(i)))
		switch {
		case !validName(n):
			out = append(out, cloud.Problem(path, "Invalid docker setting",
				"docker provider setting networks: %q is not a Docker network name (letters, digits, and _ . - after the first)", n))
		case n == "host" || n == "none":
			out = append(out, cloud.Problem(path, "Invalid docker setting",
				"docker provider setting networks: %q cannot be joined besides the cluster network; name a bridge, macvlan or overlay network (docker network ls)", n))
		case slices.Contains(nets[:i], n):
			out = append(out, cloud.Problem(path, "Invalid docker setting", "docker provider setting networks: %q is named twice", n))
		}
	}
	return out
}

// joinShared connects the running container id to every shared network
// it is not on yet (API 1.41 engines take one network at create). It runs
// whenever a host is launched, adopted or started, so a network added to
// the setting later is joined on the next apply.
//
// The address on the first shared network is the one the cluster names
// the host by, so it is pinned where the engine allows it (a network made
// with an explicit subnet): a host launched again asks for the address
// state recorded (spec.Address), and a new one keeps the address the engine
// gave it through restarts. On a network without a configured subnet the
// engine refuses pinning, and the address is the engine's (dynamic).
func (p *Provider) joinShared(ctx context.Context, spec cloud.HostSpec, s Settings, id string) error {
	if len(s.Networks) == 0 {
		return nil
	}
	res, err := p.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspect container: %w", err)
	}
	for i, n := range s.Networks {
		if res.Container.NetworkSettings != nil && res.Container.NetworkSettings.Networks[n] != nil {
			continue
		}
		if i == 0 {
			if want, err := netip.ParseAddr(spec.Address); err == nil && want.Is4() && p.connect(ctx, n, id, want) == nil {
				p.env.Log("docker: %s: joined network %s at its recorded address %s", spec.Name, n, want)
				continue
			}
		}
		if err := p.connect(ctx, n, id, netip.Addr{}); err != nil {
			if cerrdefs.IsNotFound(err) {
				return fmt.Errorf("the docker provider's networks setting names %q, which does not exist: create it (docker network create %s) or fix the site file", n, n)
			}
			return fmt.Errorf("connect container %s to network %s: %w", ContainerName(spec), n, err)
		}
		if i == 0 {
			p.pinShared(ctx, spec, n, id)
		}
		p.env.Log("docker: %s: joined network %s", spec.Name, n)
	}
	return nil
}

// connect connects container id to network n, at addr when valid.
func (p *Provider) connect(ctx context.Context, n, id string, addr netip.Addr) error {
	ep := &network.EndpointSettings{}
	if addr.IsValid() {
		ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: addr}
	}
	_, err := p.cli.NetworkConnect(ctx, n, client.NetworkConnectOptions{Container: id, EndpointConfig: ep})
	if err != nil && (cerrdefs.IsConflict(err) || strings.Contains(err.Error(), "already exists")) {
		return nil
	}
	return err
}

// pinShared pins container id to the address the engine just gave it on
// network n (reconnecting with it as the requested address), so that it
// keeps it through restarts. Where the engine refuses, the container stays
// on n with its dynamic address, and the log says so.
func (p *Provider) pinShared(ctx context.Context, spec cloud.HostSpec, n, id string) {
	res, err := p.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil || res.Container.NetworkSettings == nil || res.Container.NetworkSettings.Networks[n] == nil {
		return
	}
	addr := res.Container.NetworkSettings.Networks[n].IPAddress
	if !addr.IsValid() || !addr.Is4() {
		return
	}
	if _, err := p.cli.NetworkDisconnect(ctx, n, client.NetworkDisconnectOptions{Container: id, Force: true}); err != nil {
		return
	}
	if err := p.connect(ctx, n, id, addr); err != nil {
		p.env.Log("docker: %s: network %s does not take a fixed address (%v): the host's address there may change when its container restarts", spec.Name, n, err)
		if err := p.connect(ctx, n, id, netip.Addr{}); err != nil {
			p.env.Log("docker: %s: reconnect to network %s: %v", spec.Name, n, err)
		}
	}
}

// sharedIP is the container's IPv4 address on the first shared network:
// "" when there is none or the container has no address there yet.
func sharedIP(c container.InspectResponse, nets []string) string {
	if len(nets) == 0 || c.NetworkSettings == nil {
		return ""
	}
	if ep := c.NetworkSettings.Networks[nets[0]]; ep != nil && ep.IPAddress.IsValid() {
		return ep.IPAddress.String()
	}
	return ""
}

// announce sets what a host of a group with shared networks is reached
// at: its address on every shared network as attributes, and its private
// and public address on the first (see the comment at the top).
func announce(h *cloud.Host, c container.InspectResponse, nets []string) {
	if c.NetworkSettings == nil {
		return
	}
	for _, n := range nets {
		if ep := c.NetworkSettings.Networks[n]; ep != nil && ep.IPAddress.IsValid() {
			h.Attrs["network."+n] = ep.IPAddress.String()
		}
	}
	if ip := sharedIP(c, nets); ip != "" {
		h.PrivateIP, h.PublicIP = ip, ip
	}
}

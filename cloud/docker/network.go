package docker

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// ensureNetwork returns the ID of the cluster's bridge network, creating it
// if needed. The engine does not make create-or-get safe: API 1.41 daemons
// accept a second network with the same name (this client cannot send
// CheckDuplicate). So creation is serialized by netMu within the process and
// by a lock file between processes on this machine; should duplicates exist
// anyway (a remote DOCKER_HOST shared by machines), every caller settles on
// the same one (oldest, then lowest ID) and a creator that lost removes its own.
func (p *Provider) ensureNetwork(ctx context.Context, cluster string) (string, error) {
	p.netMu.Lock()
	defer p.netMu.Unlock()
	if id := p.networks[cluster]; id != "" {
		return id, nil
	}
	nets, err := p.clusterNetworks(ctx, cluster)
	if err != nil {
		return "", err
	}
	if len(nets) == 0 {
		// The engine (API 1.41) would accept a second network of the same
		// name from another process: create under a machine-wide lock, and
		// look again once holding it.
		unlock, err := lockFile(ctx, networkLock(cluster), nil)
		if err != nil {
			return "", err
		}
		defer unlock()
		if nets, err = p.clusterNetworks(ctx, cluster); err != nil {
			return "", err
		}
	}
	if len(nets) == 0 {
		created, err := p.createFixedNetwork(ctx, cluster)
		if err != nil {
			return "", err
		}
		p.env.Log("docker: created network %s", NetworkName(cluster))
		if nets, err = p.clusterNetworks(ctx, cluster); err != nil {
			return "", err
		}
		if len(nets) > 1 {
			winner := nets[0].ID
			if created.ID != "" && created.ID != winner {
				if _, err := p.cli.NetworkRemove(ctx, created.ID, client.NetworkRemoveOptions{}); err != nil {
					p.env.Log("docker: remove duplicate network %s: %v", created.ID, err)
				}
			}
		}
	}
	if len(nets) == 0 {
		return "", fmt.Errorf("network %s vanished right after it was created", NetworkName(cluster))
	}
	p.networks[cluster] = nets[0].ID
	return nets[0].ID, nil
}

// createFixedNetwork creates the cluster's network with fixed addressing
// (address.go): network_cidr when set, else a subnet the engine picks from
// its own address pools — found by creating a plain network, reading its
// subnet and making the network again with that subnet given explicitly
// (the engine pins addresses only on user-configured subnets). Another
// network may take the subnet in between: then the engine picks again.
func (p *Provider) createFixedNetwork(ctx context.Context, cluster string) (client.NetworkCreateResult, error) {
	name := NetworkName(cluster)
	labels := map[string]string{LabelCluster: cluster, LabelProvider: Name, labelAddressing: addressingFixed}
	create := func(subnet netip.Prefix) (client.NetworkCreateResult, error) {
		_, dynamic, err := splitSubnet(subnet)
		if err != nil {
			return client.NetworkCreateResult{}, fmt.Errorf("network %s: %w", name, err)
		}
		res, err := p.cli.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge", Labels: labels,
			IPAM: &network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: subnet.Masked(), IPRange: dynamic}}}})
		if err != nil && !cerrdefs.IsConflict(err) {
			return client.NetworkCreateResult{}, fmt.Errorf("create network %s: %w", name, err)
		}
		return res, nil
	}
	if p.settings.NetworkCIDR != "" {
		return create(netip.MustParsePrefix(p.settings.NetworkCIDR))
	}
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		probe, err := p.cli.NetworkCreate(ctx, name+"-subnet", client.NetworkCreateOptions{Driver: "bridge",
			Labels: map[string]string{LabelCluster: cluster, LabelProvider: Name}})
		if err != nil {
			return client.NetworkCreateResult{}, fmt.Errorf("create network %s (to learn a free subnet): %w", name+"-subnet", err)
		}
		ins, err := p.cli.NetworkInspect(ctx, probe.ID, client.NetworkInspectOptions{})
		if _, rerr := p.cli.NetworkRemove(ctx, probe.ID, client.NetworkRemoveOptions{}); rerr != nil && !cerrdefs.IsNotFound(rerr) {
			return client.NetworkCreateResult{}, fmt.Errorf("remove network %s: %w", name+"-subnet", rerr)
		}
		if err != nil {
			return client.NetworkCreateResult{}, fmt.Errorf("inspect network %s: %w", name+"-subnet", err)
		}
		var subnet netip.Prefix
		for _, c := range ins.Network.IPAM.Config {
			if c.Subnet.Addr().Is4() {
				subnet = c.Subnet
				break
			}
		}
		if !subnet.IsValid() {
			return client.NetworkCreateResult{}, fmt.Errorf("network %s: the engine gave no IPv4 subnet: set network_cidr", name)
		}
		res, err := create(subnet)
		if err == nil {
			return res, nil
		}
		last = err // most likely the subnet was taken meanwhile: ask again
	}
	return client.NetworkCreateResult{}, last
}

// forgetNetwork drops the cached network ID of cluster (it was removed).
func (p *Provider) forgetNetwork(cluster string) {
	p.netMu.Lock()
	defer p.netMu.Unlock()
	delete(p.networks, cluster)
}

// clusterNetworks lists the networks named NetworkName(cluster) and
// labelled with cluster, oldest first.
func (p *Provider) clusterNetworks(ctx context.Context, cluster string) ([]network.Summary, error) {
	res, err := p.cli.NetworkList(ctx, client.NetworkListOptions{Filters: clusterFilter(cluster)})
	if err != nil {
		return nil, fmt.Errorf("list networks of cluster %s: %w", cluster, err)
	}
	nets := slices.DeleteFunc(res.Items, func(n network.Summary) bool {
		return n.Name != NetworkName(cluster) || n.Labels[LabelCluster] != cluster
	})
	slices.SortFunc(nets, func(a, b network.Summary) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return nets, nil
}

// networkLock names the machine-wide lock under which cluster's network is
// created. Cleanup removes it with the network: the workspace's state lock
// keeps an apply of the same cluster from running meanwhile.
func networkLock(cluster string) string { return "diffuser-network-" + cluster + ".lock" }

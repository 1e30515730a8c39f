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
		opts := client.NetworkCreateOptions{
			Driver: "bridge",
			Labels: map[string]string{LabelCluster: cluster, LabelProvider: Name},
		}
		if p.settings.NetworkCIDR != "" {
			opts.IPAM = &network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: netip.MustParsePrefix(p.settings.NetworkCIDR)}}}
		}
		created, err := p.cli.NetworkCreate(ctx, NetworkName(cluster), opts)
		if err != nil && !cerrdefs.IsConflict(err) {
			return "", fmt.Errorf("create network %s: %w", NetworkName(cluster), err)
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

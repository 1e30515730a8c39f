package engine_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"diffuser/lang"
)

// fakeGluster stands in for gluster on PATH: `peer status` and `volume
// info` print the files beside it (written as GlusterFS 10 writes them),
// `peer detach NAME force` appends NAME to detached, or fails as
// glusterd does when NAME is one of the brick holders listed in
// holders.
const fakeGluster = `#!/bin/sh
d=$(dirname "$0")/..
[ "$1" = --mode=script ] && shift
case "$1 $2" in
"peer status") cat "$d/peer-status" ;;
"volume info") cat "$d/volume-info" ;;
"peer detach")
	if grep -qxF "$3" "$d/holders"; then
		echo "peer detach: failed: Peer $3 hosts one or more bricks. If the peer is in not recoverable state then use either replace-brick or remove-brick command with force to remove all bricks from the peer and attempt the peer detach again." >&2
		exit 1
	fi
	echo "$3" >> "$d/detached"
	echo "peer detach: success" ;;
*) echo "fake gluster: unexpected $*" >&2; exit 1 ;;
esac
`

// fakeGetent stands in for getent on PATH: `getent ahosts NAME` prints
// NAME's lines from the file hosts beside it (NAME ADDRESS...) as glibc's
// getent does (each address for STREAM, DGRAM and RAW, the name on the
// first line), an address literal as itself, and exits 2 ("key not
// found") for a name it does not hold.
const fakeGetent = `#!/bin/sh
d=$(dirname "$0")/..
[ "$1" = ahosts ] || { echo "fake getent: unexpected $*" >&2; exit 1; }
echo "$2" >> "$d/resolved"
case "$2" in
*:* | *[!0-9.]*) addrs=$(awk -v n="$2" '$1 == n { $1 = ""; print }' "$d/hosts") ;;
*) addrs=$2 ;;
esac
[ -n "$addrs" ] || exit 2
first=true
for a in $addrs; do
	if $first; then printf '%-15s STREAM %s\n' "$a" "$2"; first=false; else printf '%-15s STREAM\n' "$a"; fi
	printf '%-15s DGRAM\n%-15s RAW\n' "$a" "$a"
done
`

// TestGlusterfsPoolPruneKnowsPeersByResolvedNames runs the glusterfs
// recipe's pool_prune (command and unless, as the engine renders them for
// 3 servers) with /bin/sh against fake gluster and getent. Peer status
// may list a peer by any of its names, with or without "Other names":
// the e2e grow saw server[1] as "Hostname: server-1" alone, which
// matched neither the recipe's addresses nor a brick, so pool_prune tried
// to detach it and failed (it holds a brick). A peer one of whose names
// resolves to a server's address or a brick host is kept; one whose names
// resolve elsewhere, or not at all, has left and is detached by the name
// peer status gives.
func TestGlusterfsPoolPruneKnowsPeersByResolvedNames(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	st := applyBuiltinSim(t, "glusterfs", lang.Inputs{Vars: []string{"servers=3", "replica=1"}})
	inst := st.Steps[`step.pool_prune["server[0]"]`]
	if inst == nil {
		t.Fatal(`no step.pool_prune["server[0]"] in state`)
	}
	var args struct {
		Command string `json:"command"`
		Unless  string `json:"unless"`
	}
	if err := json.Unmarshal(inst.Args, &args); err != nil || args.Command == "" || args.Unless == "" {
		t.Fatalf("pool_prune's recorded command %q, unless %q (%v)", args.Command, args.Unless, err)
	}
	ip := make([]string, 3)
	for i := range ip {
		ip[i] = st.Hosts[fmt.Sprintf("server[%d]", i)].PrivateIP
		if ip[i] == "" || strings.Contains(ip[i], ":") {
			t.Fatalf("server[%d]'s address %q: want an IPv4 address", i, ip[i])
		}
	}
	// Two servers the recipe no longer lists but whose bricks the volume
	// still holds (a shrink step.volume refuses), one brick given by
	// address, one by host name: kept.
	bricks := append(append([]string{}, ip...), "10.99.0.4", "store-5")

	peerBlock := func(hostname, state string, other ...string) string {
		b := fmt.Sprintf("Hostname: %s\nUuid: %08x-1c2d-4e5f-8a9b-0c1d2e3f4a5b\nState: %s\n", hostname, len(hostname)*7919, state)
		if len(other) > 0 {
			b += "Other names:\n" + strings.Join(other, "\n") + "\n"
		}
		return b
	}
	peerStatus := func(blocks ...string) string {
		return fmt.Sprintf("Number of Peers: %d\n\n", len(blocks)) + strings.Join(blocks, "\n")
	}
	var vol strings.Builder
	fmt.Fprintf(&vol, "\nVolume Name: gv0\nType: Distribute\nVolume ID: 0b9e8c1a-7f61-4a55-9d0e-3c2b1a4f5e6d\nStatus: Started\nSnapshot Count: 0\nNumber of Bricks: %d\nTransport-type: tcp\nBricks:\n", len(bricks))
	for i, b := range bricks {
		fmt.Fprintf(&vol, "Brick%d: %s:/data/brick/gv0\n", i+1, b)
	}
	vol.WriteString("Options Reconfigured:\nstorage.fips-mode-rchecksum: on\ntransport.address-family: inet\nnfs.disable: on\nperformance.client-io-threads: off\n")
	hosts := strings.Join([]string{
		"server-1 " + ip[1],
		"server-2 " + ip[2] + " fd00::2", // an IPv6 address too
		"server-4 10.99.0.4",
		"store-5 10.99.0.5",
		"server-9 10.99.0.9", // a left server's name, now another machine's
	}, "\n") + "\n"

	kept := []string{
		// By its host name alone (the e2e failure).
		peerBlock("server-1", "Peer in Cluster (Connected)"),
		// By the address it was probed by, its host name beside it.
		peerBlock(ip[2], "Peer in Cluster (Connected)", "server-2"),
		// By a host name that resolves to a brick's host.
		peerBlock("server-4", "Peer in Cluster (Disconnected)"),
		// By an address a brick's host name resolves to.
		peerBlock("10.99.0.5", "Peer in Cluster (Connected)"),
	}
	left := []string{
		// Resolves, to no server's address and no brick's host.
		peerBlock("server-9", "Peer in Cluster (Disconnected)"),
		// Resolves to nothing (its machine is gone).
		peerBlock("server-7", "Peer in Cluster (Disconnected)"),
		// An address no server has, its other name resolving to nothing.
		peerBlock("10.99.0.6", "Peer in Cluster (Disconnected)", "server-6"),
	}
	holders := strings.Join([]string{ip[1], "server-1", ip[2], "server-2", "10.99.0.4", "server-4", "10.99.0.5", "store-5"}, "\n") + "\n"

	for _, tc := range []struct {
		name       string
		peers      []string
		wantDetach []string
		refused    string // a left peer glusterd refuses to detach: the command fails naming it
	}{
		{"kept only", kept, nil, ""},
		{"kept and left", append(append([]string{}, kept...), left...), []string{"10.99.0.6", "server-7", "server-9"}, ""},
		// The first detach fails, the later ones succeed: the step fails
		// all the same (it exited with the last detach's status).
		{"a detach refused", append(append([]string{}, kept...), left...), []string{"10.99.0.6", "server-7"}, "server-9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			if err := os.Mkdir(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, body := range map[string]string{
				"bin/gluster": fakeGluster, "bin/getent": fakeGetent,
				"peer-status": peerStatus(tc.peers...), "volume-info": vol.String(),
				"hosts": hosts, "holders": holders + tc.refused + "\n",
			} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			run := func(cmd string) (string, error) {
				c := exec.Command("/bin/sh", "-c", cmd)
				c.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
				out, err := c.CombinedOutput()
				return string(out), err
			}

			out, err := run(args.Unless)
			if holds := err == nil; holds != (len(tc.wantDetach) == 0) {
				t.Errorf("unless exited %v, want it to hold only when no peer has left\n%s", err, out)
			}
			out, err = run(args.Command)
			if tc.refused != "" {
				if want := "could not detach " + tc.refused; err == nil || !strings.Contains(out, want) {
					t.Errorf("command exited %v, want a failure saying %q:\n%s", err, want, out)
				}
			} else if err != nil {
				t.Fatalf("command: %v\n%s", err, out)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "detached"))
			got := strings.Fields(string(b))
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(tc.wantDetach, " ") {
				t.Errorf("detached %q, want %q\noutput:\n%s", got, tc.wantDetach, out)
			}
			tried := len(tc.wantDetach)
			if tc.refused != "" {
				tried++
			}
			if n := strings.Count(out, " is in the pool but not in the recipe"); n != tried || (tc.refused == "" && strings.Contains(out, "failed")) {
				t.Errorf("%d peers detached, want %d:\n%s", n, tried, out)
			}
			for _, p := range tc.wantDetach {
				if want := p + " is in the pool but not in the recipe, and holds no brick: detaching it"; !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			// Addresses are not looked up, nor peers known by a kept name.
			b, _ = os.ReadFile(filepath.Join(dir, "resolved"))
			for _, n := range strings.Fields(string(b)) {
				if n == "server-2" || strings.Contains(n, ":") || strings.Trim(n, "0123456789.") == "" {
					t.Errorf("getent was asked for %s", n)
				}
			}
		})
	}
}

package distribute

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"diffuser/runner"
	"diffuser/steps"

	"golang.org/x/crypto/ssh"
)

// hopScript is installed on every host of a relay transfer as $D/hop.
//
//go:embed relay/hop.sh
var hopScript string

// Relay tunables.
const (
	relayDirPrefix = "/run/diffuser-relay-"
	relayPortLow   = 20000 // random listener ports are drawn from [relayPortLow, relayPortHigh)
	relayPortHigh  = 40000
	relayPortTries = 8 // consecutive ports a host tries when one is taken
	// relayLifetime bounds a listener diffuser could not stop (diffuser
	// killed mid-transfer): timeout(1) ends it.
	relayLifetime = 12 * time.Hour
	// Keepalives: a hop whose peer vanished (host powered off) notices
	// within interval × count.
	relayAliveInterval = 5
	relayAliveCount    = 4
	relayHopWait       = 90 // seconds the status probe waits for a round's hop to end before killing it
	relaySetupTimeout  = 2 * time.Minute
	relayProbeTimeout  = time.Minute + relayHopWait*time.Second
	relayAliveTimeout  = 30 * time.Second // a host that cannot run `true` in this long is taken for dead
)

// relay is one relay transfer's host-side setup: a directory on every
// host holding the hop script, a throw-away client key and host key, and a
// second sshd listening on the host's private address that lets only that
// key in and only to run the hop.
type relay struct {
	t         *transfer
	id        string
	dir       string
	basePort  int
	hostKey   string // PEM
	clientKey string // PEM
	hostPub   string // authorized-key form
	clientPub string
	alias     string // HostKeyAlias the hops verify the listener's key under
	round     int
}

func newRelay(t *transfer) (*relay, error) {
	idb := make([]byte, 6)
	if _, err := rand.Read(idb); err != nil {
		return nil, err
	}
	r := &relay{t: t, id: hex.EncodeToString(idb)}
	r.dir = relayDirPrefix + r.id
	r.alias = "diffuser-relay-" + r.id
	r.basePort = t.a.port
	if r.basePort == 0 {
		n, err := rand.Int(rand.Reader, big.NewInt(relayPortHigh-relayPortLow))
		if err != nil {
			return nil, err
		}
		r.basePort = relayPortLow + int(n.Int64())
	}
	var err error
	if r.hostKey, r.hostPub, err = relayKeyPair("diffuser relay host " + r.id); err != nil {
		return nil, err
	}
	if r.clientKey, r.clientPub, err = relayKeyPair("diffuser relay " + r.id); err != nil {
		return nil, err
	}
	return r, nil
}

// relayKeyPair returns a new ed25519 private key in OpenSSH PEM form and
// its public key as an authorized_keys line without options.
func relayKeyPair(comment string) (priv, pub string, err error) {
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	block, err := ssh.MarshalPrivateKey(sk, comment)
	if err != nil {
		return "", "", err
	}
	sp, err := ssh.NewPublicKey(pk)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(block)), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " " + comment, nil
}

// sshCommand is the ssh client a hop runs to reach the next host: the
// transfer's key only, the listener's key pinned under an alias, no
// configuration files, keepalives to notice a vanished peer.
func (r *relay) sshCommand() string {
	opts := []string{
		"-F /dev/null", "-T", "-i " + r.dir + "/id",
		"-o IdentitiesOnly=yes", "-o IdentityAgent=none", "-o BatchMode=yes",
		"-o UserKnownHostsFile=" + r.dir + "/known_hosts", "-o GlobalKnownHostsFile=/dev/null",
		"-o HostKeyAlias=" + r.alias, "-o StrictHostKeyChecking=yes", "-o CheckHostIP=no", "-o UpdateHostKeys=no",
		fmt.Sprintf("-o ServerAliveInterval=%d", relayAliveInterval), fmt.Sprintf("-o ServerAliveCountMax=%d", relayAliveCount),
		"-o ConnectTimeout=15", "-o ConnectionAttempts=3",
		"-o Ciphers=aes128-gcm@openssh.com,chacha20-poly1305@openssh.com", "-o LogLevel=ERROR",
	}
	return "ssh " + strings.Join(opts, " ")
}

// sshdConfig is the listener's configuration; $port and $pam are filled in
// by the setup script (an unquoted here-document: nothing else here may
// expand). PAM stays off unless root's password is locked ("!..."), which
// sshd without PAM takes for a locked account and refuses even keys for.
func (r *relay) sshdConfig(listen string) string {
	var b strings.Builder
	b.WriteString("Port $port\n")
	if listen != "" {
		fmt.Fprintf(&b, "ListenAddress %s\n", listen)
	}
	fmt.Fprintf(&b, `HostKey %[1]s/host_key
PidFile %[1]s/sshd.pid
AuthorizedKeysFile %[1]s/authorized_keys
AuthorizedPrincipalsFile none
ForceCommand /bin/sh %[1]s/hop
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers root
DisableForwarding yes
PermitTTY no
PermitUserRC no
PermitUserEnvironment no
UsePAM $pam
UseDNS no
PrintMotd no
ClientAliveInterval %[2]d
ClientAliveCountMax %[3]d
MaxStartups 64:30:256
Ciphers aes128-gcm@openssh.com,chacha20-poly1305@openssh.com
LogLevel ERROR
`, r.dir, relayAliveInterval, relayAliveCount)
	return b.String()
}

// setupScript installs the relay on one host and starts its listener; it
// is fed to `sh -s` on stdin, so the keys never appear in a command line.
// It prints "listening PORT". Before that it removes relay directories of
// earlier transfers whose listener is gone (diffuser was killed) and that
// are older than ten minutes (a concurrent transfer may be setting up).
func (r *relay) setupScript(h *xferHost, from []string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	file := func(name, content string) {
		if !strings.HasSuffix(content, "\n") {
			content += "\n"
		}
		// One single-quoted word: no value can end it early (a
		// here-document ends at any line equal to its delimiter).
		w("printf '%%s' %s >\"$D/%s\"\n", steps.ShellQuote(content), name)
	}
	listen := ""
	if ip := net.ParseIP(h.t.Address); ip != nil {
		listen = ip.String()
	}
	w("set -eu\n")
	w("D=%s\n", r.dir)
	// dest's directory, made one component at a time (never through a
	// link in a directory another user may write), as the hop enters it.
	w("(\nd=%s s=\n%s\n)\n", steps.ShellQuote(path.Dir(r.t.a.dest)), steps.EnterOrMakeDir)
	w("umask 077\n")
	w(`now=$(date +%%s)
for o in %[1]s*; do
	[ -d "$o" ] && [ "$o" != "$D" ] || continue
	if [ -s "$o/listener.pid" ] && kill -0 "$(cat "$o/listener.pid")" 2>/dev/null; then continue; fi
	# Younger than 10 minutes: maybe another transfer still setting up.
	[ $((now - $(stat -c %%Y -- "$o"))) -ge 600 ] || continue
	rm -rf -- "$o"
done
rm -rf -- "$D"
mkdir -m 700 -- "$D"
`, relayDirPrefix)
	file("hop", hopProgram())
	file("env", hopEnv(r.t.a.dest, r.t.part, r.sshCommand()))
	file("host_key", r.hostKey)
	file("id", r.clientKey)
	opts := "restrict"
	if len(from) > 0 {
		opts = fmt.Sprintf("from=\"%s\",restrict", strings.Join(from, ","))
	}
	file("authorized_keys", opts+" "+r.clientPub)
	file("known_hosts", r.alias+" "+r.hostPub)
	w("config() {\n\tcat >\"$D/sshd_config\" <<DIFFUSER_RELAY_EOF\n%sDIFFUSER_RELAY_EOF\n}\n", r.sshdConfig(listen))
	w(`sshd=$(command -v sshd || :)
[ -n "$sshd" ] || sshd=/usr/sbin/sshd
if [ ! -x "$sshd" ]; then
	echo "no sshd on this host" >&2
	exit 5
fi
[ -d /run/sshd ] || mkdir -m 755 /run/sshd
pam=no
if [ -r /etc/shadow ]; then
	while IFS=: read -r user pw _; do
		if [ "$user" = root ]; then
			case $pw in '!'*) pam=yes ;; esac
		fi
	done </etc/shadow
fi
port=%[1]d
tries=0
while :; do
	config
	rm -f -- "$D/sshd.pid"
	nohup timeout %[2]d "$sshd" -D -f "$D/sshd_config" -E "$D/sshd.log" </dev/null >/dev/null 2>&1 &
	echo $! >"$D/listener.pid"
	i=0
	while [ ! -s "$D/sshd.pid" ] && kill -0 $! 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if [ -s "$D/sshd.pid" ]; then
		echo "listening $port"
		exit 0
	fi
	kill $! 2>/dev/null || :
	tries=$((tries + 1))
	if [ $tries -ge %[3]d ]; then
		echo "the relay's sshd did not start:" >&2
		cat "$D/sshd.log" >&2
		exit 5
	fi
	port=$((port + 1))
done
`, r.basePort, int(relayLifetime.Seconds()), relayPortTries)
	return b.String()
}

// setup installs the relay on every host in hs (in parallel) and records
// each one's listener port; a host that fails gets h.noRelay.
func (r *relay) setup(ctx context.Context, hs []*xferHost) {
	var from []string
	for _, h := range hs {
		if h.t.Address == "" {
			continue
		}
		if err := checkAddress(h.t.Address); err != nil {
			// Checked where it entered (site file, provider answer, state);
			// a value that still is not an address gets no relay at all.
			h.noRelay = "private address: " + err.Error()
			continue
		}
		from = append(from, h.t.Address)
	}
	parallel(hs, func(h *xferHost) {
		sctx, cancel := context.WithTimeout(ctx, relaySetupTimeout)
		defer cancel()
		if h.noRelay != "" {
			return
		}
		h.relaySetup = true
		script := r.setupScript(h, from)
		res, err := h.t.Runner.Run(sctx, "sh -s", runner.Options{Stdin: strings.NewReader(script)})
		if err != nil {
			h.noRelay = "installing the relay: " + err.Error()
			return
		}
		if res.Exit != 0 {
			h.noRelay = steps.ExitError("installing the relay", "sh -s", res).Error()
			return
		}
		for _, line := range strings.Split(res.Stdout, "\n") {
			if p, ok := strings.CutPrefix(line, "listening "); ok {
				h.port, _ = strconv.Atoi(strings.TrimSpace(p))
			}
		}
		if h.port == 0 {
			h.noRelay = fmt.Sprintf("installing the relay: unexpected output %s", runner.QuoteOutput(res.Stdout))
		}
	})
}

// cleanup stops every listener and hop of the transfer and removes its
// directory, also after a failure or cancellation (with a context of its own).
func (r *relay) cleanup(ctx context.Context, hs []*xferHost) {
	ctx = context.WithoutCancel(ctx)
	cmd := fmt.Sprintf(`D=%s
if [ -d "$D" ]; then
	for f in "$D"/pgid.*; do
		[ -s "$f" ] || continue
		pg=$(cat "$f")
		case "$(tr '\0' ' ' <"/proc/$pg/cmdline" 2>/dev/null)" in *"$D"*) kill -TERM -"$pg" 2>/dev/null ;; esac
	done
	[ -s "$D/listener.pid" ] && kill -TERM "$(cat "$D/listener.pid")" 2>/dev/null
	rm -rf -- "$D"
fi
true`, r.dir)
	parallel(hs, func(h *xferHost) {
		if !h.relaySetup || h.dead {
			return // a dead host's listener ends with its lifetime, or is swept by the next transfer
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, _ = h.t.Runner.Run(cctx, cmd, runner.Options{})
	})
}

// checkAddress accepts an IP address or a host name (letters, digits,
// '.', '-', '_', not starting with '-'): what goes into the relay's plan
// files and its authorized_keys from="..." list. Addresses are checked
// where they enter (site files, provider answers, state); this keeps a
// value that slipped through from becoming a shell word or a key option.
// An IPv6 zone, any text to netip, is held to an interface name.
func checkAddress(a string) error {
	if ip, err := netip.ParseAddr(a); err == nil {
		if z := ip.Zone(); strings.Trim(z, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
			return fmt.Errorf("%q: the zone %q is not an interface name", a, z)
		}
		return nil
	}
	ok := a != "" && len(a) <= 253 && a[0] != '-'
	for i := 0; ok && i < len(a); i++ {
		c := a[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
	}
	if !ok {
		return fmt.Errorf("%q is neither an IP address nor a host name", a)
	}
	return nil
}

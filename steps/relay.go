package steps

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
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

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

// sshdConfig is the listener's configuration; $port is filled in by the
// setup script (an unquoted here-document: nothing else here may expand).
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
UsePAM no
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
// earlier transfers whose listener is gone (diffuser was killed).
func (r *relay) setupScript(h *xferHost, from []string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	file := func(name, content string) {
		if !strings.HasSuffix(content, "\n") {
			content += "\n"
		}
		w("cat >\"$D/%s\" <<'DIFFUSER_RELAY_EOF'\n%sDIFFUSER_RELAY_EOF\n", name, content)
	}
	listen := ""
	if ip := net.ParseIP(h.t.Address); ip != nil {
		listen = ip.String()
	}
	w("set -eu\n")
	w("D=%s\n", r.dir)
	w("mkdir -p -- %s\n", shellQuote(path.Dir(r.t.a.dest)))
	w("umask 077\n")
	w(`for o in %[1]s*; do
	[ -d "$o" ] && [ "$o" != "$D" ] || continue
	if [ -s "$o/listener.pid" ] && kill -0 "$(cat "$o/listener.pid")" 2>/dev/null; then continue; fi
	rm -rf -- "$o"
done
rm -rf -- "$D"
mkdir -m 700 -- "$D"
`, relayDirPrefix)
	file("hop", hopScript)
	file("env", fmt.Sprintf("PART=%s\nDEST=%s\nSSH='%s'\n", shellQuote(r.t.part), shellQuote(r.t.a.dest), r.sshCommand()))
	file("host_key", r.hostKey)
	file("id", r.clientKey)
	file("authorized_keys", fmt.Sprintf("from=\"%s\",restrict %s", strings.Join(from, ","), r.clientPub))
	file("known_hosts", r.alias+" "+r.hostPub)
	w("config() {\n\tcat >\"$D/sshd_config\" <<DIFFUSER_RELAY_EOF\n%sDIFFUSER_RELAY_EOF\n}\n", r.sshdConfig(listen))
	w(`sshd=$(command -v sshd || :)
[ -n "$sshd" ] || sshd=/usr/sbin/sshd
if [ ! -x "$sshd" ]; then
	echo "no sshd on this host" >&2
	exit 5
fi
[ -d /run/sshd ] || mkdir -m 755 /run/sshd
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
		if h.t.Address != "" {
			from = append(from, h.t.Address)
		}
	}
	parallel(hs, func(h *xferHost) {
		sctx, cancel := context.WithTimeout(ctx, relaySetupTimeout)
		defer cancel()
		h.relaySetup = true
		script := r.setupScript(h, from)
		res, err := h.t.Runner.Run(sctx, "sh -s", RunOpts{Stdin: strings.NewReader(script)})
		if err != nil {
			h.noRelay = "installing the relay: " + err.Error()
			return
		}
		if res.Exit != 0 {
			h.noRelay = exitError("installing the relay", "sh -s", res).Error()
			return
		}
		for _, line := range strings.Split(res.Stdout, "\n") {
			if p, ok := strings.CutPrefix(line, "listening "); ok {
				h.port, _ = strconv.Atoi(strings.TrimSpace(p))
			}
		}
		if h.port == 0 {
			h.noRelay = fmt.Sprintf("installing the relay: unexpected output %q", res.Stdout)
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
		_, _ = h.t.Runner.Run(cctx, cmd, RunOpts{})
	})
}

// rounds runs relay rounds until every host in hs holds the file or has
// failed. Each round plans a tree over the hosts still in need, writes
// every participant's plan, feeds the root (from a host holding the whole
// file, else from the operator) and reads back what each host now holds.
//
// A host that got nothing from a live parent that had bytes for it (its
// listener unreachable from the other hosts, say) is handed to toDirect,
// which sends it the file from the operator.
func (r *relay) rounds(ctx context.Context, hs []*xferHost, toDirect func(h *xferHost)) {
	maxRounds := 2*len(hs) + 4
	for {
		var need []relayNode
		var sources []*xferHost
		for _, h := range hs {
			switch {
			case h.err != nil || h.direct:
			case h.done:
				if h.noRelay == "" && h.ssh && !h.dead {
					sources = append(sources, h)
				}
			default:
				need = append(need, relayNode{host: h.i, have: h.have})
			}
		}
		if len(need) == 0 {
			return
		}
		if err := r.t.fatalErr(); err != nil {
			for _, n := range need {
				r.t.hosts[n.host].err = err
			}
			return
		}
		if ctx.Err() != nil || r.round >= maxRounds {
			for _, n := range need {
				h := r.t.hosts[n.host]
				h.err = fmt.Errorf("relay gave up after %d rounds: %s", r.round, h.lastProblem(ctx))
			}
			return
		}
		r.round++
		src := -1
		if len(sources) > 0 {
			src = sources[0].i
		}
		p := planRound(need, src, r.t.a.fanout)
		if !r.runRound(ctx, p, toDirect) {
			for _, n := range need {
				h := r.t.hosts[n.host]
				if h.err == nil && !h.done {
					h.err = fmt.Errorf("relay made no progress in round %d: %s", r.round, h.lastProblem(ctx))
				}
			}
			return
		}
	}
}

// runRound runs one planned round and reports whether anything moved
// forward (bytes arrived, a host completed, a dead host was found out, a
// host went to a direct transfer).
func (r *relay) runRound(ctx context.Context, p roundPlan, toDirect func(h *xferHost)) bool {
	t := r.t
	round := r.round
	var parts []*xferHost
	for _, i := range p.order {
		parts = append(parts, t.hosts[i])
	}
	size, sizeKnown := t.knownSize()
	// 1. Plans.
	addr := func(i int) string { return t.hosts[i].t.Address }
	port := func(i int) int { return t.hosts[i].port }
	progress := false
	parallel(parts, func(h *xferHost) {
		lines := p.planFile(h.i, addr, port)
		var note string
		switch {
		case p.fromSource && h.i == p.root:
			note = fmt.Sprintf("relay round %d: sending from the complete copy here, from byte %d", round, p.start[h.i])
		case p.start[h.i] > 0 && p.start[h.i] == h.have:
			note = fmt.Sprintf("relay round %d: resuming at offset %d (%s already here are not sent again)", round, h.have, formatBytes(h.have))
		case p.start[h.i] < h.have:
			note = fmt.Sprintf("relay round %d: keeping %d of the %d bytes here; the rest comes again from another host", round, p.start[h.i], h.have)
		default:
			note = fmt.Sprintf("relay round %d: receiving from byte 0", round)
		}
		if par, ok := p.parent[h.i]; ok {
			note += " from " + t.hosts[par].t.Host
		} else if !p.fromSource {
			note += " from the operator"
		}
		if n := len(p.children[h.i]); n > 0 {
			var names []string
			for _, c := range p.children[h.i] {
				names = append(names, t.hosts[c].t.Host)
			}
			note += ", passing it on to " + strings.Join(names, ", ")
		}
		quoted := make([]string, len(lines))
		for i, l := range lines {
			quoted[i] = shellQuote(l)
		}
		cmd := fmt.Sprintf("printf '%%s\\n' %s >%s/plan.%d && echo %s", strings.Join(quoted, " "), r.dir, round, shellQuote(note))
		pctx, cancel := context.WithTimeout(ctx, relayAliveTimeout)
		defer cancel()
		if _, err := mustRun(pctx, h.t.Runner, "writing the relay plan", cmd); err != nil {
			h.problem = err.Error()
			h.dead = true
		}
	})
	for _, h := range parts {
		if h.dead {
			r.lost(h)
			progress = true
		}
	}
	if progress {
		return true // plan again without the hosts that did not answer
	}
	// 2. Feed the root; the round ends when every reachable hop has.
	root := t.hosts[p.root]
	var feedErr error
	if p.fromSource {
		_, feedErr = mustRun(ctx, root.t.Runner, "relaying from "+root.t.Host, fmt.Sprintf("sh %s/hop %d", r.dir, round))
	} else {
		feedErr = t.feed(ctx, root, p.start[p.root], fmt.Sprintf("sh %s/hop %d", r.dir, round), "relaying to "+root.t.Host)
	}
	if feedErr != nil {
		root.problem = feedErr.Error()
	}
	if ctx.Err() != nil {
		return false // interrupted: the parts stay for the next transfer to resume
	}
	// 3. What each participant holds now.
	st := map[int]*relayStatus{}
	var mu sync.Mutex
	statusCmd := fmt.Sprintf(`D=%[1]s
R=%[2]d
if [ -s "$D/pgid.$R" ]; then
	pg=$(cat "$D/pgid.$R")
	i=0
	while kill -0 -"$pg" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -ge %[3]d ]; then
			kill -KILL -"$pg" 2>/dev/null
			sleep 1
			break
		fi
		sleep 0.1
	done
fi
echo "part $(stat -c %%s -- %[4]s 2>/dev/null || echo 0)"
if [ -s "$D/sum.$R" ]; then echo "sum $(cat "$D/sum.$R")"; fi
for f in "$D"/ssh.$R.*.log; do
	if [ -s "$f" ]; then
		n=${f##*/ssh.$R.}
		echo "ssh ${n%%.log} $(tr '\n' ' ' <"$f" | head -c 300)"
	fi
done`, r.dir, round, relayHopWait*10, shellQuote(t.part))
	parallel(parts, func(h *xferHost) {
		s := &relayStatus{ssh: map[int]string{}}
		// A quick question first: a host that is gone must not hold the
		// round up for the runner's whole connect-retry time.
		actx, cancel := context.WithTimeout(ctx, relayAliveTimeout)
		_, err := mustRun(actx, h.t.Runner, "reaching the host", "true")
		cancel()
		if err != nil {
			s.err = err
			mu.Lock()
			st[h.i] = s
			mu.Unlock()
			return
		}
		sctx, cancel := context.WithTimeout(ctx, relayProbeTimeout)
		defer cancel()
		res, err := mustRun(sctx, h.t.Runner, "reading the relay's progress", statusCmd)
		if err != nil {
			s.err = err
		}
		for _, line := range strings.Split(res.Stdout, "\n") {
			k, v, _ := strings.Cut(line, " ")
			switch k {
			case "part":
				s.size, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			case "sum":
				if f := strings.Fields(v); len(f) > 0 && isHexDigest(f[0]) {
					s.sum = f[0]
				}
			case "ssh":
				ns, msg, _ := strings.Cut(v, " ")
				if n, err := strconv.Atoi(ns); err == nil {
					s.ssh[n] = strings.TrimSpace(msg)
				}
			}
		}
		mu.Lock()
		st[h.i] = s
		mu.Unlock()
	})
	// Complaints of a parent's ssh explain a child that got nothing.
	for par, cs := range p.children {
		if s := st[par]; s != nil {
			for k, c := range cs {
				if msg := s.ssh[k+1]; msg != "" {
					t.hosts[c].problem = fmt.Sprintf("%s could not pass the file on to it: %s", t.hosts[par].t.Host, msg)
				}
			}
		}
	}
	if !sizeKnown {
		size, sizeKnown = t.knownSize()
	}
	var toFinish []*xferHost
	for _, h := range parts {
		if s := st[h.i]; s.err != nil {
			h.problem = s.err.Error()
			r.lost(h)
			progress = true
		}
	}
	for _, h := range parts {
		s := st[h.i]
		if h.dead || h.done { // lost, or the source
			continue
		}
		start := p.start[h.i]
		if s.size > start {
			progress = true
		} else if r.starved(p, h, st[p.parent[h.i]], feedErr) {
			// Its parent lived and had bytes for it, and none arrived.
			h.direct = true
			progress = true
			toDirect(h)
			continue
		}
		h.have = s.size
		h.streamSum = ""
		if start == 0 {
			h.streamSum = s.sum
		}
		if sizeKnown && h.have >= size {
			toFinish = append(toFinish, h)
		}
	}
	parallel(toFinish, func(h *xferHost) {
		t.finalize(ctx, h)
		if h.done || h.err != nil {
			mu.Lock()
			progress = true
			mu.Unlock()
		}
	})
	return progress
}

// starved says whether h got nothing although its feeder was able to
// send: a live parent holding bytes beyond where h's stream began, or, for
// the root, an operator stream that went through.
func (r *relay) starved(p roundPlan, h *xferHost, parent *relayStatus, feedErr error) bool {
	par, ok := p.parent[h.i]
	if !ok {
		return feedErr == nil
	}
	ph := r.t.hosts[par]
	if ph.dead || parent == nil {
		return false
	}
	return ph.done || parent.size > p.start[h.i]
}

// lost marks a host that stopped answering during the transfer.
func (r *relay) lost(h *xferHost) {
	h.dead = true
	if h.done {
		return // it holds its copy; it just cannot serve as a source any more
	}
	h.err = fmt.Errorf("stopped answering during the relay (round %d): %s; the other hosts went on without it", r.round, h.problem)
}

// relayStatus is what a participant holds after a round.
type relayStatus struct {
	size int64
	sum  string
	ssh  map[int]string // child index (1-based) -> its ssh's complaint
	err  error
}

// parallel runs f for every host at once and waits.
func parallel(hs []*xferHost, f func(h *xferHost)) {
	var wg sync.WaitGroup
	for _, h := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(h)
		}()
	}
	wg.Wait()
}

package distribute

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"diffuser/runner"
	"diffuser/steps"

	"github.com/dustin/go-humanize"
)

// directAttempts is how often a direct transfer to one host is tried (each
// retry resumes from what the host already has).
const directAttempts = 3

// transfer is one distribute step applied to its hosts.
type transfer struct {
	a     distArgs
	art   artifact
	key   string // the part file's tag
	part  string
	dig   *digester
	hosts []*xferHost
	// sent counts the bytes read from the source to stream to hosts (not
	// the digest's own catch-up reads): what crossed the operator's link.
	sent atomic.Int64

	sum  string // set by run when the digest is known
	size int64

	digMu sync.Mutex // serializes digest
	mu    sync.Mutex
	fatal error // the source itself is wrong: no host can succeed
}

// xferHost is one target and what is known about it. A host's fields are
// written by one goroutine at a time (the phases run hosts in parallel,
// never the same host twice at once).
type xferHost struct {
	i    int
	t    steps.Target
	dest destFacts
	have int64 // bytes in the part file
	ssh  bool  // has the ssh client (can pass the file on)

	relaySetup bool   // relay files may be on the host: clean up
	noRelay    string // why this host cannot take part in the relay
	port       int    // its relay listener

	streamSum  string // sha256 of the last stream that began at byte 0
	direct     bool   // taken out of the relay: the operator sends to it
	mismatches int
	problem    string // the last thing that went wrong, for the final error
	dead       bool
	done       bool
	err        error
}

func newTransfer(a distArgs, art artifact, targets []steps.Target) *transfer {
	t := &transfer{a: a, art: art, dig: newDigester()}
	t.key = partKey(art, a.sha256)
	t.part = a.partPath(t.key)
	for i, tg := range targets {
		t.hosts = append(t.hosts, &xferHost{i: i, t: tg})
	}
	return t
}

func (t *transfer) fatalErr() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fatal
}

func (t *transfer) setFatal(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fatal == nil {
		t.fatal = err
	}
}

// knownSize is the source's size when known yet.
func (t *transfer) knownSize() (int64, bool) {
	if n := t.art.size(); n >= 0 {
		return n, true
	}
	_, n, ok := t.dig.result()
	return n, ok
}

// digest returns the digest every copy must have and the source's size.
// With sha256 given that is the digest (compared with the operator's own
// when it hashed the whole source anyway); else the operator's digest of
// the source, completed by reading what was not streamed (a resumed
// transfer's prefix: a local read for a file, a download for a URL). One
// caller at a time: concurrent finalizers share one catch-up read.
func (t *transfer) digest(ctx context.Context) (string, int64, error) {
	t.digMu.Lock()
	defer t.digMu.Unlock()
	if err := t.fatalErr(); err != nil {
		return "", 0, err
	}
	sum, size, ok := t.dig.result()
	if !ok && t.a.sha256 != "" && t.art.size() >= 0 {
		return t.a.sha256, t.art.size(), nil
	}
	if !ok {
		var err error
		if sum, size, err = t.dig.complete(ctx, t.art); err != nil {
			t.setFatal(err)
			return "", 0, err
		}
	}
	if t.a.sha256 != "" && sum != t.a.sha256 {
		err := fmt.Errorf("source %s has sha256 %s, but the step says sha256 = %q", t.art, sum, t.a.sha256)
		t.setFatal(err)
		return "", 0, err
	}
	rememberDigest(t.art.id(), sum, size)
	return sum, size, nil
}

// checkSource, when the wanted digest is sha256 and the operator has not
// hashed the whole source, reads the rest to tell a corrupt copy from a
// source that is not what sha256 says (a fatal error).
func (t *transfer) checkSource(ctx context.Context) error {
	if t.a.sha256 == "" {
		return nil
	}
	t.digMu.Lock()
	sum, _, err := t.dig.complete(ctx, t.art)
	t.digMu.Unlock()
	if err == nil && sum != t.a.sha256 {
		err = fmt.Errorf("source %s has sha256 %s, but the step says sha256 = %q", t.art, sum, t.a.sha256)
	}
	if err != nil {
		t.setFatal(err)
	}
	return err
}

// run delivers the file to every host that does not hold it yet.
func (t *transfer) run(ctx context.Context) {
	parallel(t.hosts, func(h *xferHost) { t.probe(ctx, h) })
	t.verifyExisting(ctx)
	var need []*xferHost
	sources := 0
	for _, h := range t.hosts {
		switch {
		case h.err != nil:
		case h.done:
			sources++
		default:
			need = append(need, h)
		}
	}
	if len(need) > 0 && t.a.mode == "relay" && (len(need) > 1 || sources > 0) {
		t.relay(ctx)
	} else {
		parallel(need, func(h *xferHost) { t.direct(ctx, h) })
	}
	t.finish(ctx)
}

// relay runs the relay over every reachable host, with direct transfers
// for the hosts the relay cannot use.
func (t *transfer) relay(ctx context.Context) {
	r, err := newRelay(t)
	if err != nil {
		for _, h := range t.hosts {
			if h.err == nil && !h.done {
				h.err = fmt.Errorf("preparing the relay: %w", err)
			}
		}
		return
	}
	var hs []*xferHost
	for _, h := range t.hosts {
		if h.err == nil {
			hs = append(hs, h)
		}
	}
	defer r.cleanup(ctx, hs)
	r.setup(ctx, hs)
	var relayed, direct []*xferHost
	for _, h := range hs {
		if !h.ssh && h.noRelay == "" {
			h.noRelay = "no ssh client on the host (install openssh-client to let it relay)"
		}
		switch {
		case h.noRelay == "" || h.done:
			relayed = append(relayed, h)
		default:
			direct = append(direct, h)
		}
	}
	var wg sync.WaitGroup
	toDirect := func(h *xferHost, why string) {
		h.direct = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = h.t.Runner.Run(ctx, "echo "+steps.ShellQuote("relay unusable here ("+why+"): the operator sends the file directly"), runner.Options{})
			t.direct(ctx, h)
		}()
	}
	for _, h := range direct {
		toDirect(h, h.noRelay)
	}
	r.rounds(ctx, relayed, func(h *xferHost) { toDirect(h, "nothing arrived from the other hosts: "+h.lastProblem(ctx)) })
	wg.Wait()
}

// probeCmd prints "dest absent" or "dest SIZE MODE", then "part SIZE"
// (after removing parts of other source versions; 0 unless the part is a
// regular file of this user's: anything else at its name is made anew,
// never resumed) and "ssh yes|no"; it exits 3 when dest is not a regular
// file. It reads and removes by absolute names: rm does not follow a link
// at the name, and removes only names of diffuser's part files.
func (t *transfer) probeCmd() string {
	d, p := steps.ShellQuote(t.a.dest), steps.ShellQuote(t.part)
	return fmt.Sprintf(`if [ -f %[1]s ]; then echo "dest $(stat -L -c '%%s %%a' -- %[1]s)"; elif [ -e %[1]s ]; then echo 'not a regular file' >&2; exit 3; else echo 'dest absent'; fi; `+
		`for f in %[3]s; do if [ -f "$f" ] && [ "$f" != %[2]s ]; then rm -f -- "$f"; fi; done; `+
		`n=$(stat -c '%%F:%%u:%%s' -- %[2]s 2>/dev/null) || n=; case $n in "regular file:$(id -u):"*) echo "part ${n##*:}" ;; *) echo 'part 0' ;; esac; `+
		`if command -v ssh >/dev/null 2>&1; then echo 'ssh yes'; else echo 'ssh no'; fi`, d, p, t.a.partGlob())
}

// probe reads what h holds: dest, the part file, the ssh client.
func (t *transfer) probe(ctx context.Context, h *xferHost) {
	cmd := t.probeCmd()
	res, err := steps.Probe(ctx, h.t.Runner, "reading "+t.a.dest, cmd)
	switch {
	case err != nil:
		h.err = err
		return
	case res.Exit == 3:
		h.err = fmt.Errorf("%s exists and is not a regular file; refusing to replace it", t.a.dest)
		return
	case res.Exit != 0:
		h.err = steps.ExitError("reading "+t.a.dest, cmd, res)
		return
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "dest" && f[1] == "absent":
			seen++
		case len(f) == 3 && f[0] == "dest":
			size, err1 := strconv.ParseInt(f[1], 10, 64)
			m, err2 := strconv.ParseUint(f[2], 8, 32)
			if err1 == nil && err2 == nil {
				h.dest = destFacts{exists: true, size: size, mode: os.FileMode(m)}
				seen++
			}
		case len(f) == 2 && f[0] == "part":
			if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				h.have = n
				seen++
			}
		case len(f) == 2 && f[0] == "ssh":
			h.ssh = f[1] == "yes"
			seen++
		}
	}
	if seen != 3 {
		h.err = fmt.Errorf("reading %s: unexpected output %s", t.a.dest, runner.QuoteOutput(res.Stdout))
	}
}

// verifyExisting marks hosts whose dest already holds the content done
// (fixing the mode if needed), and drops part files larger than the source.
func (t *transfer) verifyExisting(ctx context.Context) {
	var candidates []*xferHost
	for _, h := range t.hosts {
		if h.err == nil && h.dest.exists {
			if n, ok := t.knownSize(); !ok || n == h.dest.size {
				candidates = append(candidates, h)
			}
		}
	}
	if len(candidates) > 0 {
		sum, _, err := t.digest(ctx)
		if err != nil {
			for _, h := range t.hosts {
				if h.err == nil {
					h.err = err
				}
			}
			return
		}
		parallel(candidates, func(h *xferHost) {
			got, err := t.remoteSum(ctx, h, t.a.dest)
			if err != nil || got != sum {
				return // replaced by the transfer
			}
			if h.dest.mode != t.a.fileMode {
				// Through a descriptor of dest: a link put there since the
				// hash is not followed, and the file is sent again.
				cmd := t.modeCmd()
				res, err := steps.Probe(ctx, h.t.Runner, "chmod", cmd)
				switch {
				case err != nil:
					h.err = err
					return
				case res.Exit == 5:
					return // replaced by the transfer
				case res.Exit != 0:
					h.err = steps.ExitError("chmod", cmd, res)
					return
				}
			}
			h.done = true
		})
	}
	if n, ok := t.knownSize(); ok {
		for _, h := range t.hosts {
			if h.err == nil && !h.done && h.have > n {
				if _, err := steps.MustRun(ctx, h.t.Runner, "removing a stale part file", t.removePartCmd()); err != nil {
					h.err = err
				}
				h.have = 0
			}
		}
	}
}

// remoteSum hashes a file of h.
func (t *transfer) remoteSum(ctx context.Context, h *xferHost, file string) (string, error) {
	res, err := steps.MustRun(ctx, h.t.Runner, "hashing "+file, sha256File(file))
	if err != nil {
		return "", err
	}
	f := strings.Fields(res.Stdout)
	if len(f) == 0 || !isHexDigest(f[0]) {
		return "", fmt.Errorf("hashing %s: unexpected output %s", file, runner.QuoteOutput(res.Stdout))
	}
	return f[0], nil
}

// feed streams the source from byte start into cmd's stdin on h.
func (t *transfer) feed(ctx context.Context, h *xferHost, start int64, cmd, what string) error {
	rc, err := t.art.open(ctx, start)
	if err != nil {
		t.setFatal(err)
		return err
	}
	src := &sourceReader{r: &trackingReader{r: rc, off: start, dig: t.dig, count: &t.sent}}
	_, err = steps.MustRunWith(ctx, h.t.Runner, what, cmd, runner.Options{Stdin: src})
	src.close(rc)
	if serr := src.error(); serr != nil {
		t.setFatal(fmt.Errorf("reading the source %s: %w", t.art, serr))
		return serr
	}
	return err
}

// direct streams the file from the operator to h, resuming after a
// broken connection, then verifies and installs it.
func (t *transfer) direct(ctx context.Context, h *xferHost) {
	for attempt := 1; ; attempt++ {
		if err := t.fatalErr(); err != nil {
			h.err = err
			return
		}
		start := h.have
		if start > 0 {
			_, _ = h.t.Runner.Run(ctx, "echo "+steps.ShellQuote(fmt.Sprintf("resuming at offset %d (%s already here are not sent again)", start, humanize.IBytes(uint64(start)))), runner.Options{})
		}
		cmd := t.receiveCmd(start)
		rc, err := t.art.open(ctx, start)
		if err != nil {
			t.setFatal(err)
			h.err = err
			return
		}
		src := &sourceReader{r: &trackingReader{r: rc, off: start, dig: t.dig, count: &t.sent}}
		res, err := h.t.Runner.Run(ctx, cmd, runner.Options{Stdin: src})
		src.close(rc)
		if serr := src.error(); serr != nil {
			t.setFatal(fmt.Errorf("reading the source %s: %w", t.art, serr))
			h.err = t.fatalErr()
			return
		}
		if err == nil && res.Exit != 0 {
			h.err = steps.ExitError("receiving "+t.a.dest, cmd, res)
			return
		}
		if err != nil {
			// The connection broke: ask what arrived and go on from there.
			h.problem = err.Error()
			pctx, cancel := context.WithTimeout(ctx, time.Minute)
			t.probe(pctx, h)
			cancel()
			if h.err != nil || attempt >= directAttempts || ctx.Err() != nil {
				h.err = fmt.Errorf("sending %s: %w", t.a.dest, err)
				return
			}
			continue
		}
		h.streamSum = ""
		if f := strings.Fields(res.Stdout); start == 0 && len(f) > 0 && isHexDigest(f[0]) {
			h.streamSum = f[0]
		}
		t.finalize(ctx, h)
		if h.done || h.err != nil || attempt >= directAttempts {
			if !h.done && h.err == nil {
				h.err = errors.New(h.problem)
			}
			return
		}
	}
}

// finalize checks h's complete part against the source's digest and
// renames it to dest with file_mode. A mismatch removes the part (the next
// attempt starts over); a second one fails the host.
func (t *transfer) finalize(ctx context.Context, h *xferHost) {
	sum, size, err := t.digest(ctx)
	if err != nil {
		h.err = err
		_, _ = h.t.Runner.Run(context.WithoutCancel(ctx), t.removePartCmd(), runner.Options{})
		return
	}
	got := h.streamSum
	if got == "" {
		if got, err = t.remoteSum(ctx, h, t.part); err != nil {
			h.err = err
			return
		}
	}
	if got != sum {
		h.mismatches++
		h.have = 0
		h.problem = fmt.Sprintf("checksum mismatch: %s received content with sha256 %s, want %s", h.t.Host, got, sum)
		if _, err := steps.MustRun(ctx, h.t.Runner, "removing a corrupt part file", t.removePartCmd()); err != nil {
			h.err = err
			return
		}
		if err := t.checkSource(ctx); err != nil {
			h.err = err // the source is not what sha256 says: sending again cannot help
			return
		}
		if h.mismatches >= 2 {
			h.err = errors.New(h.problem + " (twice)")
		}
		return
	}
	if _, err := steps.MustRun(ctx, h.t.Runner, "installing "+t.a.dest, t.installCmd(size)); err != nil {
		h.err = err
		return
	}
	h.done = true
}

// finish records the digest for the outputs and fails everything
// delivered if the source changed meanwhile.
func (t *transfer) finish(ctx context.Context) {
	anyDone := false
	for _, h := range t.hosts {
		if h.err == nil && !h.done {
			h.err = errors.New("not delivered: " + h.lastProblem(ctx))
		}
		anyDone = anyDone || h.done
	}
	if !anyDone {
		return
	}
	sum, size, err := t.digest(ctx)
	if err == nil {
		err = t.art.changed()
	}
	if err != nil {
		for _, h := range t.hosts {
			if h.err == nil {
				h.err = err
			}
		}
		return
	}
	t.sum, t.size = sum, size
}

// lastProblem says what last went wrong for h.
func (h *xferHost) lastProblem(ctx context.Context) string {
	switch {
	case h.problem != "":
		return h.problem
	case ctx.Err() != nil:
		return ctx.Err().Error()
	}
	return "no reason known"
}

// sourceReader remembers a read error of the source itself, as opposed
// to the transport failing, which the runner reports. Errors after close
// (the runner's copy still reading when the command ended) do not count.
type sourceReader struct {
	r      io.Reader
	mu     sync.Mutex
	err    error
	closed bool
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.mu.Lock()
		if !s.closed {
			s.err = err
		}
		s.mu.Unlock()
	}
	return n, err
}

// close closes the source under the reader.
func (s *sourceReader) close(c io.Closer) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	_ = c.Close()
}

func (s *sourceReader) error() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

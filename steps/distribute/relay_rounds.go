package distribute

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"diffuser/steps"

	"github.com/dustin/go-humanize"
)

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
			note = fmt.Sprintf("relay round %d: resuming at offset %d (%s already here are not sent again)", round, h.have, humanize.IBytes(uint64(h.have)))
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
			quoted[i] = steps.ShellQuote(l)
		}
		cmd := fmt.Sprintf("printf '%%s\\n' %s >%s/plan.%d && echo %s", strings.Join(quoted, " "), r.dir, round, steps.ShellQuote(note))
		pctx, cancel := context.WithTimeout(ctx, relayAliveTimeout)
		defer cancel()
		if _, err := steps.MustRun(pctx, h.t.Runner, "writing the relay plan", cmd); err != nil {
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
		_, feedErr = steps.MustRun(ctx, root.t.Runner, "relaying from "+root.t.Host, fmt.Sprintf("sh %s/hop %d", r.dir, round))
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
n=$(stat -c '%%F:%%u:%%s' -- %[4]s 2>/dev/null) || n=
case $n in "regular file:$(id -u):"*) echo "part ${n##*:}" ;; *) echo 'part 0' ;; esac
if [ -s "$D/sum.$R" ]; then echo "sum $(cat "$D/sum.$R")"; fi
for f in "$D"/ssh.$R.*.log; do
	if [ -s "$f" ]; then
		n=${f##*/ssh.$R.}
		echo "ssh ${n%%.log} $(tr '\n' ' ' <"$f" | head -c 300)"
	fi
done`, r.dir, round, relayHopWait*10, steps.ShellQuote(t.part))
	parallel(parts, func(h *xferHost) {
		s := &relayStatus{ssh: map[int]string{}}
		// A quick question first: a host that is gone must not hold the
		// round up for the runner's whole connect-retry time.
		actx, cancel := context.WithTimeout(ctx, relayAliveTimeout)
		_, err := steps.MustRun(actx, h.t.Runner, "reaching the host", "true")
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
		res, err := steps.MustRun(sctx, h.t.Runner, "reading the relay's progress", statusCmd)
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
		complete := sizeKnown && s.size >= size
		if s.size > start {
			progress = true
		} else if !complete && r.starved(p, h, st[p.parent[h.i]], feedErr) {
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
		if complete {
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

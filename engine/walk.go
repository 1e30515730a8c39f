package engine

import "context"

// vstatus is a vertex's state during a walk.
type vstatus uint8

const (
	vPending vstatus = iota
	vRunning
	vOK
	vFailed
	vSkipped
)

// task is one vertex handed to the walker.
type task struct {
	v int32
	// inline tasks need no concurrency slot (joins, no-ops).
	inline bool
	// lock is a per-host lock key ("" = none): never two holders at once.
	lock string
}

// walker runs the instance graph: ready vertices run concurrently, bounded
// by parallelism; a slot is taken only around real work, never while a
// vertex waits for its prerequisites or for a host lock. A vertex whose
// prerequisite failed is skipped, not failed. All scheduling state is
// owned by the loop in run: workers report back on a channel.
type walker struct {
	g           *Instances
	parallelism int
	classify    func(v int32) task
	exec        func(ctx context.Context, v int32) error
	stop        <-chan struct{} // soft stop: start nothing new
	onSkip      func(v int32, why string)
	// priority orders ready vertices (highest first; nil: the latest
	// ready first): Instances.Heights, the longest chain still to run.
	priority []int32

	status []vstatus
}

type doneMsg struct {
	v   int32
	err error
}

func (w *walker) run(ctx context.Context) {
	g := w.g
	n := g.NumVertices()
	w.status = make([]vstatus, n)
	deg := make([]int32, n)
	copy(deg, g.InDeg)
	depFailed := make([]bool, n)
	ready := &readyQueue{prio: w.priority}
	for v := int32(0); v < int32(n); v++ {
		if deg[v] == 0 {
			ready.push(v)
		}
	}
	locks := map[string]bool{}
	waiting := map[string][]int32{}
	lockOf := map[int32]string{}
	results := make(chan doneMsg, 4096)
	// Workers are reused: a goroutine whose stack has grown to what an
	// evaluation needs keeps it, instead of every vertex starting a fresh
	// goroutine and growing its stack again (that was a sixth of a
	// 100,000-instance walk's CPU). idle counts workers that reported and
	// are waiting for the next vertex. Both channels are buffered so that a
	// burst (a thousand mounts ready at once) is handed out without the
	// scheduler waiting on each worker, nor workers on the scheduler.
	tasks := make(chan int32, 4096)
	defer close(tasks)
	idle := 0
	worker := func(v int32) {
		for {
			results <- doneMsg{v: v, err: w.exec(ctx, v)}
			var ok bool
			if v, ok = <-tasks; !ok {
				return
			}
		}
	}
	running := 0
	finished := 0
	stopped := false
	ctxDone := ctx.Done()

	complete := func(v int32, st vstatus) {
		w.status[v] = st
		finished++
		for _, d := range g.Out(v) {
			if st != vOK {
				depFailed[d] = true
			}
			if deg[d]--; deg[d] == 0 {
				ready.push(d)
			}
		}
	}
	release := func(key string) {
		if key == "" {
			return
		}
		if q := waiting[key]; len(q) > 0 {
			// Hand the lock straight to the next waiter.
			ready.push(q[0])
			lockOf[q[0]] = key
			waiting[key] = q[1:]
			return
		}
		delete(locks, key)
	}

	for finished < n {
		for ready.len() > 0 {
			if !stopped && w.stop != nil {
				select {
				case <-w.stop:
					stopped = true
				default:
				}
			}
			if ctx.Err() != nil {
				stopped = true
			}
			v := ready.peek()
			if depFailed[v] || stopped {
				ready.pop()
				if k, held := lockOf[v]; held {
					delete(lockOf, v)
					release(k)
				}
				if w.onSkip != nil {
					why := "a prerequisite failed"
					if stopped {
						// Also when a prerequisite failed: the stop
						// cancelled what was running, and that is why.
						why = "apply was stopped"
					}
					w.onSkip(v, why)
				}
				complete(v, vSkipped)
				continue
			}
			t := w.classify(v)
			if t.inline {
				ready.pop()
				err := w.exec(ctx, v)
				if err != nil {
					complete(v, vFailed)
				} else {
					complete(v, vOK)
				}
				continue
			}
			if t.lock != "" {
				if _, mine := lockOf[v]; !mine {
					if locks[t.lock] {
						ready.pop()
						waiting[t.lock] = append(waiting[t.lock], v)
						continue
					}
					locks[t.lock] = true
					lockOf[v] = t.lock
				}
			}
			if w.parallelism > 0 && running >= w.parallelism {
				break
			}
			ready.pop()
			running++
			w.status[v] = vRunning
			if idle > 0 {
				idle--
				tasks <- v
			} else {
				go worker(v)
			}
		}
		if finished >= n {
			break
		}
		if running == 0 && ready.len() == 0 {
			// Nothing runs and nothing is ready, yet vertices remain: only
			// possible on a cycle, which Expand rules out. Skip the rest
			// rather than hang.
			for v := int32(0); v < int32(n); v++ {
				if w.status[v] == vPending {
					if w.onSkip != nil {
						w.onSkip(v, "internal error: the walk stalled")
					}
					w.status[v] = vSkipped
				}
			}
			break
		}
		var m doneMsg
		select {
		case m = <-results:
		case <-w.stop:
			stopped = true
			w.stop = nil
			continue
		case <-ctxDone:
			stopped = true
			ctxDone = nil
			continue
		}
		running--
		idle++
		if k, held := lockOf[m.v]; held {
			delete(lockOf, m.v)
			release(k)
		}
		if m.err != nil {
			complete(m.v, vFailed)
		} else {
			complete(m.v, vOK)
		}
	}
}

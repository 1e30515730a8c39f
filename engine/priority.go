package engine

import (
	"container/heap"
	"context"
	"sync"
)

// Heights are, for every vertex of the instance graph, the most launches
// and step instances on a chain from it to the end of the apply, itself
// included: how much is still to run after it starts, as far as the
// engine can know before anything ran. The walker starts ready vertices
// with the greatest height first, and connect slots go to the waiting
// host whose vertex has the greatest height, so that a thousand clients
// reached at once do not make the servers, whose chain is longer, wait
// behind them. O(V+E).
func (g *Instances) Heights() []int32 {
	h := make([]int32, g.NumVertices())
	for i := len(g.Order) - 1; i >= 0; i-- {
		v := g.Order[i]
		var most int32
		for _, w := range g.Out(v) {
			most = max(most, h[w])
		}
		if g.Kind[v] == VLaunch || g.Kind[v] == VStep {
			most++
		}
		h[v] = most
	}
	return h
}

// prioSlots is a counting semaphore whose waiters are served highest
// priority first, and in arrival order among equals. nil is unlimited.
type prioSlots struct {
	mu      sync.Mutex
	free    int
	seq     uint64
	waiters waitHeap
}

func newPrioSlots(n int) *prioSlots {
	if n <= 0 {
		return nil
	}
	return &prioSlots{free: n}
}

type slotWaiter struct {
	prio    int32
	seq     uint64
	ready   chan struct{}
	granted bool
	index   int // in the heap, -1 once out of it
}

func (s *prioSlots) acquire(ctx context.Context, prio int32) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	if s.free > 0 && len(s.waiters) == 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	s.seq++
	w := &slotWaiter{prio: prio, seq: s.seq, ready: make(chan struct{})}
	heap.Push(&s.waiters, w)
	s.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		granted := w.granted
		if !granted {
			heap.Remove(&s.waiters, w.index)
		}
		s.mu.Unlock()
		if granted { // handed over as ctx ended: pass it on
			s.release()
		}
		return ctx.Err()
	}
}

func (s *prioSlots) release() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiters) == 0 {
		s.free++
		return
	}
	w := heap.Pop(&s.waiters).(*slotWaiter)
	w.granted = true
	close(w.ready)
}

// waitHeap orders waiters by priority (highest first), then arrival.
type waitHeap []*slotWaiter

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	if h[i].prio != h[j].prio {
		return h[i].prio > h[j].prio
	}
	return h[i].seq < h[j].seq
}
func (h waitHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waitHeap) Push(x any) {
	w := x.(*slotWaiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}

// readyQueue holds the walker's ready vertices: the one of the highest
// priority first, the latest pushed among equals (without priorities, a
// stack).
type readyQueue struct {
	prio []int32 // by vertex; nil: all equal
	seq  uint64
	h    []readyItem
}

type readyItem struct {
	v   int32
	seq uint64
}

func (q *readyQueue) len() int { return len(q.h) }

func (q *readyQueue) less(i, j int) bool { // i comes out before j
	a, b := q.h[i], q.h[j]
	if q.prio != nil && q.prio[a.v] != q.prio[b.v] {
		return q.prio[a.v] > q.prio[b.v]
	}
	return a.seq > b.seq
}

func (q *readyQueue) push(v int32) {
	q.seq++
	q.h = append(q.h, readyItem{v: v, seq: q.seq})
	for i := len(q.h) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

// peek is the vertex pop would return; the queue must not be empty.
func (q *readyQueue) peek() int32 { return q.h[0].v }

func (q *readyQueue) pop() int32 {
	v := q.h[0].v
	last := len(q.h) - 1
	q.h[0] = q.h[last]
	q.h = q.h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(q.h) && q.less(l, m) {
			m = l
		}
		if r < len(q.h) && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return v
}

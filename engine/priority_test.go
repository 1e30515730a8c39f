package engine

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPrioSlotsServeHighestPriorityFirst(t *testing.T) {
	s := newPrioSlots(1)
	ctx := context.Background()
	if err := s.acquire(ctx, 0); err != nil { // the only slot
		t.Fatal(err)
	}
	got := make(chan int32, 4)
	for i, p := range []int32{1, 5, 3, 5} {
		go func() {
			if err := s.acquire(ctx, p); err != nil {
				t.Error(err)
				return
			}
			got <- p*10 + int32(i)
			s.release()
		}()
		waitWaiters(t, s, i+1) // arrival order is the tie-break
	}
	s.release()
	var order []int32
	for range 4 {
		order = append(order, <-got)
	}
	// Priority 5 twice (the first arrival first), then 3, then 1.
	if want := []int32{51, 53, 32, 10}; !slices.Equal(order, want) {
		t.Fatalf("served %v, want %v", order, want)
	}
	// The last one gives its slot back after reporting: wait for it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		free, waiting := s.free, len(s.waiters)
		s.mu.Unlock()
		if free == 1 && waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after all released: %d free, %d waiting", free, waiting)
		}
	}
}

func TestPrioSlotsCancelledWaiterLeaves(t *testing.T) {
	s := newPrioSlots(1)
	if err := s.acquire(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- s.acquire(ctx, 9) }()
	waitWaiters(t, s, 1)
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("a cancelled wait returned a slot")
	}
	s.release()
	s.mu.Lock()
	free, waiting := s.free, len(s.waiters)
	s.mu.Unlock()
	if free != 1 || waiting != 0 {
		t.Fatalf("%d free, %d waiting; want 1 and 0", free, waiting)
	}
	var none *prioSlots // unlimited
	if err := none.acquire(ctx, 0); err != nil {
		t.Fatal(err)
	}
	none.release()
}

func waitWaiters(t *testing.T, s *prioSlots, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		s.mu.Lock()
		k := len(s.waiters)
		s.mu.Unlock()
		if k == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters, want %d", k, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestReadyQueueOrder(t *testing.T) {
	prio := []int32{0, 3, 1, 3, 2}
	q := &readyQueue{prio: prio}
	for _, v := range []int32{0, 1, 2, 3, 4} {
		q.push(v)
	}
	var got []int32
	for q.len() > 0 {
		got = append(got, q.pop())
	}
	// Highest first; among the two of priority 3 the later pushed.
	if want := []int32{3, 1, 4, 2, 0}; !slices.Equal(got, want) {
		t.Fatalf("popped %v, want %v", got, want)
	}
	// Without priorities: a stack.
	q = &readyQueue{}
	for v := range int32(5) {
		q.push(v)
	}
	got = got[:0]
	for q.len() > 0 {
		got = append(got, q.pop())
	}
	if want := []int32{4, 3, 2, 1, 0}; !slices.Equal(got, want) {
		t.Fatalf("popped %v, want %v", got, want)
	}
	// Against a sort, with pushes and pops interleaved.
	r := rand.New(rand.NewPCG(1, 2))
	prio = make([]int32, 1000)
	for i := range prio {
		prio[i] = r.Int32N(20)
	}
	q = &readyQueue{prio: prio}
	var model []readyItem
	var seq uint64
	for v := int32(0); v < 1000; v++ {
		seq++
		q.push(v)
		model = append(model, readyItem{v: v, seq: seq})
		if r.IntN(3) == 0 {
			best := 0
			for i, it := range model {
				b := model[best]
				if prio[it.v] > prio[b.v] || prio[it.v] == prio[b.v] && it.seq > b.seq {
					best = i
				}
			}
			if got, want := q.pop(), model[best].v; got != want {
				t.Fatalf("popped %d, want %d", got, want)
			}
			model = slices.Delete(model, best, best+1)
		}
	}
}

package main

import "sync"

// window bounds the bytes in flight on one direction of one connection, like
// a TCP window: a byte holds its credit from the moment it is read until a
// full round trip later (released after the one-way delay, then "acknowledged"
// after another), so one connection moves at most window/rtt bytes per second.
type window struct {
	mu     sync.Mutex
	cond   *sync.Cond
	avail  int
	closed bool
}

func newWindow(size int) *window {
	w := &window{avail: size}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// acquire waits for some credit and takes up to max of it; 0 once closed.
func (w *window) acquire(max int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.avail == 0 && !w.closed {
		w.cond.Wait()
	}
	if w.closed {
		return 0
	}
	n := min(max, w.avail)
	w.avail -= n
	return n
}

func (w *window) release(n int) {
	if n <= 0 {
		return
	}
	w.mu.Lock()
	w.avail += n
	w.mu.Unlock()
	w.cond.Broadcast()
}

func (w *window) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cond.Broadcast()
}

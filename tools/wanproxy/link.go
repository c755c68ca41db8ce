package main

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// chunkSize is the largest read and write: small enough that a cap of a few
// MB/s is smooth at the 20 ms scale, large enough to keep timer wake-ups few.
// The proxy costs ~2.5 CPU s per GB forwarded on a loaded 2-core VM (32 KiB
// chunks: 2.7), mostly goroutine scheduling; the WAN bench prints its share.
const chunkSize = 64 * 1024

// sniffMax is how much of a response head is read to find its Content-Length.
const sniffMax = 64 * 1024

// resetFallbackSpan is where a doomed connection is reset when its first
// response has no Content-Length (chunked CAR streams): within its first MiB.
const resetFallbackSpan = 1 << 20

var bufPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

type chunk struct {
	buf *[]byte
	n   int
	at  time.Time
}

// link is one client connection and its upstream twin, with the WAN between them.
type link struct {
	l        *listener
	s        Settings
	client   *net.TCPConn
	upstream *net.TCPConn
	done     chan struct{}
	once     sync.Once

	mu       sync.Mutex
	finished int // directions that ended (EOF forwarded, or the response side stalled)
}

// close ends both sockets; with reset the client gets an RST (SO_LINGER 0)
// instead of a FIN, which is what a dropped middlebox or crashed server looks like.
func (k *link) close(reset bool) {
	k.once.Do(func() {
		if reset {
			_ = k.client.SetLinger(0)
		}
		_ = k.client.Close()
		if k.upstream != nil {
			_ = k.upstream.Close()
		}
		close(k.done)
	})
}

// finish marks one direction as ended; the link closes when both have. A
// stalled response counts as ended so that the client hanging up tears it down.
func (k *link) finish() {
	k.mu.Lock()
	k.finished++
	both := k.finished == 2
	k.mu.Unlock()
	if both {
		k.close(false)
	}
}

func (k *link) serve(accepted time.Time) {
	st := &k.l.stats
	delay := time.Duration(k.s.RTTMs * float64(time.Millisecond) / 2)
	var handshakeDone time.Time
	if !k.s.NoHandshake {
		// A real connection costs a round trip (SYN, SYN-ACK) before the
		// request can leave; loopback's connect is instant, so the request is held back by one RTT.
		handshakeDone = accepted.Add(2 * delay)
	}
	f := &faults{cutAt: -1, stallAt: -1, resetAt: -1}
	if k.s.CutAfter > 0 {
		f.cutAt = k.s.CutAfter
	}
	if k.s.StallAfter > 0 {
		f.stallAt = k.s.StallAfter
	}
	f.doomed = k.s.ResetProb > 0 && rand.Float64() < k.s.ResetProb
	win := k.s.Window
	if win <= 0 {
		win = defaultWindow
	}
	up := &pipe{k: k, src: k.client, dst: k.upstream, delay: delay, notBefore: handshakeDone, win: newWindow(win), counter: &st.BytesUp}
	down := &pipe{k: k, src: k.upstream, dst: k.client, delay: delay, win: newWindow(win), connCap: newTokenBucket(k.s.ConnRate), totalCap: k.l.total, faults: f, counter: &st.BytesDown}
	go up.run()
	go down.run()
	<-k.done
	up.win.close()
	down.win.close()
}

type pipe struct {
	k         *link
	src, dst  *net.TCPConn
	delay     time.Duration
	notBefore time.Time
	win       *window
	connCap   *tokenBucket
	totalCap  *tokenBucket
	faults    *faults
	counter   *atomic.Int64
}

func (p *pipe) run() {
	ch := make(chan chunk, 1024)
	var eof bool
	go func() {
		defer close(ch)
		for {
			want := p.win.acquire(chunkSize)
			if want == 0 {
				return
			}
			bp := bufPool.Get().(*[]byte)
			n, err := p.src.Read((*bp)[:want])
			p.win.release(want - n)
			if n > 0 {
				select {
				case ch <- chunk{buf: bp, n: n, at: time.Now()}:
				case <-p.k.done:
					return
				}
			} else {
				bufPool.Put(bp)
			}
			if err != nil {
				eof = errors.Is(err, io.EOF)
				return
			}
		}
	}()
	st := &p.k.l.stats
	for c := range ch {
		release := c.at
		if release.Before(p.notBefore) {
			release = p.notBefore
		}
		if !p.sleep(time.Until(release.Add(p.delay))) {
			return
		}
		if !p.sleep(max(p.connCap.reserve(c.n), p.totalCap.reserve(c.n))) {
			return
		}
		data, act := (*c.buf)[:c.n], actNone
		if p.faults != nil {
			data, act = p.faults.next(data)
		}
		if len(data) > 0 {
			if _, err := p.dst.Write(data); err != nil {
				p.k.close(false)
				return
			}
			p.counter.Add(int64(len(data)))
		}
		n := c.n
		if p.delay > 0 {
			time.AfterFunc(p.delay, func() { p.win.release(n) })
		} else {
			p.win.release(n)
		}
		bufPool.Put(c.buf)
		switch act {
		case actReset:
			st.Resets.Add(1)
			p.k.close(true)
			return
		case actCut:
			st.Cuts.Add(1)
			p.k.close(false)
			return
		case actStall:
			st.Stalls.Add(1)
			p.k.finish()
			<-p.k.done
			return
		}
	}
	if !eof {
		p.k.close(false)
		return
	}
	// A half-close is forwarded after the delay like data, so HTTP/1.0-style
	// "read until EOF" bodies end where they would over the link.
	_ = p.dst.CloseWrite()
	p.k.finish()
}

// sleep waits d (or not at all); false when the link closed meanwhile.
func (p *pipe) sleep(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-p.k.done:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.k.done:
		return false
	}
}

type action int

const (
	actNone action = iota
	actReset
	actCut
	actStall
)

// faults decides, from the count of response bytes sent, where a connection is
// cut, stalled or reset. Offsets are response-stream bytes (HTTP heads included).
type faults struct {
	written int64
	cutAt   int64
	stallAt int64
	resetAt int64
	doomed  bool // to be reset somewhere in its first response, once its length is known
	head    []byte
}

// next trims data to the nearest fault offset and names the fault to act on after writing it.
func (f *faults) next(data []byte) ([]byte, action) {
	if f.doomed && f.resetAt < 0 {
		f.sniff(data)
	}
	limit, act := int64(-1), actNone
	for _, t := range [...]struct {
		at int64
		a  action
	}{{f.resetAt, actReset}, {f.cutAt, actCut}, {f.stallAt, actStall}} {
		if t.at >= 0 && (limit < 0 || t.at < limit) {
			limit, act = t.at, t.a
		}
	}
	if act == actNone || f.written+int64(len(data)) < limit {
		f.written += int64(len(data))
		return data, actNone
	}
	n := max(limit-f.written, 0)
	f.written += n
	return data[:n], act
}

// sniff picks the reset offset uniformly within the first response (head and
// body) once its head has been seen, so resets land early, mid-body and near the end alike.
func (f *faults) sniff(data []byte) {
	if room := sniffMax - len(f.head); room > 0 {
		f.head = append(f.head, data[:min(len(data), room)]...)
	}
	length, known, ok := responseLength(f.head)
	if !ok && len(f.head) < sniffMax {
		return
	}
	span := int64(resetFallbackSpan)
	if ok && known {
		span = length - f.written
	}
	f.resetAt = f.written + rand.Int64N(max(span, 1))
	f.head = nil
}

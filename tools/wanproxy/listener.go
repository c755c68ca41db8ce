package main

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// defaultWindow is the in-flight limit of one connection direction: 4 MiB, in
// the range Linux's TCP autotuning reaches (tcp_rmem max 6 MiB), so a single
// connection over 200 ms moves at most ~21 MB/s, as over a real link.
const defaultWindow = 4 << 20

// Settings of one emulated link; the JSON names are the config's (and the Node helper's).
type Settings struct {
	Name     string `json:"name"`
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	// Round-trip time: each direction's bytes are released RTTMs/2 after they arrive.
	RTTMs float64 `json:"rttMs"`
	// Bytes per second of one connection's responses (0: unlimited).
	ConnRate float64 `json:"connRate"`
	// Bytes per second of all this listener's responses together (0: unlimited).
	TotalRate float64 `json:"totalRate"`
	// Bytes in flight per connection and direction (0: defaultWindow).
	Window int `json:"window"`
	// Probability that a connection is reset (RST) at a random point of its first response.
	ResetProb float64 `json:"resetProb"`
	// Close each connection (FIN) after this many response bytes (0: never).
	CutAfter int64 `json:"cutAfter"`
	// Stop sending after this many response bytes, keeping the connection open (0: never).
	StallAfter int64 `json:"stallAfter"`
	// Refuse connections: at start the port is bound but not listening
	// (ECONNREFUSED); switched on later with "set", connections are accepted and reset.
	Refuse bool `json:"refuse"`
	// Accept and read, never answer (and never dial upstream).
	NoFirstByte bool `json:"noFirstByte"`
	// Skip the one-RTT connection set-up delay.
	NoHandshake bool `json:"noHandshake"`
}

type stats struct {
	Connections atomic.Int64
	Active      atomic.Int64
	Refused     atomic.Int64
	BytesDown   atomic.Int64
	BytesUp     atomic.Int64
	Resets      atomic.Int64
	Cuts        atomic.Int64
	Stalls      atomic.Int64
	DialErrors  atomic.Int64
}

type statsLine struct {
	Name        string `json:"name"`
	Connections int64  `json:"connections"`
	Active      int64  `json:"active"`
	Refused     int64  `json:"refused"`
	BytesDown   int64  `json:"bytesDown"`
	BytesUp     int64  `json:"bytesUp"`
	Resets      int64  `json:"resets"`
	Cuts        int64  `json:"cuts"`
	Stalls      int64  `json:"stalls"`
	DialErrors  int64  `json:"dialErrors"`
}

type listener struct {
	name  string
	mu    sync.Mutex
	s     Settings
	addr  string
	total *tokenBucket
	ln    *net.TCPListener
	bound io.Closer // the bound, non-listening socket of a listener started refusing
	stats stats
}

func startListener(s Settings) (*listener, error) {
	if err := loopbackOnly(s.Listen); err != nil {
		return nil, fmt.Errorf("%s: listen: %w", s.Name, err)
	}
	if err := loopbackOnly(s.Upstream); err != nil && (s.Upstream != "" || !(s.NoFirstByte || s.Refuse)) {
		return nil, fmt.Errorf("%s: upstream: %w", s.Name, err)
	}
	l := &listener{name: s.Name, s: s, total: newTokenBucket(s.TotalRate)}
	if s.Refuse {
		if addr, c, err := bindOnly(s.Listen); err == nil {
			l.addr, l.bound = addr, c
			return l, nil
		}
	}
	if err := l.listen(s.Listen); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *listener) listen(addr string) error {
	a, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return err
	}
	ln, err := net.ListenTCP("tcp4", a)
	if err != nil {
		return err
	}
	l.ln, l.addr = ln, ln.Addr().String()
	go l.accept(ln)
	return nil
}

func (l *listener) settings() Settings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s
}

// update applies a "set" command: to connections accepted from now on, except
// the shared total cap, which changes at once.
func (l *listener) update(apply func(*Settings) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	next := l.s
	if err := apply(&next); err != nil {
		return err
	}
	next.Name, next.Listen, next.Upstream = l.s.Name, l.s.Listen, l.s.Upstream
	l.s = next
	l.total.setRate(next.TotalRate)
	if !next.Refuse && l.bound != nil {
		_ = l.bound.Close()
		l.bound = nil
		return l.listen(l.addr)
	}
	return nil
}

func (l *listener) accept(ln *net.TCPListener) {
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			return
		}
		go l.handle(c, time.Now())
	}
}

func (l *listener) handle(client *net.TCPConn, accepted time.Time) {
	s := l.settings()
	st := &l.stats
	st.Connections.Add(1)
	st.Active.Add(1)
	defer st.Active.Add(-1)
	if s.Refuse {
		st.Refused.Add(1)
		_ = client.SetLinger(0)
		_ = client.Close()
		return
	}
	if s.NoFirstByte {
		_, _ = io.Copy(io.Discard, client)
		_ = client.Close()
		return
	}
	up, err := net.DialTimeout("tcp4", s.Upstream, 5*time.Second)
	if err != nil {
		st.DialErrors.Add(1)
		_ = client.SetLinger(0)
		_ = client.Close()
		return
	}
	k := &link{l: l, s: s, client: client, upstream: up.(*net.TCPConn), done: make(chan struct{})}
	k.serve(accepted)
}

func (l *listener) snapshot() statsLine {
	st := &l.stats
	return statsLine{
		Name: l.name, Connections: st.Connections.Load(), Active: st.Active.Load(), Refused: st.Refused.Load(),
		BytesDown: st.BytesDown.Load(), BytesUp: st.BytesUp.Load(), Resets: st.Resets.Load(), Cuts: st.Cuts.Load(),
		Stalls: st.Stalls.Load(), DialErrors: st.DialErrors.Load(),
	}
}

// loopbackOnly keeps the tool from ever touching anything but 127.0.0.1.
func loopbackOnly(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	if host != "127.0.0.1" {
		return fmt.Errorf("%q: only 127.0.0.1 is allowed", hostport)
	}
	return nil
}

// wanproxy emulates wide-area links in front of a loopback HTTP gateway (the
// test kubo's), for citrate-ipfs's tests and its WAN benchmark: one-way delay
// as a delay line with a TCP-like window (so one connection is window-limited),
// per-connection and per-listener bandwidth caps, and faults (resets at a
// random point of a response, cuts and stalls after N bytes, refused
// connections, connections that never answer). It forwards TCP bytes, reading
// only a response head's Content-Length to place resets; faults and caps apply
// to the response direction, the delay to both.
//
// One process serves several listeners, each with its own upstream:
//
//	wanproxy -config '{"listeners":[{"name":"fast","upstream":"127.0.0.1:8080","rttMs":20,"connRate":24e6,"totalRate":60e6}]}'
//	wanproxy -upstream 127.0.0.1:8080 -rtt 80ms -conn-rate 10e6 -total-rate 40e6
//
// It prints one JSON line, {"listeners":[{"name","addr","url"}]}, once every
// listener is up, then reads commands from stdin, one JSON object a line:
// {"cmd":"stats"} answers {"stats":[…]}; {"cmd":"set","name":"fast","resetProb":1}
// changes a listener for the connections it accepts next (its totalRate at
// once) and answers {"ok":true}. It exits when stdin closes, so a test runner
// that dies never leaves it behind, and on SIGTERM or SIGINT. It only ever
// listens on and dials 127.0.0.1.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

type config struct {
	Listeners []Settings `json:"listeners"`
}

var stdout sync.Mutex

func emit(v any) {
	b, _ := json.Marshal(v)
	stdout.Lock()
	defer stdout.Unlock()
	_, _ = os.Stdout.Write(append(b, '\n'))
}

func main() {
	cfg, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "wanproxy:", err)
		os.Exit(2)
	}
	listeners := make([]*listener, 0, len(cfg.Listeners))
	type addrLine struct {
		Name string `json:"name"`
		Addr string `json:"addr"`
		URL  string `json:"url"`
	}
	out := make([]addrLine, 0, len(cfg.Listeners))
	for _, s := range cfg.Listeners {
		l, err := startListener(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wanproxy:", err)
			os.Exit(1)
		}
		listeners = append(listeners, l)
		out = append(out, addrLine{Name: s.Name, Addr: l.addr, URL: "http://" + l.addr})
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-signals; os.Exit(0) }()
	emit(map[string]any{"listeners": out})
	commands(listeners)
	os.Exit(0)
}

// commands serves stdin until it closes.
func commands(listeners []*listener) {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 1<<20)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		var cmd struct {
			Cmd  string `json:"cmd"`
			Name string `json:"name"`
		}
		if err := json.Unmarshal([]byte(line), &cmd); err != nil {
			emit(map[string]any{"error": err.Error()})
			continue
		}
		switch cmd.Cmd {
		case "stats":
			lines := make([]statsLine, 0, len(listeners))
			for _, l := range listeners {
				lines = append(lines, l.snapshot())
			}
			emit(map[string]any{"stats": lines})
		case "set":
			err := errors.New("no listener named " + cmd.Name)
			for _, l := range listeners {
				if l.name == cmd.Name {
					err = l.update(func(s *Settings) error { return json.Unmarshal([]byte(line), s) })
				}
			}
			if err != nil {
				emit(map[string]any{"error": err.Error()})
			} else {
				emit(map[string]any{"ok": true})
			}
		default:
			emit(map[string]any{"error": "unknown command " + cmd.Cmd})
		}
	}
}

func parseArgs(args []string) (config, error) {
	fs := flag.NewFlagSet("wanproxy", flag.ContinueOnError)
	configArg := fs.String("config", "", "JSON config {\"listeners\":[…]}, or @file")
	var s Settings
	fs.StringVar(&s.Name, "name", "wan", "listener name (in the address line and stats)")
	fs.StringVar(&s.Listen, "listen", "127.0.0.1:0", "address to listen on (127.0.0.1 only; port 0 picks one)")
	fs.StringVar(&s.Upstream, "upstream", "", "upstream host:port or http://host:port (127.0.0.1 only)")
	rtt := fs.Duration("rtt", 0, "round-trip time; each direction is delayed by half")
	fs.Float64Var(&s.ConnRate, "conn-rate", 0, "bytes/s per connection (0: unlimited)")
	fs.Float64Var(&s.TotalRate, "total-rate", 0, "bytes/s shared by all connections (0: unlimited)")
	fs.IntVar(&s.Window, "window", defaultWindow, "bytes in flight per connection and direction")
	fs.Float64Var(&s.ResetProb, "reset-prob", 0, "probability a connection is reset (RST) within its first response")
	fs.Int64Var(&s.CutAfter, "cut-after", 0, "close each connection after N response bytes (0: never)")
	fs.Int64Var(&s.StallAfter, "stall-after", 0, "stop sending after N response bytes, keeping the connection open (0: never)")
	fs.BoolVar(&s.Refuse, "refuse", false, "refuse connections")
	fs.BoolVar(&s.NoFirstByte, "no-first-byte", false, "accept and read, never answer")
	fs.BoolVar(&s.NoHandshake, "no-handshake", false, "no one-RTT delay for a new connection")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	var cfg config
	if *configArg != "" {
		text := []byte(*configArg)
		if strings.HasPrefix(*configArg, "@") {
			b, err := os.ReadFile((*configArg)[1:])
			if err != nil {
				return config{}, err
			}
			text = b
		}
		if err := json.Unmarshal(text, &cfg); err != nil {
			return config{}, fmt.Errorf("-config: %w", err)
		}
	} else {
		s.RTTMs = float64(*rtt) / float64(time.Millisecond)
		cfg.Listeners = []Settings{s}
	}
	if len(cfg.Listeners) == 0 {
		return config{}, errors.New("no listeners configured")
	}
	for i := range cfg.Listeners {
		l := &cfg.Listeners[i]
		if l.Name == "" {
			l.Name = fmt.Sprintf("wan%d", i)
		}
		if l.Listen == "" {
			l.Listen = "127.0.0.1:0"
		}
		if u, err := url.Parse(l.Upstream); err == nil && u.Host != "" {
			l.Upstream = u.Host
		}
		if l.Upstream == "" && !l.NoFirstByte && !l.Refuse {
			return config{}, fmt.Errorf("%s: no upstream", l.Name)
		}
		if l.ResetProb < 0 || l.ResetProb > 1 {
			return config{}, fmt.Errorf("%s: resetProb must be within 0..1", l.Name)
		}
	}
	return cfg, nil
}

// Command goserver is the Go side of the benchmark: a gateway built on the
// public realtime API, behaving as bench/node-server.mjs does.
//
// Clients authenticate with an HS256 JWT (auth.token), subscribe with the
// gateway's built-in subscribe event, and receive "ticker:update" events
// whose payload starts with the server's send time in nanoseconds since
// the epoch: {"t":"<ns>","seq":N,"symbol":"BTC/USD","price":64000.25}.
// Heartbeats and connection counts are off, as the Node server has none.
//
// Control endpoints (plain HTTP on the same port):
//
//	POST /bench/broadcast?rate=R&count=N&room=ROOM  broadcast N ticks at R per second; answers when done
//	GET  /bench/stats                                {"clients":C,"inbound":I,"memory":{...}}
//	POST /bench/gc                                   collect garbage and return memory to the system
//
// It prints "listening <addr>" once it accepts connections; -pprof serves
// net/http/pprof on a separate loopback address.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/jwtauth"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this loopback address, e.g. 127.0.0.1:6060")
	secret := flag.String("secret", "", "HS256 secret clients' tokens are signed with")
	flag.Parse()
	if err := run(*addr, *pprofAddr, *secret); err != nil {
		log.Fatal(err)
	}
}

// tick is the broadcast payload; T comes first so a client finds it
// without decoding JSON.
type tick struct {
	T      string  `json:"t"`
	Seq    int     `json:"seq"`
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
}

type server struct {
	g       *realtime.Gateway
	inbound atomic.Int64
}

func run(addr, pprofAddr, secret string) error {
	if secret == "" {
		return errors.New("goserver: -secret is required")
	}
	auth, err := jwtauth.New(jwtauth.WithHMACSecret([]byte(secret)))
	if err != nil {
		return err
	}
	g, err := realtime.New(
		realtime.WithAuthenticator(auth),
		realtime.WithLimiter(realtime.NoLimit()),
		realtime.WithHeartbeatInterval(0),
		realtime.WithConnectionCountInterval(0),
	)
	if err != nil {
		return err
	}
	s := &server{g: g}
	if err := g.Handle("bench:in", func(context.Context, *realtime.Request) (any, error) {
		s.inbound.Add(1)
		return nil, nil
	}); err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle(g.Path(), g)
	mux.HandleFunc("POST /bench/broadcast", s.broadcast)
	mux.HandleFunc("GET /bench/stats", s.stats)
	mux.HandleFunc("POST /bench/gc", func(w http.ResponseWriter, _ *http.Request) {
		debug.FreeOSMemory()
		w.WriteHeader(http.StatusOK)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	if pprofAddr != "" {
		pm := http.NewServeMux()
		pm.HandleFunc("/debug/pprof/", pprof.Index)
		pm.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		pm.HandleFunc("/debug/pprof/profile", pprof.Profile)
		pm.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		pm.HandleFunc("/debug/pprof/trace", pprof.Trace)
		pln, err := net.Listen("tcp", pprofAddr)
		if err != nil {
			return err
		}
		go func() { _ = http.Serve(pln, pm) }()
		defer pln.Close()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Printf("listening %s\n", ln.Addr())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = g.Shutdown(sctx)
	return hs.Shutdown(sctx)
}

// broadcast sends count ticks to a room, paced at rate per second: each
// tick goes out when it is due, and ticks that fell due while the server
// was busy go out at once. It answers when the last one is sent.
func (s *server) broadcast(w http.ResponseWriter, r *http.Request) {
	rate, err1 := strconv.ParseFloat(r.URL.Query().Get("rate"), 64)
	count, err2 := strconv.Atoi(r.URL.Query().Get("count"))
	room := r.URL.Query().Get("room")
	if err := errors.Join(err1, err2); err != nil || rate <= 0 || count < 0 || room == "" {
		http.Error(w, "want rate>0, count>=0 and room", http.StatusBadRequest)
		return
	}
	interval := time.Duration(float64(time.Second) / rate)
	recipients := s.g.RoomSize(room)
	start := time.Now()
	for i := 0; i < count; {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		for now := time.Now(); i < count && !start.Add(time.Duration(i)*interval).After(now); i++ {
			t := tick{T: strconv.FormatInt(time.Now().UnixNano(), 10), Seq: i, Symbol: "BTC/USD", Price: 64000.25}
			if err := s.g.BroadcastToRoom(room, "ticker:update", t); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
	}
	writeJSON(w, map[string]any{"sent": count, "recipients": recipients, "elapsedNs": time.Since(start).Nanoseconds()})
}

func (s *server) stats(w http.ResponseWriter, _ *http.Request) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	writeJSON(w, map[string]any{
		"clients": s.g.ConnectedClients(),
		"inbound": s.inbound.Load(),
		"memory": map[string]uint64{
			"heapInuse":    m.HeapInuse,
			"heapIdle":     m.HeapIdle - m.HeapReleased,
			"stackInuse":   m.StackInuse,
			"goroutines":   uint64(runtime.NumGoroutine()),
			"runtimeOther": m.Sys - m.HeapSys - m.StackSys,
		},
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

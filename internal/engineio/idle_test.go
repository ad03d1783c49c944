//go:build linux

package engineio_test

import (
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tradewithai/realtime/internal/engineio"
)

type countingReceiver struct {
	mu   sync.Mutex
	got  map[string]int
	seen chan struct{}
}

func (r *countingReceiver) Receive(data []byte, _ bool) {
	r.mu.Lock()
	r.got[string(data)]++
	r.mu.Unlock()
	r.seen <- struct{}{}
}

func (r *countingReceiver) Closed(error) {}

// TestIdleWebSocketsHoldNoGoroutine parks idle connections in the poller:
// a hundred open, idle WebSocket sessions cost no goroutine each, and each
// still delivers what its client sends.
func TestIdleWebSocketsHoldNoGoroutine(t *testing.T) {
	const conns = 100
	recv := &countingReceiver{got: make(map[string]int), seen: make(chan struct{}, conns)}
	srv, err := engineio.NewServer(engineio.Config{PingInterval: time.Minute}, func(*engineio.Session) engineio.Receiver { return recv })
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Shutdown(t.Context())

	base := runtime.NumGoroutine()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	clients := make([]*websocket.Conn, conns)
	for i := range clients {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, open, err := c.ReadMessage(); err != nil || open[0] != '0' {
			t.Fatalf("open packet: %q %v", open, err)
		}
		clients[i] = c
	}
	// The handlers return and the readers park; wait for it to show.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine()-base >= conns/4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if extra := runtime.NumGoroutine() - base; extra >= conns/4 {
		t.Fatalf("%d goroutines for %d idle connections", extra, conns)
	}
	for i, c := range clients {
		if err := c.WriteMessage(websocket.TextMessage, []byte("4hello")); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	for range conns {
		select {
		case <-recv.seen:
		case <-time.After(10 * time.Second):
			t.Fatal("a parked connection did not deliver its message")
		}
	}
	if recv.got["hello"] != conns {
		t.Errorf("received %d hellos, want %d", recv.got["hello"], conns)
	}
}

type releasingReceiver struct {
	s    *engineio.Session
	done chan *engineio.Handshake
}

func (r *releasingReceiver) Receive([]byte, bool) {
	r.s.ReleaseRequest("Authorization")
	r.done <- r.s.Handshake()
}

func (r *releasingReceiver) Closed(error) {}

func TestReleaseRequestKeepsOnlyWhatIsNamed(t *testing.T) {
	recv := &releasingReceiver{done: make(chan *engineio.Handshake, 1)}
	srv, err := engineio.NewServer(engineio.Config{}, func(s *engineio.Session) engineio.Receiver { recv.s = s; return recv })
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Shutdown(t.Context())
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket&token=abc&room=x"
	c, _, err := websocket.DefaultDialer.Dial(url, map[string][]string{"Authorization": {"Bearer t"}, "Cookie": {"session=1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte("4x")); err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-recv.done:
		if len(h.Header) != 1 || h.Header.Get("Authorization") != "Bearer t" {
			t.Errorf("headers kept: %v", h.Header)
		}
		if len(h.Query) != 1 || h.Query.Get("token") != "abc" {
			t.Errorf("query kept: %v", h.Query)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
	}
}

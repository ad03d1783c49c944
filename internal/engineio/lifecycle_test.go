package engineio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
)

// onSession runs "before the client receives the open packet", so what it
// sends must follow the open packet.
func TestOnSessionSendFollowsOpen(t *testing.T) {
	welcome := func(s *engineio.Session, _ *recorder) {
		if err := s.Send(engineio.TextMessage([]byte("welcome"))); err != nil {
			t.Errorf("Send from onSession: %v", err)
		}
	}
	t.Run("polling", func(t *testing.T) {
		h := newHarnessWith(t, engineio.Config{}, harnessOptions{hook: welcome})
		o, _ := h.openPolling()
		if r := h.get(o.SID); string(r.body) != "4welcome" {
			t.Fatalf("first GET: status %d body %q, want 4welcome", r.status, r.body)
		}
	})
	t.Run("websocket", func(t *testing.T) {
		h := newHarnessWith(t, engineio.Config{}, harnessOptions{hook: welcome})
		c, _, err := h.dial("EIO=4&transport=websocket", nil)
		if err != nil {
			t.Fatal(err)
		}
		parseOpen(t, []byte(readText(t, c)))
		if got := readText(t, c); got != "4welcome" {
			t.Fatalf("second frame %q, want 4welcome", got)
		}
	})
}

// A handshake still inside onSession when Shutdown starts must not crash
// Shutdown, and the session must end up closed.
func TestShutdownDuringOnSession(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var once atomic.Bool
	// Handshakes that probe for Shutdown open idle polling sessions, which
	// close gracefully within the ping timeout.
	h := newHarnessWith(t, engineio.Config{PingTimeout: 50 * time.Millisecond}, harnessOptions{hook: func(*engineio.Session, *recorder) {
		if once.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
	}})
	handshake := make(chan response, 1)
	go func() {
		r, err := h.request(http.MethodGet, "EIO=4&transport=polling", nil, nil)
		if err != nil {
			r = response{status: -1, body: []byte(err.Error())}
		}
		handshake <- r
	}()
	awaitSignal(t, entered)

	shutdown := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				shutdown <- fmt.Errorf("Shutdown panicked: %v", p)
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		shutdown <- h.srv.Shutdown(ctx)
	}()
	// New handshakes are refused once Shutdown has taken its snapshot of
	// the sessions.
	waitUntil(t, "Shutdown has started", func() bool {
		r, err := h.request(http.MethodGet, "EIO=4&transport=polling", nil, nil)
		return err == nil && r.status == http.StatusServiceUnavailable
	})
	close(release)

	r := awaitResponse(t, handshake)
	if r.status == http.StatusOK {
		o := parseOpen(t, r.body)
		// The session opened just as the server shut down: the client is
		// told it is closed.
		if g := h.get(o.SID); g.status == http.StatusOK && string(g.body) != "1" {
			t.Errorf("GET on a session opened during Shutdown: body %q, want \"1\"", g.body)
		}
	}
	select {
	case err := <-shutdown:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(2 * waitTimeout):
		t.Fatal("Shutdown did not return")
	}
	if n := h.srv.Len(); n != 0 {
		t.Errorf("Len() = %d after Shutdown, want 0", n)
	}
}

// exclusiveReceiver records whether the server ever overlapped its calls,
// and holds Receive of the payload block until released.
type exclusiveReceiver struct {
	block      string
	inCall     atomic.Int32
	overlapped atomic.Bool
	entered    chan string
	release    chan struct{}
	closed     chan error
}

func newExclusiveReceiver(block string) *exclusiveReceiver {
	return &exclusiveReceiver{
		block:   block,
		entered: make(chan string, 64),
		release: make(chan struct{}),
		closed:  make(chan error, 1),
	}
}

func (r *exclusiveReceiver) Receive(data []byte, _ bool) {
	if r.inCall.Add(1) > 1 {
		r.overlapped.Store(true)
	}
	defer r.inCall.Add(-1)
	r.entered <- string(data)
	if string(data) == r.block {
		<-r.release
	}
}

func (r *exclusiveReceiver) Closed(reason error) {
	if r.inCall.Add(1) > 1 {
		r.overlapped.Store(true)
	}
	defer r.inCall.Add(-1)
	r.closed <- reason
}

// awaitEntered returns the payload of the next Receive call.
func (r *exclusiveReceiver) awaitEntered(t testing.TB) string {
	t.Helper()
	select {
	case m := <-r.entered:
		return m
	case <-time.After(waitTimeout):
		t.Fatal("Receive not called")
		return ""
	}
}

// The Receiver contract: the server calls Receive and Closed from one
// goroutine at a time per session. A ping timeout that fires while Receive
// is busy must not call Closed concurrently.
func TestClosedNotConcurrentWithReceive(t *testing.T) {
	rec := newExclusiveReceiver("busy")
	h := newHarnessWith(t, engineio.Config{PingInterval: 20 * time.Millisecond, PingTimeout: 20 * time.Millisecond},
		harnessOptions{receiver: func(*engineio.Session) engineio.Receiver { return rec }})
	c, _, err := h.dial("EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	parseOpen(t, []byte(readText(t, c)))
	writeText(t, c, "4busy")
	rec.awaitEntered(t)

	// Never answer the ping: the session times out while Receive is busy.
	connEnded := make(chan struct{})
	go func() {
		defer close(connEnded)
		for {
			if _, _, err := readFrame(c); err != nil {
				return
			}
		}
	}()
	var reason error
	closedEarly := false
	select {
	case reason = <-rec.closed:
		closedEarly = true
	case <-connEnded:
		// The transport is gone; give a concurrent Closed, if the server
		// makes one, time to show itself before Receive returns.
		select {
		case reason = <-rec.closed:
			closedEarly = true
		case <-time.After(100 * time.Millisecond):
		}
	case <-time.After(waitTimeout):
		t.Fatal("session neither closed nor dropped its connection after a ping timeout")
	}
	close(rec.release)
	if !closedEarly {
		select {
		case reason = <-rec.closed:
		case <-time.After(waitTimeout):
			t.Fatal("Closed not called after Receive returned")
		}
	}
	<-connEnded
	if !errors.Is(reason, engineio.ErrPingTimeout) {
		t.Errorf("closed with %v, want ErrPingTimeout", reason)
	}
	if rec.overlapped.Load() {
		t.Error("Closed ran while Receive was still running")
	}
}

// A POST still being read when the session upgrades must not deliver its
// packets while the WebSocket's reader is delivering its own.
func TestLatePOSTDoesNotOverlapWebSocket(t *testing.T) {
	rec := newExclusiveReceiver("over websocket")
	entered := make(chan struct{})
	h := newHarnessWith(t, engineio.Config{}, harnessOptions{
		wrap:     signalOn(entered),
		receiver: func(*engineio.Session) engineio.Receiver { return rec },
	})
	r := h.mustRequest(http.MethodGet, "EIO=4&transport=polling", nil, nil)
	o := parseOpen(t, r.body)

	body, bodyW := io.Pipe()
	defer bodyW.Close()
	postDone := make(chan response, 1)
	go func() {
		r, err := h.request(http.MethodPost, pollQuery(o.SID), body, http.Header{"X-Signal-Read": {"1"}})
		if err != nil {
			r = response{status: -1, body: []byte(err.Error())}
		}
		postDone <- r
	}()
	awaitSignal(t, entered)

	c, _, err := h.dial(upgradeQuery(o.SID), nil)
	if err != nil {
		t.Fatal(err)
	}
	writeText(t, c, "2probe")
	if got := readText(t, c); got != "3probe" {
		t.Fatalf("probe answered %q", got)
	}
	writeText(t, c, "5")
	writeText(t, c, "4over websocket")
	if got := rec.awaitEntered(t); got != "over websocket" {
		t.Fatalf("Receive(%q), want the WebSocket's message", got)
	}

	// Receive is busy with the WebSocket's message; the POST ends now.
	_, _ = bodyW.Write([]byte("4over polling"))
	_ = bodyW.Close()
	// A server that serialises holds the POST's packets (or refuses them);
	// one that does not calls Receive again at once.
	select {
	case got := <-rec.entered:
		t.Errorf("Receive(%q) from the late POST ran while Receive(%q) was busy", got, "over websocket")
	case <-time.After(100 * time.Millisecond):
	}
	close(rec.release)
	awaitResponse(t, postDone)
	if rec.overlapped.Load() {
		t.Error("Receive ran on two goroutines at once")
	}
}

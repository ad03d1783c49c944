package realtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tradewithai/realtime"
)

// hookRecord is what the lifecycle hooks saw.
type hookRecord struct {
	connects    chan hookEvent
	disconnects chan hookEvent
}

type hookEvent struct {
	id, user  string
	transport realtime.Transport
	d         realtime.Disconnect
}

func newHookRecord() *hookRecord {
	return &hookRecord{connects: make(chan hookEvent, 16), disconnects: make(chan hookEvent, 16)}
}

func (h *hookRecord) options() []realtime.Option {
	return []realtime.Option{
		realtime.WithOnConnect(func(c *realtime.Client) {
			h.connects <- hookEvent{id: c.ID(), user: c.Identity().UserID, transport: c.Transport()}
		}),
		realtime.WithOnDisconnect(func(c *realtime.Client, d realtime.Disconnect) {
			h.disconnects <- hookEvent{id: c.ID(), user: c.UserID(), d: d}
		}),
	}
}

func (h *hookRecord) connected(t *testing.T) hookEvent {
	t.Helper()
	select {
	case e := <-h.connects:
		return e
	case <-time.After(abuseWait):
		t.Fatal("the connect hook did not run")
		return hookEvent{}
	}
}

func (h *hookRecord) disconnected(t *testing.T, want realtime.DisconnectCode) hookEvent {
	t.Helper()
	select {
	case e := <-h.disconnects:
		if e.d.Code != want {
			t.Fatalf("disconnect hook: code %v (%q), want %v", e.d.Code, e.d.Reason, want)
		}
		return e
	case <-time.After(abuseWait):
		t.Fatalf("the disconnect hook did not run (want %v)", want)
		return hookEvent{}
	}
}

// Every way a client can leave reaches the disconnect hook once, with the
// code that says why; the connect hook saw who connected and how.
func TestLifecycleHooks(t *testing.T) {
	cases := []struct {
		name string
		code realtime.DisconnectCode
		opts []realtime.Option
		// leave makes the client leave; id is its socket id.
		leave func(t *testing.T, gw *realtime.Gateway, c *protoClient, id string)
	}{
		{"client leaves", realtime.DisconnectClientLeft, nil, func(t *testing.T, _ *realtime.Gateway, c *protoClient, _ string) {
			if err := c.write("41"); err != nil {
				t.Fatal(err)
			}
		}},
		{"connection closed", realtime.DisconnectTransportClosed, nil, func(_ *testing.T, _ *realtime.Gateway, c *protoClient, _ string) {
			c.close()
		}},
		{"host disconnects", realtime.DisconnectKicked, nil, func(t *testing.T, gw *realtime.Gateway, _ *protoClient, id string) {
			if err := gw.DisconnectSockets(t.Context(), realtime.Selector{Rooms: []string{id}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"malformed packet", realtime.DisconnectProtocolError, nil, func(t *testing.T, _ *realtime.Gateway, c *protoClient, _ string) {
			if err := c.write("4{not a packet"); err != nil {
				t.Fatal(err)
			}
		}},
		{"unanswered pings", realtime.DisconnectPingTimeout,
			[]realtime.Option{realtime.WithPingInterval(30 * time.Millisecond), realtime.WithPingTimeout(30 * time.Millisecond)},
			func(*testing.T, *realtime.Gateway, *protoClient, string) {}, // the client reads nothing, so it answers no ping
		},
		{"server shutdown", realtime.DisconnectServerShutdown, nil, func(t *testing.T, gw *realtime.Gateway, _ *protoClient, _ string) {
			ctx, cancel := context.WithTimeout(t.Context(), abuseWait)
			defer cancel()
			if err := gw.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHookRecord()
			opts := append([]realtime.Option{realtime.WithAuthenticator(abuseAuthenticator(t))}, h.options()...)
			g := startAbuseGateway(t, append(opts, tc.opts...)...)
			c := mustDial(t, g.url, hourToken(t, "alice"), protoOptions{})
			e := h.connected(t)
			if e.user != "alice" || e.transport != realtime.TransportWebSocket || e.id == "" {
				t.Fatalf("connect hook saw user %q over %q (id %q), want alice over websocket", e.user, e.transport, e.id)
			}
			tc.leave(t, g.gw, c, e.id)
			d := h.disconnected(t, tc.code)
			if d.id != e.id || d.user != "alice" {
				t.Errorf("disconnect hook for %s/%s, want %s/alice", d.id, d.user, e.id)
			}
			if !strings.Contains(d.d.Error(), tc.code.String()) {
				t.Errorf("Disconnect.Error() = %q, want it to name %q", d.d.Error(), tc.code)
			}
		})
	}
}

// A client whose token expires is disconnected with DisconnectTokenExpired.
func TestLifecycleTokenExpired(t *testing.T) {
	h := newHookRecord()
	g := startAbuseGateway(t, append([]realtime.Option{realtime.WithAuthenticator(abuseAuthenticator(t))}, h.options()...)...)
	mustDial(t, g.url, abuseToken(t, "bob", time.Now().Add(time.Second)), protoOptions{})
	h.connected(t)
	h.disconnected(t, realtime.DisconnectTokenExpired)
	if got := g.gw.Counters().TokensExpired; got != 1 {
		t.Errorf("Counters().TokensExpired = %d, want 1", got)
	}
}

// A client that stops reading while it is sent more than its queue holds
// is disconnected with DisconnectSlowConsumer.
func TestLifecycleSlowConsumer(t *testing.T) {
	h := newHookRecord()
	gw, err := realtime.New(append([]realtime.Option{
		realtime.WithAuthenticator(abuseAuthenticator(t)),
		realtime.WithQueueLimits(4, 1<<20),
		realtime.WithHeartbeatInterval(0),
		realtime.WithConnectionCountInterval(0),
	}, h.options()...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Shutdown(context.Background()) })
	g := serveGateway(t, gw, 4096) // a small send buffer: the server's writes block soon
	mustDial(t, g.url, hourToken(t, "carol"), protoOptions{ReadBuffer: 4096})
	h.connected(t)
	big := strings.Repeat("x", 64<<10)
	for i := 0; i < 100; i++ {
		if err := gw.Emit(t.Context(), realtime.Selector{}, "big", big); err != nil {
			t.Fatal(err)
		}
	}
	h.disconnected(t, realtime.DisconnectSlowConsumer)
	if got := gw.Counters().SlowConsumers; got != 1 {
		t.Errorf("Counters().SlowConsumers = %d, want 1", got)
	}
}

// A refused connection never connected: neither hook runs for it.
func TestLifecycleRefusedConnectionRunsNoHook(t *testing.T) {
	h := newHookRecord()
	g := startAbuseGateway(t, append([]realtime.Option{realtime.WithAuthenticator(abuseAuthenticator(t))}, h.options()...)...)
	_, err := dialProto(t, g.url, "not-a-token", protoOptions{})
	var ce *connectError
	if !errors.As(err, &ce) || ce.Data.Code != realtime.CodeInvalidToken {
		t.Fatalf("dial with a bad token: %v, want connect_error %s", err, realtime.CodeInvalidToken)
	}
	// A client that connects afterwards is the first the hooks hear of.
	mustDial(t, g.url, hourToken(t, "dave"), protoOptions{})
	if e := h.connected(t); e.user != "dave" {
		t.Fatalf("first connect hook for %q, want dave", e.user)
	}
	select {
	case e := <-h.disconnects:
		t.Fatalf("disconnect hook ran for %q (%v)", e.user, e.d)
	default:
	}
}

// A panicking hook is counted and logged; the client stays connected.
func TestLifecycleHookPanicIsContained(t *testing.T) {
	g := startAbuseGateway(t, realtime.WithAuthenticator(abuseAuthenticator(t)),
		realtime.WithOnConnect(func(*realtime.Client) { panic("hook bug") }))
	c := mustDial(t, g.url, hourToken(t, "erin"), protoOptions{})
	c.listen()
	if err := c.request("ping", nil, "pong"); err != nil {
		t.Fatalf("after a panicking connect hook: %v", err)
	}
	if got := g.gw.Counters().HandlerPanics; got != 1 {
		t.Errorf("Counters().HandlerPanics = %d, want 1", got)
	}
}

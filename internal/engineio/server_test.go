package engineio_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
)

func TestPollingHandshake(t *testing.T) {
	tests := []struct {
		name string
		cfg  engineio.Config
		want openPacket
	}{
		{
			name: "defaults",
			want: openPacket{Upgrades: []byte(`["websocket"]`), PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1000000},
		},
		{
			name: "configured",
			cfg:  engineio.Config{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond, MaxPayload: 4096},
			want: openPacket{Upgrades: []byte(`["websocket"]`), PingInterval: 300, PingTimeout: 200, MaxPayload: 4096},
		},
		{
			name: "polling only",
			cfg:  engineio.Config{Transports: []string{engineio.TransportPolling.String()}},
			want: openPacket{Upgrades: []byte(`[]`), PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1000000},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.cfg)
			r := h.mustRequest(http.MethodGet, "EIO=4&transport=polling", nil, nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d body %q, want 200", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
				t.Errorf("Content-Type %q, want text/plain; charset=UTF-8", ct)
			}
			o := parseOpen(t, r.body)
			if len(o.SID) != 20 {
				t.Errorf("sid %q has %d characters, want 20", o.SID, len(o.SID))
			}
			rec := h.recorder(o.SID)
			if rec.sess.ID() != o.SID {
				t.Errorf("Session.ID() = %q, want %q", rec.sess.ID(), o.SID)
			}
			if got := rec.sess.Transport(); got != engineio.TransportPolling {
				t.Errorf("Transport() = %q, want polling", got)
			}
			want := tt.want
			want.SID = o.SID
			if string(o.Upgrades) != string(want.Upgrades) || o.PingInterval != want.PingInterval ||
				o.PingTimeout != want.PingTimeout || o.MaxPayload != want.MaxPayload {
				t.Errorf("open packet %+v (upgrades %s), want %+v (upgrades %s)", o, o.Upgrades, want, want.Upgrades)
			}
			if n := h.srv.Len(); n != 1 {
				t.Errorf("Len() = %d, want 1", n)
			}
		})
	}
}

func TestSessionIDsAreUnique(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	seen := make(map[string]bool)
	for range 50 {
		o, _ := h.openPolling()
		if seen[o.SID] {
			t.Fatalf("sid %q issued twice", o.SID)
		}
		seen[o.SID] = true
		if strings.ContainsAny(o.SID, "+/=") {
			t.Errorf("sid %q is not URL-safe", o.SID)
		}
	}
}

func TestWebSocketHandshake(t *testing.T) {
	h := newHarness(t, engineio.Config{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
	c, o, rec := h.openWebSocket()
	if len(o.SID) != 20 {
		t.Errorf("sid %q has %d characters, want 20", o.SID, len(o.SID))
	}
	if string(o.Upgrades) != "[]" {
		t.Errorf("upgrades %s, want []", o.Upgrades)
	}
	if o.PingInterval != 300 || o.PingTimeout != 200 || o.MaxPayload != 1000000 {
		t.Errorf("open packet %+v, want pingInterval 300, pingTimeout 200, maxPayload 1000000", o)
	}
	if got := rec.sess.Transport(); got != engineio.TransportWebSocket {
		t.Errorf("Transport() = %q, want websocket", got)
	}
	writeText(t, c, "4hi")
	rec.expectText(t, "hi")
}

func TestHandshakeRecordsRequest(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	r := h.mustRequest(http.MethodGet, "EIO=4&transport=polling&token=abc", nil, http.Header{"X-Trace": {"t1"}})
	o := parseOpen(t, r.body)
	hs := h.recorder(o.SID).sess.Handshake()
	if got := hs.Query.Get("token"); got != "abc" {
		t.Errorf("Handshake().Query token = %q, want abc", got)
	}
	if got := hs.Header.Get("X-Trace"); got != "t1" {
		t.Errorf("Handshake().Header X-Trace = %q, want t1", got)
	}
	if !strings.HasPrefix(hs.RemoteAddr, "127.0.0.1:") {
		t.Errorf("Handshake().RemoteAddr = %q, want 127.0.0.1:port", hs.RemoteAddr)
	}
	if hs.Host != strings.TrimPrefix(h.ts.URL, "http://") {
		t.Errorf("Handshake().Host = %q, want %q", hs.Host, strings.TrimPrefix(h.ts.URL, "http://"))
	}
	if hs.Secure {
		t.Error("Handshake().Secure = true over plain HTTP")
	}
	if hs.Time.IsZero() || time.Since(hs.Time) > time.Minute {
		t.Errorf("Handshake().Time = %v, want about now", hs.Time)
	}
}

func TestRequestErrors(t *testing.T) {
	h := newHarness(t, engineio.Config{
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("token") == "bad" {
				return errors.New("bad token")
			}
			return nil
		},
	})
	tests := []struct {
		name    string
		method  string
		query   string
		header  http.Header
		status  int
		code    int
		message string
	}{
		{"unknown transport", "GET", "EIO=4&transport=carrier-pigeon", nil, 400, 0, "Transport unknown"},
		{"missing transport", "GET", "EIO=4", nil, 400, 0, "Transport unknown"},
		{"unknown sid GET", "GET", "EIO=4&transport=polling&sid=nope", nil, 400, 1, "Session ID unknown"},
		{"unknown sid POST", "POST", "EIO=4&transport=polling&sid=nope", nil, 400, 1, "Session ID unknown"},
		{"POST handshake", "POST", "EIO=4&transport=polling", nil, 400, 2, "Bad handshake method"},
		{"PUT handshake", "PUT", "EIO=4&transport=polling", nil, 400, 2, "Bad handshake method"},
		{"EIO 3", "GET", "EIO=3&transport=polling", nil, 400, 5, "Unsupported protocol version"},
		{"EIO missing", "GET", "transport=polling", nil, 400, 5, "Unsupported protocol version"},
		{"foreign origin", "GET", "EIO=4&transport=polling", http.Header{"Origin": {"https://evil.example"}}, 403, 4, "Forbidden"},
		{"AllowRequest refuses", "GET", "EIO=4&transport=polling&token=bad", nil, 403, 4, "Forbidden"},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", nil, 400, 3, "Bad request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.mustRequest(tt.method, tt.query, nil, tt.header)
			expectError(t, r, tt.status, tt.code, tt.message)
		})
	}
	if n := h.srv.Len(); n != 0 {
		t.Errorf("Len() = %d after refused requests, want 0", n)
	}
}

func TestWebSocketHandshakeErrors(t *testing.T) {
	h := newHarness(t, engineio.Config{
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("token") == "bad" {
				return errors.New("bad token")
			}
			return nil
		},
	})
	tests := []struct {
		name    string
		query   string
		header  http.Header
		status  int
		code    int
		message string
	}{
		{"EIO 3", "EIO=3&transport=websocket", nil, 400, 5, "Unsupported protocol version"},
		{"unknown sid", "EIO=4&transport=websocket&sid=nope", nil, 400, 1, "Session ID unknown"},
		{"AllowRequest refuses", "EIO=4&transport=websocket&token=bad", nil, 403, 4, "Forbidden"},
		{"foreign origin", "EIO=4&transport=websocket", http.Header{"Origin": {"https://evil.example"}}, 403, 4, "Forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := h.dial(tt.query, tt.header)
			expectDialError(t, resp, err, tt.status, tt.code, tt.message)
		})
	}
}

func TestAllowRequestRefusedError(t *testing.T) {
	type refusal struct{ err error }
	var current atomic.Pointer[refusal]
	h := newHarness(t, engineio.Config{AllowRequest: func(*http.Request) error { return current.Load().err }})
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
	}{
		{"503 with retry", &engineio.RefusedError{Status: 503, RetryAfter: 1500 * time.Millisecond, Reason: "slow down"}, 503, "2"},
		{"429 without retry", &engineio.RefusedError{Status: 429, Reason: "too many"}, 429, ""},
		{"wrapped", fmt.Errorf("limit: %w", &engineio.RefusedError{Status: 503, Reason: "busy"}), 503, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			current.Store(&refusal{tt.err})
			r := h.mustRequest(http.MethodGet, "EIO=4&transport=polling", nil, nil)
			if r.status != tt.status {
				t.Fatalf("status %d body %q, want %d", r.status, r.body, tt.status)
			}
			if got := r.header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
			_, resp, err := h.dial("EIO=4&transport=websocket", nil)
			if err == nil || resp == nil || resp.StatusCode != tt.status {
				t.Errorf("WebSocket handshake: %v (response %v), want HTTP %d", err, resp, tt.status)
			}
		})
	}
	for _, e := range []error{&engineio.RefusedError{Status: 403, Reason: "no"}, &engineio.RefusedError{Reason: "no"}} {
		current.Store(&refusal{e})
		expectError(t, h.mustRequest(http.MethodGet, "EIO=4&transport=polling", nil, nil), 403, 4, "Forbidden")
	}
	if n := h.srv.Len(); n != 0 {
		t.Errorf("Len() = %d after refusals, want 0", n)
	}
}

func TestDisabledTransport(t *testing.T) {
	t.Run("websocket disabled", func(t *testing.T) {
		h := newHarness(t, engineio.Config{Transports: []string{engineio.TransportPolling.String()}})
		_, resp, err := h.dial("EIO=4&transport=websocket", nil)
		expectDialError(t, resp, err, 400, 0, "Transport unknown")
	})
	t.Run("polling disabled", func(t *testing.T) {
		h := newHarness(t, engineio.Config{Transports: []string{engineio.TransportWebSocket.String()}})
		r := h.mustRequest(http.MethodGet, "EIO=4&transport=polling", nil, nil)
		expectError(t, r, 400, 0, "Transport unknown")
	})
}

func TestPath(t *testing.T) {
	h := newHarness(t, engineio.Config{Path: "/eio"})
	if got := h.srv.Config().Path; got != "/eio/" {
		t.Fatalf("Config().Path = %q, want /eio/", got)
	}
	for _, path := range []string{"/eio/", "/eio"} {
		resp, err := h.client.Get(h.ts.URL + path + "?EIO=4&transport=polling")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", path, resp.StatusCode)
		}
	}
	resp, err := h.client.Get(h.ts.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /socket.io/: status %d, want 404", resp.StatusCode)
	}
}

func TestNewServerValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  engineio.Config
	}{
		{"relative path", engineio.Config{Path: "socket.io/"}},
		{"sub-millisecond ping interval", engineio.Config{PingInterval: time.Microsecond}},
		{"negative ping timeout", engineio.Config{PingTimeout: -time.Second}},
		{"negative upgrade timeout", engineio.Config{UpgradeTimeout: -1}},
		{"negative write timeout", engineio.Config{WriteTimeout: -1}},
		{"tiny max payload", engineio.Config{MaxPayload: 10}},
		{"negative queue messages", engineio.Config{MaxQueueMessages: -1}},
		{"negative queue bytes", engineio.Config{MaxQueueBytes: -1}},
		{"unknown transport", engineio.Config{Transports: []string{"webtransport"}}},
		{"origin without scheme", engineio.Config{AllowedOrigins: []string{"app.example"}}},
	}
	accept := func(*engineio.Session) engineio.Receiver { return nil }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := engineio.NewServer(tt.cfg, accept); !errors.Is(err, engineio.ErrInvalidConfig) {
				t.Fatalf("NewServer error %v, want ErrInvalidConfig", err)
			}
		})
	}
	t.Run("nil onSession", func(t *testing.T) {
		if _, err := engineio.NewServer(engineio.Config{}, nil); !errors.Is(err, engineio.ErrInvalidConfig) {
			t.Fatalf("NewServer error %v, want ErrInvalidConfig", err)
		}
	})
}

func TestConfigDefaults(t *testing.T) {
	srv, err := engineio.NewServer(engineio.Config{}, func(*engineio.Session) engineio.Receiver { return nil })
	if err != nil {
		t.Fatal(err)
	}
	cfg := srv.Config()
	if cfg.Path != "/socket.io/" || cfg.PingInterval != 25*time.Second || cfg.PingTimeout != 20*time.Second ||
		cfg.MaxPayload != 1_000_000 || cfg.UpgradeTimeout != 10*time.Second || cfg.WriteTimeout != 10*time.Second ||
		cfg.MaxQueueMessages != 1024 || cfg.MaxQueueBytes != 1<<20 || cfg.Logger == nil ||
		len(cfg.Transports) != 2 {
		t.Errorf("Config() = %+v, want the documented defaults", cfg)
	}
}

func TestShutdown(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	wsConn, _, wsRec := h.openWebSocket()
	_, pollRec := h.openPolling()
	pending := h.pendingGet(pollRec)

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := h.srv.Len(); n != 0 {
		t.Errorf("Len() = %d after Shutdown, want 0", n)
	}
	wsRec.expectClosed(t, engineio.ErrServerShutdown)
	pollRec.expectClosed(t, engineio.ErrServerShutdown)
	expectCloseFrame(t, wsConn)
	if r := awaitResponse(t, pending); r.status != 200 || string(r.body) != "1" {
		t.Errorf("pending GET: status %d body %q, want 200 \"1\"", r.status, r.body)
	}

	r := h.mustRequest(http.MethodGet, "EIO=4&transport=polling", nil, nil)
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("handshake after Shutdown: status %d, want 503", r.status)
	}
	if c, _, err := h.dial("EIO=4&transport=websocket", nil); err == nil {
		if _, _, err := readFrame(c); err == nil {
			t.Error("WebSocket handshake after Shutdown delivered a frame, want the connection closed")
		}
	}
	if n := h.srv.Len(); n != 0 {
		t.Errorf("Len() = %d after handshakes during Shutdown, want 0", n)
	}
}

func TestShutdownDeadlineAbortsIdlePolling(t *testing.T) {
	// A polling session that never polls again cannot be told it closes;
	// Shutdown gives up at its deadline and drops it.
	h := newHarness(t, engineio.Config{})
	_, rec := h.openPolling()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := h.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want context.DeadlineExceeded", err)
	}
	rec.expectClosed(t, engineio.ErrServerShutdown)
	if n := h.srv.Len(); n != 0 {
		t.Errorf("Len() = %d after Shutdown, want 0", n)
	}
	if got := rec.closes.Load(); got != 1 {
		t.Errorf("Closed called %d times, want 1", got)
	}
}

func TestSendAfterCloseFails(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	_, rec := h.openPolling()
	rec.sess.Close(engineio.ErrForcedClose)
	rec.expectClosed(t, engineio.ErrForcedClose)
	if err := rec.sess.Send(engineio.TextMessage([]byte("late"))); !errors.Is(err, engineio.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if r := h.get(rec.sess.ID()); string(r.body) != "1" {
		t.Errorf("GET after Close: body %q, want \"1\"", r.body)
	}
	rec.sess.Abort(engineio.ErrForcedClose)
	expectError(t, h.get(rec.sess.ID()), 400, 1, "Session ID unknown")
	if got := rec.closes.Load(); got != 1 {
		t.Errorf("Closed called %d times, want 1", got)
	}
}

// A second Close, such as Shutdown closing every session while one is
// already closing gracefully, must not turn the graceful close into an
// abort: what was queued (a Socket.IO disconnect packet, typically) would be
// lost.
func TestCloseOnClosingSessionStaysGraceful(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	_, rec := h.openPolling()
	if err := rec.sess.Send(engineio.TextMessage([]byte("bye"))); err != nil {
		t.Fatal(err)
	}
	rec.sess.Close(engineio.ErrForcedClose)
	rec.sess.Close(engineio.ErrServerShutdown)
	rec.expectClosed(t, engineio.ErrForcedClose)
	if r := h.get(rec.sess.ID()); r.status != 200 || string(r.body) != "4bye\x1e1" {
		t.Errorf("GET after Close: status %d body %q, want 200 %q", r.status, r.body, "4bye\x1e1")
	}
}

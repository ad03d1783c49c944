package engineio_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
)

var fastHeartbeat = engineio.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 40 * time.Millisecond}

func TestHeartbeatWebSocketAnswered(t *testing.T) {
	h := newHarness(t, fastHeartbeat)
	c, _, rec := h.openWebSocket()
	const pings = 5
	var first time.Time
	for i := 0; i < pings; i++ {
		if got := readText(t, c); got != "2" {
			t.Fatalf("read %q, want ping 2", got)
		}
		if i == 0 {
			first = time.Now()
		}
		writeText(t, c, "3")
	}
	// The pings are paced by the interval, not sent back to back.
	if d := time.Since(first); d < (pings-1)*fastHeartbeat.PingInterval {
		t.Errorf("%d pings within %v, want at least %v between consecutive pings", pings, d, fastHeartbeat.PingInterval)
	}
	rec.expectOpen(t)
	if n := h.srv.Len(); n != 1 {
		t.Errorf("Len() = %d, want 1", n)
	}
}

func TestHeartbeatWebSocketUnanswered(t *testing.T) {
	h := newHarness(t, fastHeartbeat)
	c, _, rec := h.openWebSocket()
	if got := readText(t, c); got != "2" {
		t.Fatalf("read %q, want ping 2", got)
	}
	pinged := time.Now()
	rec.expectClosed(t, engineio.ErrPingTimeout)
	if d := time.Since(pinged); d < fastHeartbeat.PingTimeout/2 {
		t.Errorf("closed %v after the ping, want about the ping timeout %v", d, fastHeartbeat.PingTimeout)
	}
	expectConnEnd(t, c)
	if n := h.srv.Len(); n != 0 {
		t.Errorf("Len() = %d, want 0", n)
	}
}

func TestHeartbeatUnsolicitedPong(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	c, _, rec := h.openWebSocket()
	writeText(t, c, "3")
	writeText(t, c, "4after")
	rec.expectText(t, "after")
	rec.expectOpen(t)
}

func TestHeartbeatPollingAnswered(t *testing.T) {
	// A polling round trip (GET answered, then a new POST) takes longer
	// than a WebSocket one; the timeout leaves room for a loaded machine.
	h := newHarness(t, engineio.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 500 * time.Millisecond})
	o, rec := h.openPolling()
	for range 3 {
		if r := h.get(o.SID); r.status != http.StatusOK || string(r.body) != "2" {
			t.Fatalf("GET: status %d body %q, want ping 2", r.status, r.body)
		}
		if r := h.post(o.SID, "3"); string(r.body) != "ok" {
			t.Fatalf("POST 3: status %d body %q", r.status, r.body)
		}
	}
	rec.expectOpen(t)
}

func TestHeartbeatPollingStopsPolling(t *testing.T) {
	h := newHarness(t, fastHeartbeat)
	o, rec := h.openPolling()
	rec.expectClosed(t, engineio.ErrPingTimeout)
	expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
}

func TestHeartbeatPollingPingUnanswered(t *testing.T) {
	h := newHarness(t, fastHeartbeat)
	o, rec := h.openPolling()
	if r := h.get(o.SID); string(r.body) != "2" {
		t.Fatalf("GET: status %d body %q, want ping 2", r.status, r.body)
	}
	rec.expectClosed(t, engineio.ErrPingTimeout)
}

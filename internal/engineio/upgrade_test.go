package engineio_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tradewithai/realtime/internal/engineio"
)

// upgradeQuery is the query of a WebSocket that upgrades session sid.
func upgradeQuery(sid string) string { return "EIO=4&transport=websocket&sid=" + sid }

func TestUpgrade(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	o, rec := h.openPolling()
	if r := h.post(o.SID, "4over polling"); string(r.body) != "ok" {
		t.Fatalf("POST: %d %q", r.status, r.body)
	}
	rec.expectText(t, "over polling")
	pending := h.pendingGet(rec)

	c, _, err := h.dial(upgradeQuery(o.SID), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	writeText(t, c, "2probe")
	if got := readText(t, c); got != "3probe" {
		t.Fatalf("probe answered %q, want 3probe", got)
	}
	if r := awaitResponse(t, pending); r.status != http.StatusOK || string(r.body) != "6" {
		t.Fatalf("pending GET: status %d body %q, want 200 \"6\"", r.status, r.body)
	}
	if got := rec.sess.Transport(); got != engineio.TransportPolling {
		t.Errorf("Transport() = %q before the upgrade packet, want polling", got)
	}

	// Sent while the client finishes the upgrade: nothing carries them yet.
	sent := fmtMessages("m", 10)
	for _, m := range sent[:5] {
		if err := rec.sess.Send(engineio.TextMessage([]byte(m))); err != nil {
			t.Fatal(err)
		}
	}
	writeText(t, c, "5")
	for _, m := range sent[5:] {
		if err := rec.sess.Send(engineio.TextMessage([]byte(m))); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range sent {
		if got := readText(t, c); got != "4"+m {
			t.Fatalf("message %d over the WebSocket: %q, want %q", i, got, "4"+m)
		}
	}
	if got := rec.sess.Transport(); got != engineio.TransportWebSocket {
		t.Errorf("Transport() = %q after the upgrade, want websocket", got)
	}

	writeText(t, c, "4over websocket")
	rec.expectText(t, "over websocket")
	if err := c.WriteMessage(websocket.BinaryMessage, []byte{7}); err != nil {
		t.Fatal(err)
	}
	if m := rec.next(t); !m.binary || len(m.data) != 1 || m.data[0] != 7 {
		t.Fatalf("received (%v, binary=%v), want binary [7]", m.data, m.binary)
	}

	// Polling is over for this session.
	expectError(t, h.get(o.SID), 400, 3, "Bad request")
	expectError(t, h.post(o.SID, "4late"), 400, 3, "Bad request")
	h.expectDialClosed(t, upgradeQuery(o.SID))
	rec.expectOpen(t)

	rec.sess.Close(engineio.ErrForcedClose)
	expectCloseFrame(t, c)
	rec.expectClosed(t, engineio.ErrForcedClose)
}

func TestUpgradeWithoutPendingGET(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	o, rec := h.openPolling()
	c, _, err := h.dial(upgradeQuery(o.SID), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	writeText(t, c, "2probe")
	if got := readText(t, c); got != "3probe" {
		t.Fatalf("probe answered %q, want 3probe", got)
	}
	writeText(t, c, "5")
	if err := rec.sess.Send(engineio.TextMessage([]byte("after"))); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, c); got != "4after" {
		t.Fatalf("read %q, want 4after", got)
	}
}

func TestUpgradeProbeRefused(t *testing.T) {
	tests := []struct {
		name  string
		frame string
	}{
		{"wrong probe", "2nope"},
		{"message instead of probe", "4hello"},
		{"upgrade without probe", "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, engineio.Config{})
			o, rec := h.openPolling()
			c, _, err := h.dial(upgradeQuery(o.SID), nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			writeText(t, c, tt.frame)
			expectConnEnd(t, c)
			// The session carries on over polling.
			if err := rec.sess.Send(engineio.TextMessage([]byte("still polling"))); err != nil {
				t.Fatal(err)
			}
			if r := h.get(o.SID); r.status != http.StatusOK || string(r.body) != "4still polling" {
				t.Fatalf("GET: status %d body %q, want 200 %q", r.status, r.body, "4still polling")
			}
			if got := rec.sess.Transport(); got != engineio.TransportPolling {
				t.Errorf("Transport() = %q, want polling", got)
			}
			rec.expectOpen(t)
		})
	}
}

func TestUpgradeTimeout(t *testing.T) {
	h := newHarness(t, engineio.Config{UpgradeTimeout: 100 * time.Millisecond})
	o, rec := h.openPolling()
	c, _, err := h.dial(upgradeQuery(o.SID), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	writeText(t, c, "2probe")
	if got := readText(t, c); got != "3probe" {
		t.Fatalf("probe answered %q, want 3probe", got)
	}
	// Queued while the upgrade hangs: still owed to the client.
	if err := rec.sess.Send(engineio.TextMessage([]byte("during"))); err != nil {
		t.Fatal(err)
	}
	// No upgrade packet follows: the server gives up on the WebSocket and
	// keeps the session on polling.
	expectConnEnd(t, c)
	if err := rec.sess.Send(engineio.TextMessage([]byte("after"))); err != nil {
		t.Fatal(err)
	}
	if r := h.get(o.SID); r.status != http.StatusOK || string(r.body) != "4during\x1e4after" {
		t.Fatalf("GET: status %d body %q, want 200 %q", r.status, r.body, "4during\x1e4after")
	}
	if got := rec.sess.Transport(); got != engineio.TransportPolling {
		t.Errorf("Transport() = %q, want polling", got)
	}
	rec.expectOpen(t)
}

func TestConcurrentUpgradeRefused(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	o, rec := h.openPolling()
	c, _, err := h.dial(upgradeQuery(o.SID), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	h.expectDialClosed(t, upgradeQuery(o.SID))
	// The first upgrade still completes.
	writeText(t, c, "2probe")
	if got := readText(t, c); got != "3probe" {
		t.Fatalf("probe answered %q, want 3probe", got)
	}
	writeText(t, c, "5")
	writeText(t, c, "4done")
	rec.expectText(t, "done")
}

func TestCloseDuringUpgrade(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	o, rec := h.openPolling()
	pending := h.pendingGet(rec)
	c, _, err := h.dial(upgradeQuery(o.SID), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	rec.sess.Close(engineio.ErrForcedClose)
	rec.expectClosed(t, engineio.ErrForcedClose)
	expectConnEnd(t, c)
	if r := awaitResponse(t, pending); r.status != http.StatusOK || string(r.body) != "1" {
		t.Fatalf("pending GET: status %d body %q, want 200 \"1\"", r.status, r.body)
	}
	expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
}

// clientTextFrame is a final, masked text frame (the zero masking key
// leaves the payload as it is).
func clientTextFrame(payload string) []byte {
	f := []byte{0x81, 0x80 | byte(len(payload)), 0, 0, 0, 0}
	return append(f, payload...)
}

// A client that sends the upgrade packet right behind the probe has
// upgraded: a GET it sent afterwards is refused, even when the server
// handled that GET before it read the probe.
func TestUpgradePacketBehindProbeRefusesHeldGET(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	o, rec := h.openPolling()
	get := h.pendingGet(rec)
	c, _, err := h.dial(upgradeQuery(o.SID), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if _, err := c.NetConn().Write(append(clientTextFrame("2probe"), clientTextFrame("5")...)); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, c); got != "3probe" {
		t.Fatalf("probe answered %q, want 3probe", got)
	}
	expectError(t, awaitResponse(t, get), 400, 3, "Bad request")
	writeText(t, c, "4hello")
	rec.expectText(t, "hello")
	rec.expectOpen(t)
}

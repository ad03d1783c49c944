package engineio_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tradewithai/realtime/internal/engineio"
)

func TestWebSocketMessages(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	c, _, rec := h.openWebSocket()

	writeText(t, c, "4hello")
	if err := c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	writeText(t, c, "6")
	writeText(t, c, "4h\u00e9llo")
	rec.expectText(t, "hello")
	if m := rec.next(t); !m.binary || !bytes.Equal(m.data, []byte{1, 2, 3}) {
		t.Fatalf("received (%v, binary=%v), want binary [1 2 3]", m.data, m.binary)
	}
	rec.expectText(t, "h\u00e9llo")

	if err := rec.sess.Send(engineio.TextMessage([]byte("hi")), engineio.Message{Data: []byte{9, 8}, Binary: true}); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, c); got != "4hi" {
		t.Fatalf("read %q, want 4hi", got)
	}
	typ, data, err := readFrame(c)
	if err != nil || typ != websocket.BinaryMessage || !bytes.Equal(data, []byte{9, 8}) {
		t.Fatalf("read (%d, %v, %v), want binary [9 8]", typ, data, err)
	}
	rec.expectOpen(t)
}

// Frame lengths around the 7-bit, 16-bit and 64-bit length encodings and
// around the writer's buffer size all arrive intact and in order.
func TestWebSocketFrameSizes(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	c, _, rec := h.openWebSocket()
	sizes := []int{0, 1, 124, 125, 126, 127, 1000, 65535, 65536, 32<<10 - 20, 32 << 10, 100_000, 3}
	var msgs []engineio.Message
	for i, n := range sizes {
		data := bytes.Repeat([]byte{byte('a' + i)}, n)
		if i%2 == 0 {
			msgs = append(msgs, engineio.TextMessage(data))
		} else {
			msgs = append(msgs, engineio.Message{Data: data, Binary: true})
		}
	}
	// One Send, so the writer coalesces them into as few writes as it can.
	if err := rec.sess.Send(msgs...); err != nil {
		t.Fatal(err)
	}
	for i, want := range msgs {
		typ, data, err := readFrame(c)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		wantType := websocket.TextMessage
		if want.Binary {
			wantType = websocket.BinaryMessage
		}
		if typ != wantType || !bytes.Equal(data, want.Data) {
			t.Fatalf("message %d: type %d, %d bytes; want type %d, %d bytes", i, typ, len(data), wantType, len(want.Data))
		}
	}
}

func TestWebSocketSharedMessage(t *testing.T) {
	// One Message handed to many sessions reaches each unchanged.
	h := newHarness(t, engineio.Config{})
	msg := engineio.TextMessage([]byte("tick"))
	var conns []*websocket.Conn
	var recs []*recorder
	for range 5 {
		c, _, rec := h.openWebSocket()
		conns = append(conns, c)
		recs = append(recs, rec)
	}
	for _, rec := range recs {
		if err := rec.sess.Send(msg); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range conns {
		if got := readText(t, c); got != "4tick" {
			t.Fatalf("read %q, want 4tick", got)
		}
	}
	if string(msg.Data) != "4tick" {
		t.Fatalf("message data changed to %q", msg.Data)
	}
}

func TestWebSocketMaxPayload(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name   string
		typ    int
		size   int
		closes bool
	}{
		{"text at the limit", websocket.TextMessage, limit, false},
		{"binary at the limit", websocket.BinaryMessage, limit, false},
		{"text over the limit", websocket.TextMessage, limit + 1, true},
		{"binary over the limit", websocket.BinaryMessage, 10 * limit, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, engineio.Config{MaxPayload: limit})
			c, _, rec := h.openWebSocket()
			data := []byte("4" + strings.Repeat("x", tt.size-1))
			// The server may drop the connection before the whole message
			// is written.
			if err := c.WriteMessage(tt.typ, data); err != nil && !tt.closes {
				t.Fatal(err)
			}
			if !tt.closes {
				m := rec.next(t)
				if len(m.data) < limit-1 {
					t.Fatalf("received %d bytes, want the message", len(m.data))
				}
				rec.expectOpen(t)
				return
			}
			rec.expectClosed(t, engineio.ErrPayloadTooLarge)
			expectConnEnd(t, c)
			if n := h.srv.Len(); n != 0 {
				t.Errorf("Len() = %d, want 0", n)
			}
		})
	}
}

func TestWebSocketClientCloses(t *testing.T) {
	tests := []struct {
		name  string
		close func(*websocket.Conn) error
	}{
		{"close frame", func(c *websocket.Conn) error {
			return c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		}},
		{"going away", func(c *websocket.Conn) error {
			return c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
		}},
		{"TCP close", func(c *websocket.Conn) error { return c.NetConn().Close() }},
		{"close packet", func(c *websocket.Conn) error { return c.WriteMessage(websocket.TextMessage, []byte("1")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, engineio.Config{})
			c, _, rec := h.openWebSocket()
			if err := tt.close(c); err != nil {
				t.Fatal(err)
			}
			rec.expectClosed(t, engineio.ErrTransportClose)
			if n := h.srv.Len(); n != 0 {
				t.Errorf("Len() = %d, want 0", n)
			}
		})
	}
}

func TestWebSocketMalformedPackets(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"empty frame", ""},
		{"unknown type", "9x"},
		{"base64 prefix", "bAQID"},
		{"ping from client", "2"},
		{"open from client", "0"},
		{"upgrade outside an upgrade", "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, engineio.Config{})
			c, _, rec := h.openWebSocket()
			writeText(t, c, tt.data)
			rec.expectClosed(t, engineio.ErrParseError)
			expectConnEnd(t, c)
		})
	}
}

func TestWebSocketGracefulCloseFlushes(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	c, _, rec := h.openWebSocket()
	sent := fmtMessages("m", 100)
	for _, m := range sent {
		if err := rec.sess.Send(engineio.TextMessage([]byte(m))); err != nil {
			t.Fatal(err)
		}
	}
	rec.sess.Close(engineio.ErrForcedClose)
	if err := rec.sess.Send(engineio.TextMessage([]byte("late"))); err == nil {
		t.Error("Send after Close succeeded")
	}
	for i, m := range sent {
		if got := readText(t, c); got != "4"+m {
			t.Fatalf("message %d: %q, want %q", i, got, "4"+m)
		}
	}
	expectCloseFrame(t, c)
	rec.expectClosed(t, engineio.ErrForcedClose)
	waitUntil(t, "the session is removed", func() bool { return h.srv.Len() == 0 })
}

func TestWebSocketAbort(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	c, _, rec := h.openWebSocket()
	rec.sess.Abort(engineio.ErrForcedClose)
	rec.expectClosed(t, engineio.ErrForcedClose)
	expectConnEnd(t, c)
	if n := h.srv.Len(); n != 0 {
		t.Errorf("Len() = %d, want 0", n)
	}
}

func TestWebSocketSessionCannotUpgrade(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	c, o, rec := h.openWebSocket()
	h.expectDialClosed(t, "EIO=4&transport=websocket&sid="+o.SID)
	expectError(t, h.get(o.SID), 400, 3, "Bad request")
	expectError(t, h.post(o.SID, "4x"), 400, 3, "Bad request")
	// The session is unharmed.
	writeText(t, c, "4still")
	rec.expectText(t, "still")
	rec.expectOpen(t)
}

// Client messages of every length encoding, larger than a read buffer,
// fragmented, and with control frames between the fragments, all arrive
// whole.
func TestWebSocketInboundFrames(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	h.dialer.WriteBufferSize = 256 // NextWriter sends a frame per 256 bytes
	c, _, rec := h.openWebSocket()

	for _, n := range []int{1, 125, 126, 127, 65535, 65536, 100_000} {
		msg := "4" + strings.Repeat("m", n-1)
		writeText(t, c, msg)
		if m := rec.next(t); m.binary || string(m.data) != msg[1:] {
			t.Fatalf("message of %d bytes: received %d bytes (binary=%v)", n, len(m.data), m.binary)
		}
	}

	w, err := c.NextWriter(websocket.BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte{1, 2, 3}, 300)
	if _, err := w.Write(want[:600]); err != nil {
		t.Fatal(err)
	}
	for _, op := range []int{websocket.PingMessage, websocket.PongMessage} {
		if err := c.WriteControl(op, []byte("x"), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Write(want[600:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if m := rec.next(t); !m.binary || !bytes.Equal(m.data, want) {
		t.Fatalf("fragmented message: received %d bytes (binary=%v), want %d binary", len(m.data), m.binary, len(want))
	}
	writeText(t, c, "4after")
	rec.expectText(t, "after")
	rec.expectOpen(t)
}

// Frames that break RFC 6455 close the session as a transport error, with a
// protocol-error close frame.
func TestWebSocketProtocolErrors(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
	}{
		{"unmasked", []byte{0x81, 0x02, '4', 'x'}},
		{"reserved bit", []byte{0xC1, 0x80, 0, 0, 0, 0}},
		{"unknown opcode", []byte{0x83, 0x80, 0, 0, 0, 0}},
		{"continuation first", []byte{0x80, 0x80, 0, 0, 0, 0}},
		{"fragmented ping", []byte{0x09, 0x80, 0, 0, 0, 0}},
		{"bad close code", []byte{0x88, 0x82, 0, 0, 0, 0, 0x03, 0xED}}, // 1005 may not be sent
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, engineio.Config{})
			c, _, rec := h.openWebSocket()
			if _, err := c.NetConn().Write(tt.frame); err != nil {
				t.Fatal(err)
			}
			rec.expectClosed(t, engineio.ErrTransportError)
			_, _, err := readFrame(c)
			if !websocket.IsCloseError(err, websocket.CloseProtocolError) {
				t.Fatalf("read error %v, want close frame 1002", err)
			}
		})
	}
}

// Over TLS, where a connection cannot be parked, the session reads on a
// goroutine of its own, messages larger than its read buffer included.
func TestWebSocketOverTLS(t *testing.T) {
	recs := make(chan *recorder, 1)
	srv, err := engineio.NewServer(engineio.Config{}, func(s *engineio.Session) engineio.Receiver {
		rec := newRecorder(s)
		recs <- rec
		return rec
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(srv)
	defer ts.Close()
	dialer := websocket.Dialer{TLSClientConfig: ts.Client().Transport.(*http.Transport).TLSClientConfig, HandshakeTimeout: waitTimeout}
	c, _, err := dialer.Dial("wss"+strings.TrimPrefix(ts.URL, "https")+engineio.DefaultPath+"?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	parseOpen(t, []byte(readText(t, c)))
	rec := <-recs

	long := strings.Repeat("y", 5000)
	for _, m := range []string{"hello", long, "again"} {
		writeText(t, c, "4"+m)
		rec.expectText(t, m)
	}
	if err := rec.sess.Send(engineio.TextMessage([]byte("hi"))); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, c); got != "4hi" {
		t.Fatalf("read %q, want 4hi", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	rec.expectClosed(t, engineio.ErrServerShutdown)
}

// A WebSocket ping from the client is answered with a pong carrying its
// payload (RFC 6455, section 5.5.2), and the session goes on.
func TestWebSocketPingAnswered(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	c, _, rec := h.openWebSocket()
	pongs := make(chan string, 1)
	c.SetPongHandler(func(data string) error { pongs <- data; return nil })
	if err := c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(waitTimeout)); err != nil {
		t.Fatal(err)
	}
	writeText(t, c, "4after the ping")
	rec.expectText(t, "after the ping")
	if err := rec.sess.Send(engineio.TextMessage([]byte("reply"))); err != nil {
		t.Fatal(err)
	}
	// The client handles the pong while it reads on to the message.
	if got := readText(t, c); got != "4reply" {
		t.Fatalf("read %q, want 4reply", got)
	}
	select {
	case got := <-pongs:
		if got != "are you there" {
			t.Fatalf("pong %q, want the ping's payload", got)
		}
	default:
		t.Fatal("no pong arrived before the next message")
	}
	rec.expectOpen(t)
}

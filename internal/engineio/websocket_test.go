package engineio_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
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
		echo  int // the close code the client then reads; 0: none
	}{
		{"close frame", func(c *websocket.Conn) error {
			return c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		}, websocket.CloseNormalClosure},
		{"going away", func(c *websocket.Conn) error {
			return c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
		}, websocket.CloseGoingAway},
		{"TCP close", func(c *websocket.Conn) error { return c.NetConn().Close() }, 0},
		{"close packet", func(c *websocket.Conn) error { return c.WriteMessage(websocket.TextMessage, []byte("1")) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, engineio.Config{})
			c, _, rec := h.openWebSocket()
			if err := tt.close(c); err != nil {
				t.Fatal(err)
			}
			if tt.echo != 0 {
				// The close handshake completes: no 1006 (abnormal
				// closure) for the client.
				if _, _, err := readFrame(c); !websocket.IsCloseError(err, tt.echo) {
					t.Fatalf("read error %v, want the close frame %d echoed", err, tt.echo)
				}
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

// Opcodes of the frames the tests write by hand (RFC 6455, section 5.2).
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

// clientFrame builds a client frame as RFC 6455 requires it: masked.
func clientFrame(fin bool, op byte, payload string) []byte {
	key := [4]byte{0xA1, 0xB2, 0xC3, 0xD4}
	b0 := op
	if fin {
		b0 |= 0x80
	}
	f := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xFFFF:
		f = binary.BigEndian.AppendUint16(append(f, 0x80|126), uint16(n))
	default:
		f = binary.BigEndian.AppendUint64(append(f, 0x80|127), uint64(n))
	}
	f = append(f, key[:]...)
	for i := range len(payload) {
		f = append(f, payload[i]^key[i%4])
	}
	return f
}

// closePayload is the payload of a close frame with code and reason.
func closePayload(code uint16, reason string) string {
	return string(binary.BigEndian.AppendUint16(nil, code)) + reason
}

// expectServerClose reads the server's next frame straight off the wire,
// checks that it is a close frame with payload want, and that the server
// then closes the connection, sending nothing more.
func expectServerClose(t *testing.T, c *websocket.Conn, want []byte) {
	t.Helper()
	nc := c.NetConn() // nothing is buffered above it: the open packet is read
	_ = nc.SetReadDeadline(time.Now().Add(waitTimeout))
	br := bufio.NewReader(nc)
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		t.Fatalf("no frame from the server: %v", err)
	}
	if hdr[0] != 0x80|opClose || hdr[1] > 125 {
		t.Fatalf("server sent frame header %#x %#x, want an unmasked close frame", hdr[0], hdr[1])
	}
	payload := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, payload); err != nil {
		t.Fatalf("close frame cut short: %v", err)
	}
	if !bytes.Equal(payload, want) {
		t.Fatalf("close frame payload %x, want %x", payload, want)
	}
	if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after the close frame: read %d bytes, %v; want the connection closed (EOF)", n, err)
	}
}

// closeCode is the payload of a close frame with code and no reason.
func closeCode(code uint16) []byte { return binary.BigEndian.AppendUint16(nil, code) }

// How the frame reader's verdicts end a session (package wsconn tests
// the frames themselves): a frame that breaks RFC 6455 is answered with a
// close frame saying why, the connection is closed, and the session ends
// with the matching reason; a client's close frame is echoed.
func TestWebSocketFramesEndSession(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name   string
		wire   []byte
		code   []byte
		reason error
	}{
		{"unmasked frame", []byte{0x81, 0x02, '4', 'x'}, closeCode(1002), engineio.ErrTransportError},
		{"fragmented ping", clientFrame(false, opPing, "p"), closeCode(1002), engineio.ErrTransportError},
		{"text that is not UTF-8", clientFrame(true, opText, "4\xff"), closeCode(1007), engineio.ErrTransportError},
		{"message over the limit", clientFrame(true, opText, strings.Repeat("x", limit+1))[:8], closeCode(1009), engineio.ErrPayloadTooLarge},
		{"close frame", clientFrame(true, opClose, closePayload(1001, "bye")), closeCode(1001), engineio.ErrTransportClose},
		{"close frame without a code", clientFrame(true, opClose, ""), []byte{}, engineio.ErrTransportClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, engineio.Config{MaxPayload: limit})
			c, _, rec := h.openWebSocket()
			if _, err := c.NetConn().Write(tt.wire); err != nil {
				t.Fatal(err)
			}
			expectServerClose(t, c, tt.code)
			rec.expectClosed(t, tt.reason)
			waitUntil(t, "the session is removed", func() bool { return h.srv.Len() == 0 })
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

package wsconn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// scriptConn is a net.Conn whose reads serve a fixed client byte stream,
// chunk bytes at a time at most (0: as much as is asked), then io.EOF,
// and whose writes are recorded. It runs no goroutine and never blocks.
type scriptConn struct {
	in    []byte
	chunk int
	out   bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	if c.chunk > 0 && len(p) > c.chunk {
		p = p[:c.chunk]
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *scriptConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// hijackWriter is the http.ResponseWriter of a request whose connection
// is hijacked at once: how a server-side gorilla Conn is made on a
// connection of the test's choosing.
type hijackWriter struct {
	conn   net.Conn
	header http.Header
}

func (w *hijackWriter) Header() http.Header         { return w.header }
func (w *hijackWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *hijackWriter) WriteHeader(int)             {}
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, bufio.NewReadWriter(bufio.NewReader(w.conn), bufio.NewWriter(w.conn)), nil
}

// gorillaServerConn upgrades conn into gorilla's server side of a
// WebSocket, and forgets the handshake response it wrote.
func gorillaServerConn(t *testing.T, conn *scriptConn) *websocket.Conn {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	c, err := (&websocket.Upgrader{}).Upgrade(&hijackWriter{conn: conn, header: http.Header{}}, r, nil)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	conn.out.Reset()
	return c
}

// Outcome classes of a read: how the reader ended, on which the two readers
// must agree.
type readEnd int

const (
	endEOF         readEnd = iota // the stream ended (anywhere)
	endProtocol                   // a frame broke RFC 6455: close 1002
	endTooBig                     // a message over the limit: close 1009
	endInvalidUTF8                // text that is not UTF-8: close 1007
	endPeerClose                  // a valid close frame: its code echoed
)

func (e readEnd) String() string {
	return [...]string{"EOF", "protocol error", "message too big", "invalid UTF-8", "peer close"}[e]
}

type readMsg struct {
	binary bool
	data   []byte
}

func (m readMsg) String() string {
	if m.binary {
		return fmt.Sprintf("binary %x", m.data)
	}
	return fmt.Sprintf("text %q", m.data)
}

// readResult is what one reader made of a stream.
type readResult struct {
	msgs   []readMsg
	end    readEnd
	code   int      // endPeerClose: the code received, 1005 for none
	pongs  [][]byte // the pongs written back, in order
	closes [][]byte // the payloads of the close frames written back
}

// serverFrames parses the frames a server wrote (unmasked).
func serverFrames(t *testing.T, out []byte) (pongs, closes [][]byte) {
	t.Helper()
	for len(out) > 0 {
		if len(out) < 2 || out[1]&0x80 != 0 || out[1]&0x7F > 125 {
			t.Fatalf("server wrote a frame that is not an unmasked control frame: %x", out)
		}
		n := int(out[1])
		if len(out) < 2+n {
			t.Fatalf("server wrote a truncated frame: %x", out)
		}
		payload := out[2 : 2+n]
		switch out[0] {
		case 0x80 | opPong:
			pongs = append(pongs, payload)
		case 0x80 | opClose:
			closes = append(closes, payload)
		default:
			t.Fatalf("server wrote frame %#x", out[0])
		}
		out = out[2+n:]
	}
	return pongs, closes
}

// readOurs runs our reader over in, and returns how many bytes of in it
// consumed.
func readOurs(t *testing.T, in []byte, chunk int, limit int64) (readResult, int) {
	conn := &scriptConn{in: in, chunk: chunk}
	ws := &Conn{nc: conn}
	var res readResult
	var err error
	for {
		var m readMsg
		if m.binary, m.data, err = ws.ReadMessage(limit, time.Second); err != nil {
			break
		}
		res.msgs = append(res.msgs, m)
	}
	consumed := len(in) - len(conn.in) - ws.br.Buffered()
	ws.putReader()
	res.pongs, res.closes = serverFrames(t, conn.out.Bytes())
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		res.end = endEOF
	case errors.Is(err, ErrProtocol):
		res.end = endProtocol
	case errors.Is(err, ErrReadLimit):
		res.end = endTooBig
	case errors.Is(err, ErrInvalidUTF8):
		res.end = endInvalidUTF8
	case errors.Is(err, ErrPeerClosed):
		res.end = endPeerClose
		// The code is known from the echo, checked against gorilla's.
		res.code = websocket.CloseNoStatusReceived
		if len(res.closes) == 1 && len(res.closes[0]) == 2 {
			res.code = int(binary.BigEndian.Uint16(res.closes[0]))
		}
	default:
		t.Fatalf("our reader failed with %v", err)
	}
	return res, consumed
}

// gorillaResult is what gorilla made of a stream, with what the reader
// must be checked against where the two legitimately differ.
type gorillaResult struct {
	readResult
	errText string // the error gorilla ended with
	// The message being read when gorilla ended, as far as it got.
	partial       []byte
	partialBinary bool
}

func readGorilla(t *testing.T, in []byte, chunk int, limit int64) gorillaResult {
	conn := &scriptConn{in: in, chunk: chunk}
	c := gorillaServerConn(t, conn)
	c.SetReadLimit(limit)
	var res gorillaResult
	var err error
	for {
		var typ int
		var data []byte
		if typ, data, err = c.ReadMessage(); err != nil {
			res.partial, res.partialBinary = data, typ == websocket.BinaryMessage
			break
		}
		res.msgs = append(res.msgs, readMsg{binary: typ == websocket.BinaryMessage, data: data})
	}
	res.errText = err.Error()
	res.pongs, res.closes = serverFrames(t, conn.out.Bytes())
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure:
		res.end = endEOF // gorilla's name for a stream that ended early
	case errors.As(err, &ce):
		res.end, res.code = endPeerClose, ce.Code
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		res.end = endEOF
	case errors.Is(err, websocket.ErrReadLimit):
		res.end = endTooBig
	default: // gorilla's protocol errors are plain "websocket: ..." errors
		res.end = endProtocol
	}
	return res
}

// utf8Prefix reports whether p begins valid UTF-8: it is valid, or one to
// three more bytes make it so. It tries them all, so as to share nothing
// with the reader's incremental check.
func utf8Prefix(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	q := make([]byte, len(p), len(p)+3)
	copy(q, p)
	for k := 1; k <= 3; k++ {
		q = q[:len(p)+k]
		for j := len(p) + 1; j < len(q); j++ {
			q[j] = 0x80 // the third and fourth bytes of a rune are free
		}
		for b := 0x80; b <= 0xBF; b++ {
			q[len(p)] = byte(b)
			if utf8.Valid(q) {
				return true
			}
		}
	}
	return false
}

// expectedCloses is the close frame a reader that ended so must have sent.
func expectedCloses(end readEnd, code int) [][]byte {
	switch end {
	case endProtocol:
		return [][]byte{{0x03, 0xEA}}
	case endInvalidUTF8:
		return [][]byte{{0x03, 0xEF}}
	case endTooBig:
		return [][]byte{{0x03, 0xF1}}
	case endPeerClose:
		if code == websocket.CloseNoStatusReceived {
			return [][]byte{{}}
		}
		return [][]byte{binary.BigEndian.AppendUint16(nil, uint16(code))}
	}
	return nil
}

// oneByteCloseEndsAt reports whether in[:end] ends with a close frame
// whose payload is one byte.
func oneByteCloseEndsAt(in []byte, end int) bool {
	return end >= 7 && in[end-7] == 0x80|opClose && in[end-6] == 0x80|1
}

// checkAgainstGorilla compares our reader's result with gorilla's on the
// same stream. The readers differ where RFC 6455 leaves room or gorilla
// leaves work to its applications; these are normalised here:
//
//   - gorilla does not check that text is UTF-8 (its applications do, once
//     they have the message); ours fails the message with 1007 at the
//     first frame that proves it invalid (Autobahn 6.x), not reading the
//     frames after it. So gorilla ending on, or returning, a text message
//     that does not begin valid UTF-8 counts as invalid UTF-8, and the
//     pongs ours sent are then only a prefix of gorilla's. When the stream
//     ends inside a frame, gorilla's partial message includes that frame's
//     bytes, which ours never checks: either end is accepted then.
//   - gorilla answers a close frame whose reason is not UTF-8 with 1002;
//     ours with 1007, as Autobahn 7.5.1 expects.
//   - gorilla takes a close frame with a one-byte payload for one without
//     a status code; ours refuses it with 1002 (RFC 6455, section 5.5.1:
//     the body starts with a two-byte code), as coder/websocket does.
//   - gorilla refuses the close code 1014 (Bad Gateway), which the IANA
//     registry added after gorilla's list was written; ours accepts it,
//     as coder/websocket does.
//   - gorilla sends no close frame for a 64-bit length with its top bit
//     set; ours sends 1009, as for any message over the limit. Only our
//     close frames are compared with what the end requires.
func checkAgainstGorilla(t *testing.T, in []byte, ours readResult, consumed int, g gorillaResult) {
	t.Helper()
	want := g.readResult
	// Gorilla's messages up to the first that is text and not UTF-8.
	if i := slices.IndexFunc(want.msgs, func(m readMsg) bool { return !m.binary && !utf8.Valid(m.data) }); i >= 0 {
		want.msgs, want.end = want.msgs[:i], endInvalidUTF8
	}
	eitherEnd := false // the ambiguity of a stream cut inside a frame
	if want.end != endInvalidUTF8 && !g.partialBinary && !utf8Prefix(g.partial) {
		if want.end == endEOF {
			eitherEnd = ours.end == endInvalidUTF8
		} else {
			want.end = endInvalidUTF8
		}
	}
	switch {
	case eitherEnd:
		want.end = endInvalidUTF8
	case want.end == endProtocol && g.errText == "websocket: invalid utf8 payload in close frame":
		want.end = endInvalidUTF8
	case want.end == endPeerClose && want.code == websocket.CloseNoStatusReceived &&
		ours.end == endProtocol && oneByteCloseEndsAt(in, consumed):
		want.end = endProtocol
	case want.end == endProtocol && g.errText == "websocket: bad close code 1014":
		want.end, want.code = endPeerClose, 1014
	}
	if want.end != endPeerClose {
		want.code = 0
	}

	if !slices.EqualFunc(ours.msgs, want.msgs, func(a, b readMsg) bool { return a.binary == b.binary && bytes.Equal(a.data, b.data) }) {
		t.Fatalf("messages differ:\nours    %v\ngorilla %v", ours.msgs, want.msgs)
	}
	if ours.end != want.end || ours.code != want.code {
		t.Fatalf("ours ended with %v (code %d), gorilla with %v (code %d; %s)", ours.end, ours.code, want.end, want.code, g.errText)
	}
	pongsMatch := slices.EqualFunc(ours.pongs, want.pongs, bytes.Equal)
	if ours.end == endInvalidUTF8 {
		pongsMatch = len(ours.pongs) <= len(want.pongs) && slices.EqualFunc(ours.pongs, want.pongs[:len(ours.pongs)], bytes.Equal)
	}
	if !pongsMatch {
		t.Fatalf("pongs differ:\nours    %q\ngorilla %q", ours.pongs, want.pongs)
	}
	if wantCloses := expectedCloses(ours.end, ours.code); !slices.EqualFunc(ours.closes, wantCloses, bytes.Equal) {
		t.Fatalf("ours ended with %v and sent close frames %x, want %x", ours.end, ours.closes, wantCloses)
	}
}

// frameSeeds are client streams for the differential fuzz target: valid
// ones and one for each rule of RFC 6455 the reader enforces, after the
// Autobahn test suite's case groups.
func frameSeeds() [][]byte {
	key := [4]byte{0x37, 0xFA, 0x21, 0x3D}
	f := func(fin bool, op byte, payload string) []byte { return maskedFrame(fin, op, []byte(payload), key) }
	cat := func(frames ...[]byte) []byte { return slices.Concat(frames...) }
	closeFrame := func(code uint16, reason string) []byte {
		return f(true, opClose, string(binary.BigEndian.AppendUint16(nil, code))+reason)
	}
	long := strings.Repeat("\u00e9t\u00e9 ", 60)
	return [][]byte{
		// Framing and fragmentation that is valid.
		f(true, opText, "4hello"),
		f(true, opBinary, "\x00\x01\xff"),
		f(true, opText, ""),
		cat(f(true, opText, "4a"), f(true, opBinary, "b"), f(true, opText, "4c")),
		f(true, opText, long),
		cat(f(false, opText, "4h\xc3"), f(false, opContinuation, ""), f(true, opContinuation, "\xa9llo")),
		cat(f(false, opText, "\xf0\x9f"), f(false, opContinuation, "\x98"), f(true, opContinuation, "\x80")),
		cat(f(false, opBinary, "\xff"), f(true, opContinuation, "\xfe")),
		// Pings and pongs, also between fragments.
		cat(f(true, opPing, "are you there"), f(true, opText, "4x")),
		cat(f(false, opText, "4a"), f(true, opPing, ""), f(true, opPong, "p"), f(true, opContinuation, "b")),
		f(true, opPing, strings.Repeat("p", 125)),
		cat(f(true, opPing, strings.Repeat("p", 126)), f(true, opText, "4x")),
		cat(f(false, opPing, "x"), f(true, opText, "4x")),
		// Reserved bits, opcodes, masking, fragmentation that is not.
		{0xC1, 0x80, 0, 0, 0, 0},
		{0xA1, 0x80, 0, 0, 0, 0},
		{0x91, 0x80, 0, 0, 0, 0},
		{0x83, 0x80, 0, 0, 0, 0},
		{0x8B, 0x80, 0, 0, 0, 0},
		{0x81, 0x02, '4', 'x'},
		f(true, opContinuation, "x"),
		cat(f(false, opText, "4a"), f(true, opText, "b")),
		cat(f(true, opText, "4a"), f(true, opContinuation, "b")),
		// UTF-8.
		f(true, opText, "\xff"),
		f(true, opText, "\xc0\xaf"),
		f(true, opText, "\xed\xa0\x80"),
		f(true, opText, "\xf4\x90\x80\x80"),
		f(true, opText, "4h\xc3"),
		cat(f(false, opText, "4\xe2\x82"), f(true, opContinuation, "\x28")),
		cat(f(false, opText, "4\xff"), f(true, opPing, "late"), f(true, opContinuation, "x")),
		cat(f(false, opText, "4\xff"), f(true, opText, "x")),
		// Close frames.
		closeFrame(1000, ""),
		closeFrame(1001, "going away"),
		closeFrame(4999, "\u00e9"),
		f(true, opClose, ""),
		f(true, opClose, "\x03"),
		closeFrame(1005, ""),
		closeFrame(1006, ""),
		closeFrame(1014, ""),
		closeFrame(1015, ""),
		closeFrame(999, ""),
		closeFrame(2000, ""),
		closeFrame(1000, "\xff"),
		cat(closeFrame(1000, ""), f(true, opText, "4after")),
		// Limits and lengths.
		f(true, opText, strings.Repeat("x", 300)),
		cat(f(false, opBinary, strings.Repeat("x", 200)), f(true, opContinuation, strings.Repeat("y", 100))),
		{0x82, 0xFE, 0x01, 0x00, 0, 0, 0, 0},
		{0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0},
		{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1, 2, 3},
		// Streams cut short.
		{0x81},
		{0x81, 0x85, 0, 0},
		f(true, opText, "4hello")[:8],
		cat(f(false, opText, "4\xff"), f(true, opContinuation, "xyz")[:7]),
	}
}

// FuzzFrameReaderMatchesGorilla feeds the same client byte stream, in the
// same read sizes, to our frame reader and to gorilla/websocket's, and
// requires the same messages, the same ending (see checkAgainstGorilla
// for where the two legitimately differ), the same pongs, and the close
// frame the ending calls for.
func FuzzFrameReaderMatchesGorilla(f *testing.F) {
	for i, s := range frameSeeds() {
		f.Add(s, uint16(256), uint8(i%3))
	}
	f.Fuzz(func(t *testing.T, in []byte, limit uint16, chunk uint8) {
		if len(in) > 4096 {
			return // longer streams only repeat frames, slowly
		}
		// At least 1: gorilla takes 0 for no limit.
		lim := 1 + int64(limit)%1024
		ours, consumed := readOurs(t, in, int(chunk%8), lim)
		g := readGorilla(t, in, int(chunk%8), lim)
		checkAgainstGorilla(t, in, ours, consumed, g)
	})
}

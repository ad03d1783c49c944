package wsconn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// The frame reader against RFC 6455, over a scripted connection: what
// ReadMessage returns, and the control frames it writes back.

// cf builds a client frame: masked, as RFC 6455 requires.
func cf(fin bool, op byte, payload string) []byte {
	return maskedFrame(fin, op, []byte(payload), [4]byte{0xA1, 0xB2, 0xC3, 0xD4})
}

// frames concatenates client frames into what one write sends.
func frames(fs ...[]byte) []byte { return bytes.Join(fs, nil) }

// closePayload is the payload of a close frame with code and reason.
func closePayload(code uint16, reason string) string {
	return string(binary.BigEndian.AppendUint16(nil, code)) + reason
}

// closeCode is the payload of a close frame with code and no reason.
func closeCode(code uint16) []byte { return binary.BigEndian.AppendUint16(nil, code) }

// serverFrame is a frame the server wrote.
type serverFrame struct {
	op      byte
	payload []byte
}

// parseServerFrames splits what the server wrote into frames: final and
// unmasked, as a server's must be.
func parseServerFrames(t testing.TB, out []byte) []serverFrame {
	t.Helper()
	var fs []serverFrame
	for len(out) > 0 {
		if len(out) < 2 || out[0]&0xF0 != 0x80 || out[1]&0x80 != 0 {
			t.Fatalf("server wrote a frame header that is not final and unmasked: %x", out[:min(len(out), 2)])
		}
		op := out[0] & 0x0F
		n, h := int(out[1]), 2
		switch n {
		case 126:
			n, h = int(binary.BigEndian.Uint16(out[2:])), 4
		case 127:
			n, h = int(binary.BigEndian.Uint64(out[2:])), 10
		}
		if len(out) < h+n {
			t.Fatalf("server wrote a truncated frame (%d of %d bytes)", len(out)-h, n)
		}
		fs = append(fs, serverFrame{op: op, payload: out[h : h+n]})
		out = out[h+n:]
	}
	return fs
}

// readAll reads messages from in until ReadMessage fails, and returns them
// with what the server wrote back and the error.
func readAll(t testing.TB, in []byte, limit int64) (msgs []readMsg, wrote []serverFrame, err error) {
	t.Helper()
	conn := &scriptConn{in: in}
	c := New(conn)
	for {
		var m readMsg
		if m.binary, m.data, err = c.ReadMessage(limit, time.Second); err != nil {
			break
		}
		msgs = append(msgs, m)
	}
	c.putReader()
	return msgs, parseServerFrames(t, conn.out.Bytes()), err
}

// Frames that break RFC 6455 are refused as a WebSocket library refuses
// them (the Autobahn test suite's cases): the reader sends a close frame
// with the status code that says why, writes nothing more, and fails with
// the matching error.
func TestRefusedFrames(t *testing.T) {
	const limit = 1000
	var (
		protocol = closeCode(CloseProtocolError)
		invalid  = closeCode(CloseInvalidPayload)
		tooBig   = closeCode(CloseMessageTooBig)
	)
	tests := []struct {
		name string
		wire []byte
		code []byte
		err  error
	}{
		// Masking and reserved bits.
		{"unmasked text", []byte{0x81, 0x02, '4', 'x'}, protocol, ErrProtocol},
		{"unmasked close", []byte{0x88, 0x02, 0x03, 0xE8}, protocol, ErrProtocol},
		{"RSV1 without an extension", []byte{0xC1, 0x80, 0, 0, 0, 0}, protocol, ErrProtocol},
		{"RSV2", []byte{0xA1, 0x80, 0, 0, 0, 0}, protocol, ErrProtocol},
		{"RSV3", []byte{0x91, 0x80, 0, 0, 0, 0}, protocol, ErrProtocol},
		{"RSV1 on a ping", []byte{0xC9, 0x80, 0, 0, 0, 0}, protocol, ErrProtocol},
		// Opcodes.
		{"opcode 3", []byte{0x83, 0x80, 0, 0, 0, 0}, protocol, ErrProtocol},
		{"opcode 7", []byte{0x87, 0x80, 0, 0, 0, 0}, protocol, ErrProtocol},
		{"opcode 11", []byte{0x8B, 0x80, 0, 0, 0, 0}, protocol, ErrProtocol},
		{"opcode 15", []byte{0x8F, 0x80, 0, 0, 0, 0}, protocol, ErrProtocol},
		// Control frames.
		{"ping of 126 bytes", cf(true, opPing, strings.Repeat("p", 126)), protocol, ErrProtocol},
		{"close of 126 bytes", cf(true, opClose, closePayload(1000, strings.Repeat("r", 124))), protocol, ErrProtocol},
		{"fragmented ping", cf(false, opPing, "p"), protocol, ErrProtocol},
		{"fragmented pong", cf(false, opPong, "p"), protocol, ErrProtocol},
		{"fragmented close", cf(false, opClose, closePayload(1000, "")), protocol, ErrProtocol},
		// Fragmentation.
		{"continuation without a start", cf(true, opContinuation, "4x"), protocol, ErrProtocol},
		{"continuation after a whole message", frames(cf(true, opText, "4a"), cf(true, opContinuation, "b")), protocol, ErrProtocol},
		{"text inside a fragmented message", frames(cf(false, opText, "4a"), cf(true, opText, "4b")), protocol, ErrProtocol},
		{"binary inside a fragmented message", frames(cf(false, opBinary, "a"), cf(true, opBinary, "b")), protocol, ErrProtocol},
		// UTF-8.
		{"invalid byte", cf(true, opText, "4\xff"), invalid, ErrInvalidUTF8},
		{"overlong encoding", cf(true, opText, "4\xc0\xaf"), invalid, ErrInvalidUTF8},
		{"surrogate", cf(true, opText, "4\xed\xa0\x80"), invalid, ErrInvalidUTF8},
		{"beyond U+10FFFF", cf(true, opText, "4\xf4\x90\x80\x80"), invalid, ErrInvalidUTF8},
		{"message ends inside a rune", cf(true, opText, "4\xe2\x82"), invalid, ErrInvalidUTF8},
		{"rune split across fragments, then broken", frames(cf(false, opText, "4\xe2\x82"), cf(true, opContinuation, "\x28")), invalid, ErrInvalidUTF8},
		{"rune split across three fragments, then broken", frames(cf(false, opText, "4\xf0"), cf(false, opContinuation, "\x9f"), cf(true, opContinuation, "\x98\x28")), invalid, ErrInvalidUTF8},
		// The rest of the message is never sent: the first fragment
		// proves it invalid.
		{"invalid first fragment", cf(false, opText, "4ok\xff"), invalid, ErrInvalidUTF8},
		{"invalid start of a split rune", cf(false, opText, "4\xed\xa0"), invalid, ErrInvalidUTF8},
		// Close frames.
		{"one-byte close payload", cf(true, opClose, "\x03"), protocol, ErrProtocol},
		{"close code 0", cf(true, opClose, closePayload(0, "")), protocol, ErrProtocol},
		{"close code 999", cf(true, opClose, closePayload(999, "")), protocol, ErrProtocol},
		{"close code 1004", cf(true, opClose, closePayload(1004, "")), protocol, ErrProtocol},
		{"close code 1005", cf(true, opClose, closePayload(1005, "")), protocol, ErrProtocol},
		{"close code 1006", cf(true, opClose, closePayload(1006, "")), protocol, ErrProtocol},
		{"close code 1015", cf(true, opClose, closePayload(1015, "")), protocol, ErrProtocol},
		{"close code 1016", cf(true, opClose, closePayload(1016, "")), protocol, ErrProtocol},
		{"close code 2000", cf(true, opClose, closePayload(2000, "")), protocol, ErrProtocol},
		{"close code 2999", cf(true, opClose, closePayload(2999, "")), protocol, ErrProtocol},
		{"close code 5000", cf(true, opClose, closePayload(5000, "")), protocol, ErrProtocol},
		{"close reason not UTF-8", cf(true, opClose, closePayload(1000, "bye\xff")), invalid, ErrInvalidUTF8},
		// Limits: only the header is sent, announcing more than the
		// limit; the reader must refuse it without waiting for the
		// payload.
		{"16-bit length over the limit", cf(true, opText, strings.Repeat("x", limit+1))[:8], tooBig, ErrReadLimit},
		{"64-bit length of 1 TiB", []byte{0x82, 0xFF, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4}, tooBig, ErrReadLimit},
		{"64-bit length with the top bit set", []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, tooBig, ErrReadLimit},
		{"fragments adding up to more than the limit", frames(
			cf(false, opBinary, strings.Repeat("a", limit/2)),
			cf(true, opContinuation, strings.Repeat("b", limit/2+1))[:8],
		), tooBig, ErrReadLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Messages before the bad frame are read as usual.
			msgs, wrote, err := readAll(t, frames(cf(true, opText, "4before"), tt.wire), limit)
			if len(msgs) == 0 || string(msgs[0].data) != "4before" {
				t.Fatalf("messages %v, want the one before the bad frame first", msgs)
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("ReadMessage failed with %v, want %v", err, tt.err)
			}
			if len(wrote) != 1 || wrote[0].op != opClose || !bytes.Equal(wrote[0].payload, tt.code) {
				t.Fatalf("wrote %v, want one close frame with payload %x", wrote, tt.code)
			}
		})
	}
}

// Frames that RFC 6455 allows, written by hand where a client library
// would not write them so, are accepted: text split inside a rune, binary
// that is not UTF-8, control frames between the pieces.
func TestAcceptedFrames(t *testing.T) {
	tests := []struct {
		name   string
		wire   []byte
		want   string
		binary bool
	}{
		{"rune split across two fragments", frames(cf(false, opText, "4h\xe2\x82"), cf(true, opContinuation, "\xac!")), "4h\u20ac!", false},
		{"rune split across four fragments, with empty ones", frames(
			cf(false, opText, "4\xf0"), cf(false, opContinuation, ""), cf(false, opContinuation, "\x9f"),
			cf(false, opContinuation, "\x98"), cf(true, opContinuation, "\x80"),
		), "4\U0001F600", false},
		{"rune split around a ping", frames(
			cf(false, opText, "4\xc3"), cf(true, opPing, "p"), cf(true, opContinuation, "\xa9"),
		), "4\u00e9", false},
		{"binary that is not UTF-8", frames(cf(false, opBinary, "\xff\xfe"), cf(true, opContinuation, "\xed\xa0\x80")), "\xff\xfe\xed\xa0\x80", true},
		{"empty text fragments", frames(cf(false, opText, ""), cf(false, opContinuation, "4"), cf(true, opContinuation, "")), "4", false},
		{"empty message", cf(true, opText, ""), "", false},
		{"64-bit length of a small message", []byte{0x81, 0xFF, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, '4', 'x'}, "4x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, _, err := readAll(t, frames(tt.wire, cf(true, opText, "4after")), 1000)
			if !errors.Is(err, io.EOF) {
				t.Fatalf("ReadMessage failed with %v, want io.EOF at the end", err)
			}
			if len(msgs) != 2 || msgs[0].binary != tt.binary || string(msgs[0].data) != tt.want || msgs[0].data == nil || string(msgs[1].data) != "4after" {
				t.Fatalf("read %v, want (%q, binary=%v) then 4after", msgs, tt.want, tt.binary)
			}
		})
	}
}

// A client's close frame is answered with a close frame echoing its status
// code (RFC 6455, section 5.5.1; an empty one for none, as gorilla does).
func TestCloseHandshake(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		echo    []byte
	}{
		{"no status code", "", []byte{}},
		{"normal closure", closePayload(1000, ""), closeCode(1000)},
		{"normal closure with a reason", closePayload(1000, "bye \u00e9"), closeCode(1000)},
		{"going away", closePayload(1001, ""), closeCode(1001)},
		{"bad gateway", closePayload(1014, ""), closeCode(1014)},
		{"library code", closePayload(3000, ""), closeCode(3000)},
		{"application code", closePayload(4999, "x"), closeCode(4999)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, wrote, err := readAll(t, frames(cf(true, opClose, tt.payload), cf(true, opText, "4after")), 1000)
			if !errors.Is(err, ErrPeerClosed) {
				t.Fatalf("ReadMessage failed with %v, want ErrPeerClosed", err)
			}
			if len(wrote) != 1 || wrote[0].op != opClose || !bytes.Equal(wrote[0].payload, tt.echo) {
				t.Fatalf("wrote %v, want one close frame with payload %x", wrote, tt.echo)
			}
		})
	}
}

// Pings are answered with pongs carrying their payload (RFC 6455, section
// 5.5.2), between fragments too; pongs are ignored.
func TestPingAnswered(t *testing.T) {
	msgs, wrote, err := readAll(t, frames(
		cf(true, opPing, "are you there"),
		cf(false, opText, "4a"), cf(true, opPing, ""), cf(true, opPong, "p"), cf(true, opContinuation, "b"),
	), 1000)
	if !errors.Is(err, io.EOF) || len(msgs) != 1 || string(msgs[0].data) != "4ab" {
		t.Fatalf("read %v, %v; want 4ab then io.EOF", msgs, err)
	}
	if len(wrote) != 2 || wrote[0].op != opPong || string(wrote[0].payload) != "are you there" || wrote[1].op != opPong || len(wrote[1].payload) != 0 {
		t.Fatalf("wrote %v, want the two pongs", wrote)
	}
}

// Client messages of every length encoding, larger than a read buffer,
// and fragmented, arrive whole, in every read size.
func TestInboundFrameSizes(t *testing.T) {
	var wire []byte
	var want []string
	for _, n := range []int{1, 125, 126, 127, readBufSize - 1, readBufSize, readBufSize + 1, 65535, 65536, 100_000} {
		m := "4" + strings.Repeat("m", n-1)
		want = append(want, m)
		wire = append(wire, cf(true, opText, m)...)
	}
	long := strings.Repeat("\u00e9", 3000)
	want = append(want, long)
	for i := 0; i < len(long); i += 256 {
		op := byte(opContinuation)
		if i == 0 {
			op = opText
		}
		wire = append(wire, cf(i+256 >= len(long), op, long[i:min(i+256, len(long))])...)
	}
	for _, chunk := range []int{0, 1, 7, 1000} {
		conn := &scriptConn{in: wire, chunk: chunk}
		c := New(conn)
		for i, w := range want {
			binary, data, err := c.ReadMessage(1<<20, time.Second)
			if err != nil || binary || string(data) != w {
				t.Fatalf("chunk %d, message %d: %d bytes, %v; want %d bytes", chunk, i, len(data), err, len(w))
			}
		}
		c.putReader()
	}
}

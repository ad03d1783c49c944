package engineio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net"
	"testing"
	"time"
)

// payloadSeeds are the payloads of the protocol's examples and the edges of
// the format.
var payloadSeeds = []string{
	"4hello\x1e2\x1e4world",
	"4hello\x1ebAQIDBA==",
	"4hello",
	"2probe",
	"3probe",
	"5",
	"6",
	"1",
	"4",
	"b",
	"bAQID",
	"bAQIDBA",
	"4h\u00e9llo \u20ac",
	`42["event",{"a":1}]`,
	`451-["bin",{"_placeholder":true,"num":0}]` + "\x1ebAQID",
	"",
	"\x1e",
	"4a\x1e",
	"x",
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range payloadSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pkts, err := collectPayload(body)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		if len(pkts) == 0 {
			t.Fatal("no error and no packet")
		}
		msgs := make([]Message, len(pkts))
		textOnly := true
		for i, p := range pkts {
			if p.binary {
				textOnly = false
				if p.typ != typeMessage {
					t.Fatalf("binary packet of type %q", p.typ)
				}
				msgs[i] = Message{Data: p.data, Binary: true}
				continue
			}
			if bytes.IndexByte(p.data, recordSeparator) >= 0 {
				t.Fatalf("packet %s holds a record separator", fmtPackets(p))
			}
			msgs[i] = Message{Data: append([]byte{p.typ}, p.data...)}
		}
		enc := appendPayload(nil, msgs)
		// Base64 has spellings that decode alike (line breaks, trailing
		// bits); text has one.
		if textOnly && !bytes.Equal(enc, body) {
			t.Fatalf("re-encoded %q as %q", body, enc)
		}
		again, err := collectPayload(enc)
		if err != nil {
			t.Fatalf("re-encoding %q as %q does not decode: %v", body, enc, err)
		}
		if !samePackets(again, pkts) {
			t.Fatalf("%q decodes to %s, its re-encoding %q to %s", body, fmtPackets(pkts...), enc, fmtPackets(again...))
		}
	})
}

func FuzzDecodeTextPacket(f *testing.F) {
	for _, s := range payloadSeeds {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, base64Binary bool) {
		p, err := decodeTextPacket(in, base64Binary)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		if p.binary {
			if !base64Binary || in[0] != 'b' || p.typ != typeMessage {
				t.Fatalf("%q (base64 %v) decoded as binary %s", in, base64Binary, fmtPackets(p))
			}
			enc := append([]byte{'b'}, base64.StdEncoding.EncodeToString(p.data)...)
			back, err := decodeTextPacket(enc, true)
			if err != nil || !back.binary || !bytes.Equal(back.data, p.data) {
				t.Fatalf("%q decodes to %v, its re-encoding %q to %s (%v)", in, p.data, enc, fmtPackets(back), err)
			}
			return
		}
		switch p.typ {
		case typeOpen, typeClose, typePing, typePong, typeMessage, typeUpgrade, typeNoop:
		default:
			t.Fatalf("%q decoded with type %q", in, p.typ)
		}
		if p.typ != in[0] || !bytes.Equal(p.data, in[1:]) {
			t.Fatalf("%q decoded as %s", in, fmtPackets(p))
		}
	})
}

// fuzzConn is a net.Conn that reads a fixed input and discards writes.
type fuzzConn struct {
	net.Conn // nil: only the methods below are called
	r        *bytes.Reader
	written  int
}

func (c *fuzzConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *fuzzConn) Write(p []byte) (int, error)      { c.written += len(p); return len(p), nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fuzzConn) Close() error                     { return nil }
func (c *fuzzConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *fuzzConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *fuzzConn) SetDeadline(t time.Time) error    { return nil }

// maskedFrame builds a client frame: masked, as RFC 6455 requires.
func maskedFrame(fin bool, op byte, payload []byte, key [4]byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	f := appendFrameHeader(nil, 0, len(payload))
	f[0] = b0
	f[1] |= 0x80
	f = append(f, key[:]...)
	start := len(f)
	f = append(f, payload...)
	unmask(key, f[start:])
	return f
}

// FuzzReadMessage feeds the frame reader arbitrary bytes: it never panics,
// never returns more than the limit, and reads well-formed masked frames
// back exactly.
func FuzzReadMessage(f *testing.F) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	f.Add(maskedFrame(true, opText, []byte("4hello"), key))
	f.Add(append(maskedFrame(false, opBinary, []byte{1, 2}, key), maskedFrame(true, opContinuation, []byte{3}, key)...))
	f.Add(append(maskedFrame(false, opText, []byte("4a"), key), append(maskedFrame(true, opPing, []byte("p"), key), maskedFrame(true, opContinuation, []byte("b"), key)...)...))
	f.Add(maskedFrame(true, opText, bytes.Repeat([]byte("x"), 300), key))
	f.Add(maskedFrame(true, opClose, []byte{0x03, 0xE8}, key))
	f.Add([]byte{0x81, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0})
	f.Add([]byte{0x01, 0x81, 0, 0, 0, 0, 'x', 0x80, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		const limit = 256
		if len(in) > 4*limit {
			// Longer inputs only repeat frames, and make each run and
			// the minimisation of what they find slow.
			return
		}
		ws := &wsConn{nc: &fuzzConn{r: bytes.NewReader(in)}}
		for {
			_, data, err := ws.readMessage(limit, time.Second)
			if err != nil {
				break
			}
			if len(data) > limit {
				t.Fatalf("read %d bytes, limit %d", len(data), limit)
			}
		}
		ws.putReader()

		// The same bytes as the payload of one frame, split in two
		// fragments, come back whole.
		if len(in) > limit {
			return
		}
		cut := len(in) / 2
		wire := append(maskedFrame(false, opBinary, in[:cut], key), maskedFrame(true, opContinuation, in[cut:], key)...)
		ws = &wsConn{nc: &fuzzConn{r: bytes.NewReader(wire)}}
		binary, data, err := ws.readMessage(limit, time.Second)
		if err != nil || !binary || !bytes.Equal(data, in) {
			t.Fatalf("round trip of %d bytes: binary=%v err=%v, %d bytes back", len(in), binary, err, len(data))
		}
		ws.putReader()
	})
}

package wsconn

import (
	"bytes"
	"net"
	"testing"
	"time"
)

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
		ws := &Conn{nc: &fuzzConn{r: bytes.NewReader(in)}}
		for {
			_, data, err := ws.ReadMessage(limit, time.Second)
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
		ws = &Conn{nc: &fuzzConn{r: bytes.NewReader(wire)}}
		binary, data, err := ws.ReadMessage(limit, time.Second)
		if err != nil || !binary || !bytes.Equal(data, in) {
			t.Fatalf("round trip of %d bytes: binary=%v err=%v, %d bytes back", len(in), binary, err, len(data))
		}
		ws.putReader()
	})
}

package wsconn

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"
)

// replayConn is a net.Conn whose reads replay the same bytes forever and
// whose writes are discarded.
type replayConn struct {
	net.Conn // nil: only the methods below are called
	data     []byte
	off      int
}

func (c *replayConn) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.off:])
	c.off = (c.off + n) % len(c.data)
	return n, nil
}
func (c *replayConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkReadMessage measures the frame reader on client messages of
// typical shapes; each op reads one message, whose bytes are its only
// allocation.
func BenchmarkReadMessage(b *testing.B) {
	key := [4]byte{0x37, 0xFA, 0x21, 0x3D}
	event := []byte(`42["order",{"symbol":"AAPL","side":"buy","qty":100,"price":189.52}]`)
	long := []byte("4" + strings.Repeat(`{"k":"h\u00e9llo w\u00f6rld \u20ac"},`, 1000))
	var fragmented []byte
	for i := 0; i < len(long); i += 1000 {
		op := byte(opContinuation)
		if i == 0 {
			op = opText
		}
		fragmented = append(fragmented, maskedFrame(i+1000 >= len(long), op, long[i:min(i+1000, len(long))], key)...)
	}
	cases := []struct {
		name   string
		stream []byte
		size   int
	}{
		{"text-small", maskedFrame(true, opText, event, key), len(event)},
		{"text-32KiB", maskedFrame(true, opText, long, key), len(long)},
		{"text-32KiB-fragmented", fragmented, len(long)},
		{"binary-32KiB", maskedFrame(true, opBinary, long, key), len(long)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			// Enough copies that a read buffer fill spans several messages.
			stream := bytes.Repeat(c.stream, max(1, 3*readBufSize/len(c.stream)))
			ws := &Conn{nc: &replayConn{data: stream}}
			b.SetBytes(int64(c.size))
			b.ReportAllocs()
			for b.Loop() {
				_, data, err := ws.ReadMessage(1<<20, time.Second)
				if err != nil || len(data) != c.size {
					b.Fatalf("read %d bytes, %v", len(data), err)
				}
			}
			ws.putReader()
		})
	}
}

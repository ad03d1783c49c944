package wsconn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// raceEnabled is set when the tests run with the race detector.
var raceEnabled bool

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// countingConn records what is written and how many Write calls wrote it.
type countingConn struct {
	scriptConn
	writes int
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes++
	return c.scriptConn.Write(p)
}

// sizedFrames returns frames of the given sizes, text and binary in turn,
// each filled with a byte of its own.
func sizedFrames(sizes ...int) []Frame {
	fs := make([]Frame, len(sizes))
	for i, n := range sizes {
		fs[i] = Frame{Data: bytes.Repeat([]byte{byte('a' + i%26)}, n), Binary: i%2 == 1}
	}
	return fs
}

func expectFrames(t *testing.T, wrote []serverFrame, want []Frame) {
	t.Helper()
	if len(wrote) != len(want) {
		t.Fatalf("wrote %d frames, want %d", len(wrote), len(want))
	}
	for i, w := range want {
		op := byte(opText)
		if w.Binary {
			op = opBinary
		}
		if wrote[i].op != op || !bytes.Equal(wrote[i].payload, w.Data) {
			t.Fatalf("frame %d: opcode %d, %d bytes; want opcode %d, %d bytes", i, wrote[i].op, len(wrote[i].payload), op, len(w.Data))
		}
	}
}

// Frame lengths around the 7-bit, 16-bit and 64-bit length encodings and
// around the writer's buffer sizes arrive intact and in order, whichever
// way the batch is written.
func TestWriteFrameSizes(t *testing.T) {
	batches := map[string][]Frame{
		"small":  sizedFrames(0, 1, 124, 125, 126, 127, 1000, 3),
		"large":  sizedFrames(0, 1, 124, 125, 126, 127, 1000, 65535, 65536, writeBufSize-20, writeBufSize, 100_000, 3),
		"medium": sizedFrames(smallWriteSize, 10, writeBufSize/2, writeBufSize/2, 5),
	}
	for name, fs := range batches {
		t.Run(name+"/tcp", func(t *testing.T) {
			server, client := tcpPair(t)
			c := New(server)
			got := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(io.LimitReader(client, int64(FramedLen(fs))))
				got <- b
			}()
			if err := c.WriteFrames(fs, time.Second); err != nil {
				t.Fatal(err)
			}
			expectFrames(t, parseServerFrames(t, <-got), fs)
		})
		t.Run(name+"/other", func(t *testing.T) {
			conn := &countingConn{}
			if err := New(conn).WriteFrames(fs, time.Second); err != nil {
				t.Fatal(err)
			}
			expectFrames(t, parseServerFrames(t, conn.out.Bytes()), fs)
			if n := FramedLen(fs); n <= writeBufSize && conn.writes != 1 {
				t.Errorf("a batch of %d bytes took %d writes, want 1", n, conn.writes)
			}
		})
	}
}

func TestWriteNothingAfterClose(t *testing.T) {
	conn := &countingConn{}
	c := New(conn)
	if err := c.WriteFrames(sizedFrames(2), time.Second); err != nil {
		t.Fatal(err)
	}
	c.WriteClose(CloseNormal, time.Second)
	if err := c.WriteFrames(sizedFrames(2), time.Second); !errors.Is(err, ErrCloseSent) {
		t.Errorf("WriteFrames after the close frame = %v, want ErrCloseSent", err)
	}
	c.WriteClose(CloseProtocolError, time.Second)
	c.writeControl(opPong, nil, time.Second)
	wrote := parseServerFrames(t, conn.out.Bytes())
	if len(wrote) != 2 || wrote[1].op != opClose || !bytes.Equal(wrote[1].payload, closeCode(CloseNormal)) {
		t.Fatalf("wrote %v, want a data frame and one close frame 1000", wrote)
	}

	conn = &countingConn{}
	New(conn).WriteClose(CloseNoStatus, time.Second)
	if wrote := parseServerFrames(t, conn.out.Bytes()); len(wrote) != 1 || wrote[0].op != opClose || len(wrote[0].payload) != 0 {
		t.Fatalf("WriteClose(CloseNoStatus) wrote %v, want a close frame without a code", wrote)
	}
}

// slowConn writes a few bytes per call and yields between calls, as a
// connection that splits frames (TLS) gives others the chance to
// interleave.
type slowConn struct {
	mu  sync.Mutex
	out bytes.Buffer
	scriptConn
}

func (c *slowConn) Write(p []byte) (int, error) {
	for len(p) > 0 {
		n := min(len(p), 7)
		c.mu.Lock()
		c.out.Write(p[:n])
		c.mu.Unlock()
		p = p[n:]
		runtime.Gosched()
	}
	return 0, nil
}

// Batches written at once from several goroutines, and control frames
// among them, never interleave: each frame arrives whole.
func TestWritesDoNotInterleave(t *testing.T) {
	conn := &slowConn{}
	c := New(conn)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 5 {
				f := Frame{Data: bytes.Repeat([]byte{byte('a' + w)}, 100+i*writeBufSize/3)}
				if err := c.WriteFrames([]Frame{f, f}, time.Second); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			c.writeControl(opPong, []byte("pong"), time.Second)
		}
	})
	wg.Wait()
	pongs, data := 0, 0
	for i, f := range parseServerFrames(t, conn.out.Bytes()) {
		switch f.op {
		case opPong:
			pongs++
			if string(f.payload) != "pong" {
				t.Fatalf("frame %d: pong %q", i, f.payload)
			}
		case opText:
			data++
			if strings.Trim(string(f.payload), string(f.payload[:1])) != "" {
				t.Fatalf("frame %d holds bytes of two frames", i)
			}
		default:
			t.Fatalf("frame %d: opcode %d", i, f.op)
		}
	}
	if pongs != 20 || data != 40 {
		t.Fatalf("%d pongs and %d data frames, want 20 and 40", pongs, data)
	}
}

// A batch costs no allocation, whichever way it is written (but for a
// frame larger than the pooled buffer over TLS).
func TestWriteFramesDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, size := range []int{10, smallWriteSize, writeBufSize * 2} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			server, client := tcpPair(t)
			go func() { _, _ = io.Copy(io.Discard, client) }()
			conns := []*Conn{New(server)}
			if size < writeBufSize {
				conns = append(conns, New(&countingConn{}))
			}
			for _, c := range conns {
				fs := sizedFrames(size, 3, 5)
				_ = c.WriteFrames(fs, time.Second) // fills the pools
				allocs := testing.AllocsPerRun(50, func() {
					if err := c.WriteFrames(fs, time.Second); err != nil {
						t.Fatal(err)
					}
				})
				if allocs > 0 {
					t.Errorf("%T: a batch allocates %.1f times, want 0", c.nc, allocs)
				}
				if cc, ok := c.nc.(*countingConn); ok {
					cc.out.Reset()
				}
			}
		})
	}
}

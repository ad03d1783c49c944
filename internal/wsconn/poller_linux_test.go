//go:build linux

package wsconn

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// holdsReader reports whether the parked connection c holds a read
// buffer. The locks order the check after the last read burst (which
// re-arms c under pmu) and before the next (started under the epoll
// instance's lock).
func holdsReader(c *Conn) bool {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	c.poller.mu.Lock()
	defer c.poller.mu.Unlock()
	return c.br != nil
}

// goroutineTracker counts the poller's goroutines.
type goroutineTracker struct{ n atomic.Int64 }

func (g *goroutineTracker) Add()  { g.n.Add(1) }
func (g *goroutineTracker) Done() { g.n.Add(-1) }

// parkedPair parks the server end of a new loopback connection.
func parkedPair(t *testing.T, p *Poller, h Handler) (*Conn, net.Conn) {
	t.Helper()
	server, client := tcpPair(t)
	c := New(server)
	if !p.Park(c, h) {
		t.Skip("parking is not possible here")
	}
	return c, client
}

// Parked connections hold no goroutine while idle, are read when they
// have data, and the poller's goroutine ends once none is left.
func TestPollerParksIdleConns(t *testing.T) {
	const conns = 100
	var track goroutineTracker
	p := NewPoller(&track)
	h := newRecordingHandler(conns)
	servers := make([]*Conn, conns)
	clients := make([]net.Conn, conns)
	for i := range servers {
		servers[i], clients[i] = parkedPair(t, p, h)
	}
	// Each Park starts a read burst that finds nothing and parks; only
	// the poller's own goroutine is left.
	waitFor(t, "the connections are parked", func() bool { return track.n.Load() == 1 })
	for i, c := range clients {
		if _, err := c.Write(cf(true, opText, "4hello")); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	for range conns {
		if got := await(t, h.msgs, "message"); got != "4hello" {
			t.Fatalf("read %q", got)
		}
	}
	waitFor(t, "the connections are parked again", func() bool { return track.n.Load() == 1 })
	for _, c := range servers {
		if holdsReader(c) {
			t.Fatal("a parked connection holds a read buffer")
		}
	}
	// A second message on each: the connections were re-armed.
	for _, c := range clients {
		if _, err := c.Write(cf(true, opText, "4again")); err != nil {
			t.Fatal(err)
		}
	}
	for range conns {
		await(t, h.msgs, "second message")
	}
	waitFor(t, "the connections are parked again", func() bool { return track.n.Load() == 1 })
	for _, c := range servers {
		c.Close()
	}
	waitFor(t, "the poller retires", func() bool { return track.n.Load() == 0 })
	if n := h.failed.Load(); n != 0 {
		t.Errorf("%d ReadFailed calls", n)
	}
	// The next parked connection starts a new epoll instance.
	_, client := parkedPair(t, p, h)
	if _, err := client.Write(cf(true, opText, "4new")); err != nil {
		t.Fatal(err)
	}
	if got := await(t, h.msgs, "message"); got != "4new" {
		t.Fatalf("read %q", got)
	}
	client.Close()
	if err := await(t, h.ended, "end"); !errors.Is(err, io.EOF) {
		t.Fatalf("reading ended with %v, want io.EOF", err)
	}
	waitFor(t, "the poller retires", func() bool { return track.n.Load() == 0 })
}

// What a connection has buffered when it is parked (read past the
// upgrade's probe) is read at once, without waiting for the socket.
func TestParkReadsWhatIsBuffered(t *testing.T) {
	var track goroutineTracker
	p := NewPoller(&track)
	server, client := tcpPair(t)
	c := New(server)
	if _, err := client.Write(frames(cf(true, opText, "4probe"), cf(true, opText, "4buffered"))); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, data, err := c.ReadMessage(1<<20, time.Second); err != nil || string(data) != "4probe" {
		t.Fatalf("read %q, %v", data, err)
	}
	if c.br.Buffered() == 0 {
		t.Skip("the two frames arrived apart")
	}
	_ = c.SetReadDeadline(time.Time{})
	h := newRecordingHandler(1)
	if !p.Park(c, h) {
		t.Skip("parking is not possible here")
	}
	if got := await(t, h.msgs, "buffered message"); got != "4buffered" {
		t.Fatalf("read %q", got)
	}
	c.Close()
	waitFor(t, "the poller retires", func() bool { return track.n.Load() == 0 })
}

// A connection closed while parked leaves the poller: nothing reads it
// and nothing is called.
func TestCloseWhileParked(t *testing.T) {
	var track goroutineTracker
	p := NewPoller(&track)
	h := newRecordingHandler(1)
	c, client := parkedPair(t, p, h)
	waitFor(t, "the connection is parked", func() bool { return track.n.Load() == 1 })
	c.Close()
	c.Close() // a second Close is harmless
	_, _ = client.Write(cf(true, opText, "4late"))
	waitFor(t, "the poller retires", func() bool { return track.n.Load() == 0 })
	select {
	case m := <-h.msgs:
		t.Fatalf("read %q from a closed connection", m)
	case err := <-h.ended:
		t.Fatalf("handler called with %v", err)
	default:
	}
}

// Connections parked and closed from many goroutines at once, as sessions
// open and end, leave nothing behind.
func TestPollerChurn(t *testing.T) {
	var track goroutineTracker
	p := NewPoller(&track)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				server, client := tcpPair(t)
				c := New(server)
				h := newRecordingHandler(4)
				if !p.Park(c, h) {
					return
				}
				_, _ = client.Write(cf(true, opText, "4x"))
				select {
				case <-h.msgs:
				case <-time.After(waitTimeout):
					t.Error("no message")
				}
				c.Close()
				client.Close()
			}
		})
	}
	wg.Wait()
	waitFor(t, "the poller retires", func() bool { return track.n.Load() == 0 })
}

// A parked connection reads messages larger than a read buffer, that
// arrive in pieces and with control frames between their fragments, in
// its read bursts, and answers the pings on the same connection.
func TestParkedConnReadsLargeMessages(t *testing.T) {
	var track goroutineTracker
	p := NewPoller(&track)
	h := newRecordingHandler(8)
	c, client := parkedPair(t, p, h)
	long := strings.Repeat("m", 100_000)
	wire := frames(
		cf(true, opText, "4"+long),
		cf(false, opBinary, long[:600]), cf(true, opPing, "x"), cf(true, opContinuation, long[600:]),
		cf(true, opText, "4after"),
	)
	go func() {
		for i := 0; i < len(wire); i += 1000 {
			_, _ = client.Write(wire[i:min(i+1000, len(wire))])
			time.Sleep(time.Millisecond / 10)
		}
	}()
	for _, want := range []string{"4" + long, long, "4after"} {
		if got := await(t, h.msgs, "message"); got != want {
			t.Fatalf("read %d bytes, want %d", len(got), len(want))
		}
	}
	pong := make([]byte, 3)
	_ = client.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := io.ReadFull(client, pong); err != nil || string(pong) != "\x8a\x01x" {
		t.Fatalf("read %q, %v; want the pong", pong, err)
	}
	waitFor(t, "the connection is parked again", func() bool { return track.n.Load() == 1 })
	c.Close()
	waitFor(t, "the poller retires", func() bool { return track.n.Load() == 0 })
}

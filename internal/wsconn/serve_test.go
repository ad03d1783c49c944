package wsconn

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

const waitTimeout = 5 * time.Second

// recordingHandler reads a served connection and reports each message, and
// how reading ended.
type recordingHandler struct {
	msgs   chan string
	ended  chan error
	failed atomic.Int32
}

func newRecordingHandler(n int) *recordingHandler {
	return &recordingHandler{msgs: make(chan string, n), ended: make(chan error, n)}
}

func (h *recordingHandler) ReadOne(c *Conn) bool {
	_, data, err := c.ReadMessage(1<<20, time.Second)
	if err != nil {
		c.Close()
		h.ended <- err
		return false
	}
	h.msgs <- string(data)
	return true
}

func (h *recordingHandler) ReadFailed(c *Conn, err error) {
	h.failed.Add(1)
	c.Close()
	h.ended <- err
}

func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("no %s within %v", what, waitTimeout)
		var zero T
		return zero
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// ReadLoop serves a connection that cannot be parked on the caller's
// goroutine: messages in order, then the end of the stream.
func TestReadLoop(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	c := New(server)
	h := newRecordingHandler(8)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.ReadLoop(h)
	}()
	for _, m := range []string{"4one", "4two"} {
		if _, err := client.Write(cf(true, opText, m)); err != nil {
			t.Fatal(err)
		}
		if got := await(t, h.msgs, "message"); got != m {
			t.Fatalf("read %q, want %q", got, m)
		}
	}
	client.Close()
	if err := await(t, h.ended, "end"); !errors.Is(err, io.EOF) {
		t.Fatalf("reading ended with %v, want io.EOF", err)
	}
	<-done
}

func TestParkRefusesOtherConns(t *testing.T) {
	p := NewPoller(nil)
	if p.Park(New(&scriptConn{}), newRecordingHandler(1)) {
		t.Fatal("a connection that is not TCP was parked")
	}
}

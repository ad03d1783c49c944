package engineio_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
)

func TestSlowConsumer(t *testing.T) {
	text := func(n int) engineio.Message { return engineio.TextMessage([]byte(strings.Repeat("x", n-1))) }
	tests := []struct {
		name string
		cfg  engineio.Config
		// sends are Send calls in order; the one at index fail (or none,
		// with -1) overflows.
		sends [][]engineio.Message
		fail  int
	}{
		{
			name:  "message count",
			cfg:   engineio.Config{MaxQueueMessages: 10},
			sends: repeatSends([]engineio.Message{text(2)}, 11),
			fail:  10,
		},
		{
			name:  "byte count",
			cfg:   engineio.Config{MaxQueueBytes: 100},
			sends: repeatSends([]engineio.Message{text(40)}, 3),
			fail:  2,
		},
		{
			name:  "batch over the count",
			cfg:   engineio.Config{MaxQueueMessages: 10},
			sends: [][]engineio.Message{{text(2)}, repeatMessages(text(2), 10)},
			fail:  1,
		},
		{
			name:  "large message into an empty queue",
			cfg:   engineio.Config{MaxQueueBytes: 100},
			sends: [][]engineio.Message{{text(500)}},
			fail:  -1,
		},
		{
			name:  "large batch into an empty queue",
			cfg:   engineio.Config{MaxQueueMessages: 10},
			sends: [][]engineio.Message{repeatMessages(text(2), 11)},
			fail:  -1,
		},
		{
			name:  "at the limits",
			cfg:   engineio.Config{MaxQueueMessages: 10, MaxQueueBytes: 100},
			sends: repeatSends([]engineio.Message{text(10)}, 10),
			fail:  -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.cfg)
			o, rec := h.openPolling()
			for i, msgs := range tt.sends {
				err := rec.sess.Send(msgs...)
				switch {
				case i == tt.fail:
					if !errors.Is(err, engineio.ErrSlowConsumer) {
						t.Fatalf("Send %d = %v, want ErrSlowConsumer", i, err)
					}
				case err != nil:
					t.Fatalf("Send %d = %v, want nil", i, err)
				}
				if i == tt.fail {
					break
				}
			}
			if tt.fail < 0 {
				rec.expectOpen(t)
				if r := h.get(o.SID); r.status != http.StatusOK {
					t.Fatalf("GET: status %d body %q", r.status, r.body)
				}
				return
			}
			rec.expectClosed(t, engineio.ErrSlowConsumer)
			if err := rec.sess.Send(text(2)); !errors.Is(err, engineio.ErrClosed) {
				t.Errorf("Send after overflow = %v, want ErrClosed", err)
			}
			expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
			if n := h.srv.Len(); n != 0 {
				t.Errorf("Len() = %d, want 0", n)
			}
		})
	}
}

func TestSlowConsumerPingOverflows(t *testing.T) {
	// A full queue leaves no room for the ping either.
	h := newHarness(t, engineio.Config{MaxQueueMessages: 1, PingInterval: 20 * time.Millisecond})
	_, rec := h.openPolling()
	if err := rec.sess.Send(engineio.TextMessage([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	rec.expectClosed(t, engineio.ErrSlowConsumer)
}

func TestQueueDrainsAndRefills(t *testing.T) {
	// A drained queue accepts a full load again.
	h := newHarness(t, engineio.Config{MaxQueueMessages: 10})
	o, rec := h.openPolling()
	for round := range 5 {
		for i := range 10 {
			if err := rec.sess.Send(engineio.TextMessage([]byte("x"))); err != nil {
				t.Fatalf("round %d send %d: %v", round, i, err)
			}
		}
		r := h.get(o.SID)
		if want := strings.Repeat("4x\x1e", 9) + "4x"; string(r.body) != want {
			t.Fatalf("round %d: GET body %q, want %q", round, r.body, want)
		}
	}
	rec.expectOpen(t)
}

func repeatMessages(m engineio.Message, n int) []engineio.Message {
	out := make([]engineio.Message, n)
	for i := range out {
		out[i] = m
	}
	return out
}

func repeatSends(msgs []engineio.Message, n int) [][]engineio.Message {
	out := make([][]engineio.Message, n)
	for i := range out {
		out[i] = msgs
	}
	return out
}

func TestOverflowConflate(t *testing.T) {
	keyed := func(key uint64, s string) engineio.Message {
		m := engineio.TextMessage([]byte(s))
		m.Key = key
		return m
	}
	t.Run("stale updates make room", func(t *testing.T) {
		h := newHarness(t, engineio.Config{MaxQueueMessages: 5, Overflow: engineio.OverflowConflate})
		o, rec := h.openPolling()
		for _, m := range []engineio.Message{
			keyed(1, "a1"), keyed(2, "b1"), engineio.TextMessage([]byte("note")), keyed(1, "a2"), keyed(2, "b2"),
			keyed(1, "a3"),
		} {
			if err := rec.sess.Send(m); err != nil {
				t.Fatalf("Send %q: %v", m.Data, err)
			}
		}
		// a1 and b1 were replaced by newer queued updates; the rest keeps
		// its order.
		if r := h.get(o.SID); string(r.body) != "4note\x1e4a2\x1e4b2\x1e4a3" {
			t.Fatalf("GET body %q, want %q", r.body, "4note\x1e4a2\x1e4b2\x1e4a3")
		}
		rec.expectOpen(t)
	})
	t.Run("nothing to drop", func(t *testing.T) {
		h := newHarness(t, engineio.Config{MaxQueueMessages: 3, Overflow: engineio.OverflowConflate})
		_, rec := h.openPolling()
		for _, m := range []engineio.Message{keyed(1, "a"), keyed(2, "b"), engineio.TextMessage([]byte("c"))} {
			if err := rec.sess.Send(m); err != nil {
				t.Fatalf("Send %q: %v", m.Data, err)
			}
		}
		if err := rec.sess.Send(keyed(3, "d")); !errors.Is(err, engineio.ErrSlowConsumer) {
			t.Fatalf("Send into a full queue of distinct keys = %v, want ErrSlowConsumer", err)
		}
		rec.expectClosed(t, engineio.ErrSlowConsumer)
	})
	t.Run("disconnect ignores keys", func(t *testing.T) {
		h := newHarness(t, engineio.Config{MaxQueueMessages: 2})
		_, rec := h.openPolling()
		_ = rec.sess.Send(keyed(1, "a1"))
		_ = rec.sess.Send(keyed(1, "a2"))
		if err := rec.sess.Send(keyed(1, "a3")); !errors.Is(err, engineio.ErrSlowConsumer) {
			t.Fatalf("Send = %v, want ErrSlowConsumer", err)
		}
		rec.expectClosed(t, engineio.ErrSlowConsumer)
	})
}

// gateWriter blocks every Write until the test opens the gate, as a
// client that has stopped reading for a while; entered tells when a Write
// starts.
type gateWriter struct{ entered, gate chan struct{} }

func (w gateWriter) Write(p []byte) (int, error) {
	select {
	case w.entered <- struct{}{}:
	default:
	}
	<-w.gate
	return len(p), nil
}

// A client's next message waits while its queue is more than half full,
// and is read as soon as the writer takes the queue: the answers a burst
// earns pace the burst instead of overflowing the queue.
func TestReadWaitsForRoomInTheQueue(t *testing.T) {
	srv, err := engineio.NewServer(engineio.Config{MaxQueueMessages: 4, PingInterval: time.Hour}, func(s *engineio.Session) engineio.Receiver { return newRecorder(s) })
	if err != nil {
		t.Fatal(err)
	}
	w := gateWriter{entered: make(chan struct{}, 1), gate: make(chan struct{})}
	s, deliver, err := srv.NewMemorySession(w)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		close(w.gate)
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}()
	// The writer has taken the open packet and is stuck writing it; three
	// messages more than half fill the queue of four.
	<-w.entered
	for i := range 3 {
		if err := s.Send(engineio.TextMessage([]byte{byte('a' + i)})); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	delivered := make(chan struct{})
	go func() {
		defer close(delivered)
		deliver([]byte("4hello"), false)
	}()
	waitUntil(t, "the message is held back", func() bool { return engineio.ReadHeldBack(s) })
	select {
	case <-delivered:
		t.Fatal("the message was delivered while the queue was more than half full")
	default:
	}
	w.gate <- struct{}{} // the open packet is written; the writer takes the queue
	select {
	case <-delivered:
	case <-time.After(waitTimeout):
		t.Fatal("the message was not delivered once the writer took the queue")
	}
}

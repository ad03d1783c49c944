package engineio

import (
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/wsconn"
)

type nopReceiver struct{}

func (nopReceiver) Receive([]byte, bool) {}
func (nopReceiver) Closed(error)         {}

// newIdleSessions builds n polling sessions in memory that nobody polls:
// what Send costs without any network underneath.
func newIdleSessions(tb testing.TB, cfg Config, n int) []*Session {
	tb.Helper()
	if cfg.PingInterval == 0 {
		cfg.PingInterval = time.Hour
	}
	srv, err := NewServer(cfg, func(*Session) Receiver { return nopReceiver{} })
	if err != nil {
		tb.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling", nil)
	sessions := make([]*Session, n)
	for i := range sessions {
		s := srv.newSession(req, req.URL.Query(), TransportPolling)
		if err := srv.start(s, nil); err != nil {
			tb.Fatal(err)
		}
		sessions[i] = s
	}
	tb.Cleanup(func() {
		for _, s := range sessions {
			s.Abort(ErrServerShutdown)
		}
		if n := srv.Len(); n != 0 {
			tb.Errorf("Len() = %d after aborting every session", n)
		}
	})
	return sessions
}

// drain does what a GET does with the queue, without the network.
func drain(s *Session) {
	s.mu.Lock()
	batch := s.queue.take()
	s.mu.Unlock()
	s.returnQueue(batch)
}

// BenchmarkSendFanout measures one encoded broadcast handed to 10,000
// sessions: per recipient it should cost a queue slot and no allocation.
func BenchmarkSendFanout(b *testing.B) {
	const recipients = 10_000
	sessions := newIdleSessions(b, Config{}, recipients)
	msg := TextMessage([]byte(`2["ticker",{"symbol":"AAPL","price":189.52,"ts":1700000000000}]`))
	// Two rounds give every queue its pair of backing arrays.
	for range 2 {
		for _, s := range sessions {
			_ = s.Send(msg)
			drain(s)
		}
	}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rounds := 0
	for b.Loop() {
		for _, s := range sessions {
			if err := s.Send(msg); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		for _, s := range sessions {
			drain(s)
		}
		b.StartTimer()
		rounds++
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rounds*recipients), "ns/recipient")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rounds*recipients), "allocs/recipient")
}

func TestSendDoesNotAllocate(t *testing.T) {
	s := newIdleSessions(t, Config{}, 1)[0]
	msg := TextMessage([]byte("tick"))
	for range 2 {
		_ = s.Send(msg)
		drain(s)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.Send(msg); err != nil {
			t.Fatal(err)
		}
		drain(s)
	})
	if allocs != 0 {
		t.Errorf("Send and drain allocate %.1f times per message, want 0", allocs)
	}
}

// countingClient is a client that reads everything at once and reports
// when it has read target bytes.
type countingClient struct {
	n      atomic.Int64
	target atomic.Int64
	done   chan struct{}
}

func (c *countingClient) Write(p []byte) (int, error) {
	if c.n.Add(int64(len(p))) == c.target.Load() {
		c.done <- struct{}{}
	}
	return len(p), nil
}

// idle reports whether s has nothing queued and no writer running.
func idle(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queue.len() == 0 && !s.writing
}

// BenchmarkSendFanoutWebSocket is BenchmarkSendFanout with WebSocket
// sessions: each op is complete once every session's writer has framed the
// message and written it to its (in-memory) connection.
func BenchmarkSendFanoutWebSocket(b *testing.B) {
	const recipients = 10_000
	srv, err := NewServer(Config{PingInterval: time.Hour}, func(*Session) Receiver { return nopReceiver{} })
	if err != nil {
		b.Fatal(err)
	}
	client := &countingClient{done: make(chan struct{}, 1)}
	client.target.Store(-1)
	sessions := make([]*Session, recipients)
	for i := range sessions {
		s, _, err := srv.NewMemorySession(client)
		if err != nil {
			b.Fatal(err)
		}
		sessions[i] = s
	}
	b.Cleanup(func() {
		for _, s := range sessions {
			s.Abort(ErrServerShutdown)
		}
	})
	for _, s := range sessions {
		for !idle(s) {
			runtime.Gosched()
		}
	}
	msg := TextMessage([]byte(`2["ticker",{"symbol":"AAPL","price":189.52,"ts":1700000000000}]`))
	frame := int64(wsconn.FramedLen([]Message{msg}))

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rounds := 0
	for b.Loop() {
		client.target.Store(client.n.Load() + recipients*frame)
		for _, s := range sessions {
			if err := s.Send(msg); err != nil {
				b.Fatal(err)
			}
		}
		<-client.done
		rounds++
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rounds*recipients), "ns/recipient")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rounds*recipients), "allocs/recipient")
}

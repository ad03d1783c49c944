package realtime

import (
	"bytes"
	"context"
	"io"
	"math"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
)

// benchRoom is the room the in-memory subscribers join, as a client
// subscribing to one symbol of market-data would.
const benchRoom = "market-data:BTC/USD"

// benchTick is a ticker update the size of a real one.
type benchTick struct {
	T      string  `json:"t"`
	Seq    int64   `json:"seq"`
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
}

// tickPrefix starts the Engine.IO message of every benchTick event.
var tickPrefix = []byte(`42["tick",`)

// frameSink stands for the network behind in-memory sessions: it counts
// the tick frames the sessions' writers hand it and signals when a target
// is reached. Writers write whole frames (a frame never straddles two
// writes below the writer's 32 KiB buffer), so counting is a header walk.
type frameSink struct {
	ticks   atomic.Int64
	target  atomic.Int64
	reached chan struct{}
}

func newFrameSink() *frameSink {
	s := &frameSink{reached: make(chan struct{}, 1)}
	s.target.Store(-1)
	return s
}

func (s *frameSink) Write(p []byte) (int, error) {
	n := len(p)
	var ticks int64
	for len(p) >= 2 {
		size, hdr := int(p[1]&0x7F), 2
		switch size {
		case 126:
			size, hdr = int(p[2])<<8|int(p[3]), 4
		case 127:
			return n, nil // never a tick
		}
		if len(p) < hdr+size {
			break
		}
		if bytes.HasPrefix(p[hdr:hdr+size], tickPrefix) {
			ticks++
		}
		p = p[hdr+size:]
	}
	if ticks > 0 {
		total := s.ticks.Add(ticks)
		if t := s.target.Load(); t >= 0 && total >= t && total-ticks < t {
			select {
			case s.reached <- struct{}{}:
			default:
			}
		}
	}
	return n, nil
}

// expect arms the sink for n more ticks and returns a function that waits
// for them.
func (s *frameSink) expect(n int64) (wait func(tb testing.TB)) {
	t := s.ticks.Load() + n
	s.target.Store(t)
	return func(tb testing.TB) {
		if s.ticks.Load() >= t {
			return
		}
		select {
		case <-s.reached:
		case <-time.After(30 * time.Second):
			tb.Fatalf("only %d of %d ticks reached the sink", s.ticks.Load(), t)
		}
		// A signal left over from a target reached before the wait began
		// is stale once read; the counter is what counts.
		for s.ticks.Load() < t {
			select {
			case <-s.reached:
			case <-time.After(30 * time.Second):
				tb.Fatalf("only %d of %d ticks reached the sink", s.ticks.Load(), t)
			}
		}
	}
}

// memoryGateway returns a gateway with n clients on in-memory sessions,
// each connected and subscribed to benchRoom through the same Socket.IO
// packets a real client sends, and the sink their frames go to.
func memoryGateway(tb testing.TB, n int) (*Gateway, *frameSink) {
	tb.Helper()
	g, err := New(
		WithDevelopmentMode(true),
		WithLimiter(NoLimit()),
		WithHeartbeatInterval(0),
		WithConnectionCountInterval(0),
		// Nothing answers pings on a memory session.
		WithPingInterval(time.Hour),
		WithPingTimeout(time.Hour),
	)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
	})
	sink := newFrameSink()
	eng := g.sio.Engine()
	for range n {
		_, receive, err := eng.NewMemorySession(sink)
		if err != nil {
			tb.Fatal(err)
		}
		receive([]byte("0"), false)
		receive([]byte(`2["subscribe",{"channel":"market-data","symbols":["BTC/USD"]}]`), false)
	}
	if got := g.RoomSize(benchRoom); got != n {
		tb.Fatalf("room %s has %d members, want %d", benchRoom, got, n)
	}
	return g, sink
}

// broadcastAndWait broadcasts one tick and waits until every member of
// benchRoom has had it written to its connection.
func broadcastAndWait(tb testing.TB, g *Gateway, sink *frameSink, n int, seq int64) {
	wait := sink.expect(int64(n))
	if err := g.BroadcastToRoom(benchRoom, "tick", benchTick{T: "1764000000000000000", Seq: seq, Symbol: "BTC/USD", Price: 64000.25}); err != nil {
		tb.Fatal(err)
	}
	wait(tb)
}

// BenchmarkBroadcastToRoom10k measures one broadcast to a room of 10,000
// clients, from BroadcastToRoom until every client's writer has written the
// frame: encoding, fan-out to the queues, and the writers' wake-ups and
// writes. Allocations per operation are per broadcast, not per recipient.
//
// Besides ns/op it reports wall, user and system CPU time per delivery
// (from getrusage, every thread of the process): the system part is the
// runtime waking threads for the writers, since nothing here touches a
// socket.
func BenchmarkBroadcastToRoom10k(b *testing.B) {
	const n = 10_000
	g, sink := memoryGateway(b, n)
	// The first broadcasts grow each session's queue arrays and the
	// runtime's pool of goroutine descriptors to their steady size.
	for seq := range int64(5) {
		broadcastAndWait(b, g, sink, n, seq)
	}
	b.ReportAllocs()
	user0, sys0 := cpuTimes(b)
	seq := int64(5)
	for b.Loop() {
		seq++
		broadcastAndWait(b, g, sink, n, seq)
	}
	user1, sys1 := cpuTimes(b)
	deliveries := float64(int64(b.N) * n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/deliveries, "ns/delivery")
	b.ReportMetric(float64((user1-user0).Nanoseconds())/deliveries, "user-ns/delivery")
	b.ReportMetric(float64((sys1-sys0).Nanoseconds())/deliveries, "sys-ns/delivery")
}

// cpuTimes returns the process's user and system CPU time so far.
func cpuTimes(tb testing.TB) (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// raceEnabled reports whether the test binary was built with -race, under
// which sync.Pool drops items on purpose and allocation counts mean nothing.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestBroadcastDoesNotAllocatePerRecipient holds the fan-out to its design:
// a broadcast is encoded once and the same bytes are queued and written for
// every recipient, so allocations per broadcast do not grow with the room.
func TestBroadcastDoesNotAllocatePerRecipient(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector makes sync.Pool drop buffers at random, so allocations are not the program's")
	}
	// Allocations are counted for the whole process, and besides the
	// broadcast's own few, the runtime allocates now and then as it wakes
	// thousands of writers (a goroutine descriptor, a pool buffer after a
	// GC): noise that grows with the recipients and with the machine's
	// load. So the test measures the slope: what ten times the recipients
	// add, the fewest allocations over a few rounds each. One allocation
	// per recipient would add 1,800.
	perBroadcast := func(n int) float64 {
		g, sink := memoryGateway(t, n)
		var seq int64
		var mu sync.Mutex // AllocsPerRun's function has no testing.TB of its own
		broadcast := func() {
			mu.Lock()
			defer mu.Unlock()
			seq++
			broadcastAndWait(t, g, sink, n, seq)
		}
		allocs := math.Inf(1)
		for range 5 {
			allocs = min(allocs, testing.AllocsPerRun(20, broadcast))
		}
		return allocs
	}
	small, large := perBroadcast(200), perBroadcast(2_000)
	if slope := (large - small) / 1_800; slope > 0.01 {
		t.Errorf("a broadcast makes %.0f allocations to 200 recipients and %.0f to 2,000: %.3f more per recipient, want about 0", small, large, slope)
	}
	t.Logf("allocations per broadcast: %.0f to 200 recipients, %.0f to 2,000", small, large)
}

// TestMemorySessionsReceiveBroadcasts checks the in-memory clients the
// benchmark relies on: they connect and subscribe through real Socket.IO
// packets, each broadcast is written to their connections once per client,
// and Shutdown ends them (the package's leak check fails otherwise).
func TestMemorySessionsReceiveBroadcasts(t *testing.T) {
	const n = 100
	g, sink := memoryGateway(t, n)
	if got := g.ConnectedClients(); got != n {
		t.Fatalf("%d clients connected, want %d", got, n)
	}
	for seq := range int64(3) {
		broadcastAndWait(t, g, sink, n, seq)
	}
	if got := sink.ticks.Load(); got != 3*n {
		t.Errorf("%d ticks written, want %d", got, 3*n)
	}
}

// BenchmarkBroadcastDuringConnectStorm measures one broadcast to 10,000
// clients, as BenchmarkBroadcastToRoom10k does, with and without a storm
// of 1,000 connects a second going on: each storm client connects (joining
// its user room), subscribes to another symbol and leaves 100 ms later.
// Connects and joins take the room registry's locks; they must not hold
// broadcasts up, so the two figures should be within a few percent.
func BenchmarkBroadcastDuringConnectStorm(b *testing.B) {
	const n = 10_000
	for _, storm := range []bool{false, true} {
		name := "storm=off"
		if storm {
			name = "storm=on"
		}
		b.Run(name, func(b *testing.B) {
			g, sink := memoryGateway(b, n)
			for seq := range int64(5) {
				broadcastAndWait(b, g, sink, n, seq)
			}
			var connects atomic.Int64
			stop := make(chan struct{})
			var stormDone sync.WaitGroup
			if storm {
				stormDone.Add(1)
				go func() {
					defer stormDone.Done()
					connectStorm(b, g, time.Millisecond, stop, &connects)
				}()
			}
			seq := int64(5)
			start := time.Now()
			for b.Loop() {
				seq++
				broadcastAndWait(b, g, sink, n, seq)
			}
			elapsed := time.Since(start)
			close(stop)
			stormDone.Wait()
			b.ReportMetric(float64(connects.Load())/elapsed.Seconds(), "connects/s")
		})
	}
}

// connectStorm connects a client every interval, on average, until stop
// is closed (catching up when a connect takes longer); each subscribes to
// one symbol and is closed after a hundred later connects.
func connectStorm(tb testing.TB, g *Gateway, interval time.Duration, stop <-chan struct{}, connects *atomic.Int64) {
	eng := g.sio.Engine()
	var live []*engineio.Session
	defer func() {
		for _, s := range live {
			s.Abort(engineio.ErrForcedClose)
		}
	}()
	start := time.Now()
	for i := 0; ; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-stop:
				return
			case <-time.After(wait):
			}
		} else {
			select {
			case <-stop:
				return
			default:
			}
		}
		s, receive, err := eng.NewMemorySession(io.Discard)
		if err != nil {
			tb.Error(err)
			return
		}
		receive([]byte("0"), false)
		receive([]byte(`2["subscribe",{"channel":"market-data","symbols":["ETH/USD"]}]`), false)
		connects.Add(1)
		live = append(live, s)
		if len(live) > 100 {
			live[0].Abort(engineio.ErrForcedClose)
			live = live[1:]
		}
	}
}

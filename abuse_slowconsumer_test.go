package realtime_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/internal/nodetest"
)

// tickPayload is the ticker:update payload of the slow-consumer tests.
type tickPayload struct {
	Symbol string  `json:"symbol"`
	Seq    int     `json:"seq"`
	Price  float64 `json:"price"`
	T      int64   `json:"t"`             // publish time, Unix milliseconds
	Pad    string  `json:"pad,omitempty"` // bulk, where a test wants large updates
}

// heapSampler records the live heap (after a collection) at an interval
// until stopped.
type heapSampler struct {
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	samples []uint64
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func sampleHeap(every time.Duration) *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				v := liveHeap()
				h.mu.Lock()
				h.samples = append(h.samples, v)
				h.mu.Unlock()
			}
		}
	}()
	return h
}

func (h *heapSampler) finish() []uint64 {
	close(h.stop)
	<-h.done
	return h.samples
}

const oneMiB = 1 << 20

// TestAbuseSlowConsumerDoesNotStallOthers stalls one client of a busy
// channel and checks that 1,000 socket.io-client sockets receiving the same
// ticker keep receiving every tick, in order, while the stalled client is
// disconnected as a slow consumer (default policy, default queue limits)
// and the server's live heap stays flat.
//
// The stalled client subscribes to the whole market-data channel, as a
// dashboard would: besides the BTC/USD ticks everyone gets, it is sent
// ETH/USD order-book snapshots, so its queue reaches the 1 MiB default in
// about a second instead of the minutes 1,024 small ticks would take at a
// rate one Node process can fan out to 1,000 sockets on a small machine.
// It connects through a listener whose sockets have a small kernel send
// buffer, as over a slow link.
func TestAbuseSlowConsumerDoesNotStallOthers(t *testing.T) {
	const (
		fans      = 1000
		rate      = 25 // BTC/USD ticks per second, to every socket
		books     = 4  // 16 KB ETH/USD snapshots per tick, to the stalled client only
		minStream = 3 * time.Second
		maxStream = 20 * time.Second
	)
	g := startAbuseGateway(t,
		realtime.WithAuthenticator(abuseAuthenticator(t)),
		realtime.WithConnectionCountInterval(0),
	)
	slowLink := serveGateway(t, g.gw, 16<<10)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	p := startAbuseScript(t, ctx, "abuse-fanout.mjs", g.url,
		map[string]string{"fan": hourToken(t, "fan")}, "ABUSE_CLIENTS="+strconv.Itoa(fans))
	awaitLine(t, ctx, p, "ready")

	// The stalled client: a kernel receive buffer of a few KiB,
	// subscribed, then never read again.
	slow := mustDial(t, slowLink.url, hourToken(t, "stalled"), protoOptions{ReadBuffer: 4 << 10})
	slow.subscribeSync(t, realtime.ChannelMarketData)
	if got := g.gw.RoomSize("market-data:BTC/USD"); got != fans {
		t.Fatalf("RoomSize(market-data:BTC/USD) = %d, want %d", got, fans)
	}
	book := map[string]any{"symbol": "ETH/USD", "bids": strings.Repeat("1.0@3000.00,", 16<<10/12)}

	before := liveHeap()
	heap := sampleHeap(500 * time.Millisecond)
	ticker := time.NewTicker(time.Second / rate)
	start := time.Now()
	seq := 0
	var slowGoneAfter time.Duration
	for {
		<-ticker.C
		seq++
		err := g.gw.BroadcastToSymbol(realtime.ChannelMarketData, "BTC/USD", "ticker:update",
			tickPayload{Symbol: "BTC/USD", Seq: seq, Price: 50000 + float64(seq%100), T: time.Now().UnixMilli()})
		if err != nil {
			t.Fatalf("BroadcastToSymbol: %v", err)
		}
		for range books {
			if err := g.gw.BroadcastToSymbol(realtime.ChannelMarketData, "ETH/USD", "book:snapshot", book); err != nil {
				t.Fatalf("BroadcastToSymbol: %v", err)
			}
		}
		elapsed := time.Since(start)
		if slowGoneAfter == 0 && seq%(rate/5) == 0 && g.gw.Stats().Counters.SlowConsumers > 0 {
			slowGoneAfter = elapsed
		}
		// Keep streaming after the disconnect: the others must not notice
		// it.
		if slowGoneAfter > 0 && elapsed >= max(minStream, slowGoneAfter+time.Second) {
			break
		}
		if elapsed > maxStream {
			t.Errorf("the stalled client was not disconnected within %v of streaming", maxStream)
			break
		}
	}
	ticker.Stop()
	streamed := time.Since(start)
	samples := heap.finish()
	after := liveHeap()

	c := g.gw.Stats().Counters
	if c.SlowConsumers != 1 {
		t.Errorf("Counters.SlowConsumers = %d, want 1 (the stalled client only)", c.SlowConsumers)
	}
	if got := g.gw.ConnectedClients(); got != fans {
		t.Errorf("ConnectedClients = %d after the stalled client was dropped, want the %d others", got, fans)
	}
	if err := g.gw.Emit(t.Context(), realtime.Selector{}, "stream-end", map[string]int{"published": seq}); err != nil {
		t.Fatalf("Broadcast: %v", err)
	}
	r := p.Wait()
	nodetest.RequireChecks(t, r, "connect-and-subscribe", "stream-end-reaches-everyone", "full-rate", "in-order", "stayed-connected")
	if line, ok := r.Check("connect-and-subscribe"); ok {
		t.Logf("connecting and subscribing %d sockets: %v", fans, line["detail"])
	}
	if line, ok := r.Check("full-rate"); ok {
		t.Logf("%d sockets, %d ticks in %v (%.0f/s): %v", fans, seq, streamed.Round(time.Millisecond),
			float64(seq)/streamed.Seconds(), line["detail"])
	}
	t.Logf("stalled client disconnected after %v of streaming", slowGoneAfter.Round(time.Millisecond))

	// The server closed the stalled client's socket.
	slow.awaitClosed(t)

	// The stalled client's queue is bounded and everyone else's drains, so
	// the live heap must neither jump nor climb while streaming.
	peak := before
	for _, s := range samples {
		peak = max(peak, s)
	}
	t.Logf("live heap: before %.1f MiB, peak %.1f MiB, after %.1f MiB, samples %v",
		float64(before)/oneMiB, float64(peak)/oneMiB, float64(after)/oneMiB, heapMiB(samples))
	if peak > before+64*oneMiB {
		t.Errorf("live heap peaked at %.1f MiB, %.1f MiB above the %.1f MiB before the stream", float64(peak)/oneMiB, float64(peak-before)/oneMiB, float64(before)/oneMiB)
	}
	if n := len(samples); n >= 4 {
		first, last := samples[n/4], samples[n-1]
		if last > first+16*oneMiB {
			t.Errorf("live heap grew from %.1f MiB to %.1f MiB while streaming", float64(first)/oneMiB, float64(last)/oneMiB)
		}
	}
}

// TestAbuseStalledClientMemoryBound publishes 25 MB of order-book
// snapshots to a channel whose only subscriber has stopped reading. With
// the default queue limits the gateway holds at most a few MiB for it and
// then disconnects it; were the queue unbounded, the live heap would grow
// by the whole 25 MB.
func TestAbuseStalledClientMemoryBound(t *testing.T) {
	const (
		snapshots = 100
		size      = 256 << 10
	)
	gw, err := realtime.New(realtime.WithAuthenticator(abuseAuthenticator(t)), realtime.WithConnectionCountInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	s := serveGateway(t, gw, 16<<10)
	t.Cleanup(func() { _ = gw.Shutdown(context.Background()) })
	slow := mustDial(t, s.url, hourToken(t, "stalled"), protoOptions{ReadBuffer: 4 << 10})
	slow.subscribeSync(t, realtime.ChannelMarketData)

	book := map[string]string{"symbol": "ETH/USD", "levels": strings.Repeat("9", size)}
	before := liveHeap()
	peak := before
	for i := 1; i <= snapshots; i++ {
		if err := gw.BroadcastToSymbol(realtime.ChannelMarketData, "ETH/USD", "book:snapshot", book); err != nil {
			t.Fatal(err)
		}
		// Every publish while the client's queue fills, then now and then.
		if i <= 8 || i%20 == 0 {
			peak = max(peak, liveHeap())
		}
	}
	pollUntil(t, "the stalled client to be disconnected", func() bool { return gw.Stats().Counters.SlowConsumers == 1 })
	slow.awaitClosed(t)
	t.Logf("published %d MiB; live heap before %.1f MiB, peak %.1f MiB", snapshots*size/oneMiB, float64(before)/oneMiB, float64(peak)/oneMiB)
	if peak > before+8*oneMiB {
		t.Errorf("live heap peaked %.1f MiB above where it started while one stalled client was sent %d MiB: its queue is not bounded",
			float64(peak-before)/oneMiB, snapshots*size/oneMiB)
	}
}

func heapMiB(samples []uint64) []float64 {
	out := make([]float64, len(samples))
	for i, s := range samples {
		out[i] = float64(s*10/oneMiB) / 10
	}
	return out
}

// TestAbuseSlowConsumerConflate runs one client that reads a frame every
// few milliseconds, slower than four symbols' updates arrive, behind a
// small queue. Under SlowConsumerConflate it stays connected, sees every
// symbol's updates in order and ends with the latest price of each; under
// the default policy the same client is disconnected.
func TestAbuseSlowConsumerConflate(t *testing.T) {
	symbols := []string{"BTC/USD", "ETH/USD", "SOL/USD", "XRP/USD"}
	const (
		perSymbol = 250
		readEvery = 4 * time.Millisecond
	)
	// 900 bytes of padding make each update about 1 KB, so the kernel
	// buffers of the connection (send buffer set to 8 KiB) hold only a
	// few dozen of them and the queue bound is what the client runs into.
	pad := strings.Repeat("p", 900)

	run := func(t *testing.T, policy realtime.SlowConsumerPolicy) (last map[string]int, received int, disconnected bool, gw *realtime.Gateway) {
		var err error
		gw, err = realtime.New(
			realtime.WithAuthenticator(abuseAuthenticator(t)),
			realtime.WithQueueLimits(16, 64<<10),
			realtime.WithSlowConsumerPolicy(policy),
			realtime.WithHeartbeatInterval(0),
			realtime.WithConnectionCountInterval(0),
		)
		if err != nil {
			t.Fatal(err)
		}
		s := serveGateway(t, gw, 8<<10)
		t.Cleanup(func() { _ = gw.Shutdown(context.Background()) })

		c := mustDial(t, s.url, hourToken(t, "slow-reader"), protoOptions{ReadBuffer: 4 << 10})
		c.subscribeSync(t, realtime.ChannelMarketData, symbols...)

		// The reader: one frame every readEvery, until it has the final
		// update of every symbol or the connection ends.
		last = make(map[string]int)
		var (
			order    []string
			finished = make(chan struct{})
		)
		go func() {
			defer close(finished)
			tk := time.NewTicker(readEvery)
			defer tk.Stop()
			for {
				<-tk.C
				f, err := c.readFrame(abuseWait)
				if err != nil {
					disconnected = true
					return
				}
				e, ok := parseEventFrame(f)
				if !ok || e.Name != "ticker:update" {
					continue
				}
				var u tickPayload
				if err := e.decode(0, &u); err != nil {
					order = append(order, "undecodable update: "+err.Error())
					continue
				}
				received++
				if u.Seq <= last[u.Symbol] {
					order = append(order, fmt.Sprintf("%s: update %d after %d", u.Symbol, u.Seq, last[u.Symbol]))
				}
				last[u.Symbol] = u.Seq
				done := true
				for _, sym := range symbols {
					done = done && last[sym] == perSymbol
				}
				if done {
					return
				}
			}
		}()

		tk := time.NewTicker(time.Millisecond)
		for seq := 1; seq <= perSymbol; seq++ {
			for _, sym := range symbols {
				<-tk.C
				err := gw.BroadcastToSymbol(realtime.ChannelMarketData, sym, "ticker:update",
					tickPayload{Symbol: sym, Seq: seq, Price: float64(seq), T: time.Now().UnixMilli(), Pad: pad})
				if err != nil {
					t.Fatalf("BroadcastToSymbol: %v", err)
				}
			}
		}
		tk.Stop()
		select {
		case <-finished:
		case <-time.After(abuseWait):
			c.close()
			<-finished
			t.Fatalf("the reader had not received the final updates %v within %v (last seen %v)", symbols, abuseWait, last)
		}
		for _, o := range order {
			t.Errorf("out of order: %s", o)
		}
		return last, received, disconnected, gw
	}

	t.Run("conflate", func(t *testing.T) {
		last, received, disconnected, gw := run(t, realtime.SlowConsumerConflate)
		if disconnected {
			t.Fatalf("the slow reader was disconnected under SlowConsumerConflate after %d updates (last %v)", received, last)
		}
		if n := gw.Stats().Counters.SlowConsumers; n != 0 {
			t.Errorf("Counters.SlowConsumers = %d under SlowConsumerConflate, want 0", n)
		}
		if n := gw.ConnectedClients(); n != 1 {
			t.Errorf("ConnectedClients = %d, want the slow reader still connected", n)
		}
		for _, sym := range symbols {
			if last[sym] != perSymbol {
				t.Errorf("%s: last update received %d, want the latest, %d", sym, last[sym], perSymbol)
			}
		}
		published := perSymbol * len(symbols)
		t.Logf("received %d of %d updates; the rest were replaced by newer ones", received, published)
		if received >= published {
			t.Errorf("received all %d updates: the reader never fell behind, so conflation was not exercised", published)
		}
	})

	t.Run("disconnect", func(t *testing.T) {
		last, received, disconnected, gw := run(t, realtime.SlowConsumerDisconnect)
		if !disconnected {
			t.Fatalf("the slow reader kept up under SlowConsumerDisconnect (received %d, last %v): the scenario does not overflow the queue", received, last)
		}
		pollUntil(t, "Counters.SlowConsumers to reach 1", func() bool { return gw.Stats().Counters.SlowConsumers == 1 })
	})
}

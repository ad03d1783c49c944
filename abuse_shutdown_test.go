package realtime_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/internal/nodetest"
)

// balancer is a TCP load balancer in front of gateway instances: every new
// connection goes to the current backend; taking an instance out of
// rotation leaves its open connections alone, as a real balancer drains.
type balancer struct {
	ln      net.Listener
	backend atomic.Pointer[string]
	wg      sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func startBalancer(t *testing.T, backendURL string) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{ln: ln, conns: make(map[net.Conn]struct{})}
	b.route(backendURL)
	b.wg.Add(1)
	go b.serve()
	t.Cleanup(b.close)
	return b
}

func (b *balancer) url() string { return "http://" + b.ln.Addr().String() }

// route sends new connections to the gateway at backendURL.
func (b *balancer) route(backendURL string) {
	host := strings.TrimPrefix(backendURL, "http://")
	b.backend.Store(&host)
}

func (b *balancer) serve() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		if !b.track(c) {
			return
		}
		b.wg.Add(1)
		go b.pipe(c)
	}
}

func (b *balancer) track(c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		_ = c.Close()
		return false
	}
	b.conns[c] = struct{}{}
	return true
}

func (b *balancer) untrack(c net.Conn) {
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
	_ = c.Close()
}

// pipe joins a client connection to the current backend until either side
// closes, then closes both, so a backend's close reaches the client.
func (b *balancer) pipe(client net.Conn) {
	defer b.wg.Done()
	defer b.untrack(client)
	server, err := net.Dial("tcp", *b.backend.Load())
	if err != nil {
		return
	}
	if !b.track(server) {
		return
	}
	defer b.untrack(server)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(server, client)
		_ = server.Close()
	}()
	_, _ = io.Copy(client, server)
	_ = client.Close()
	<-done
}

func (b *balancer) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	_ = b.ln.Close()
	for c := range b.conns {
		_ = c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// TestAbuseGracefulShutdown shuts a gateway down under socket.io-client
// connections: a burst broadcast just before arrives in full, clients see
// "transport close" and reconnect through the balancer to a second
// gateway, Shutdown returns once everything is closed, new handshakes are
// refused, and no goroutine is left behind.
func TestAbuseGracefulShutdown(t *testing.T) {
	const (
		clients = 20
		burst   = 500
	)
	before := goleak.IgnoreCurrent()
	opts := func() []realtime.Option {
		return []realtime.Option{realtime.WithAuthenticator(abuseAuthenticator(t)), realtime.WithConnectionCountInterval(0)}
	}
	a := startAbuseGateway(t, opts()...)
	b := startAbuseGateway(t, opts()...)
	lb := startBalancer(t, a.url)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	p := startAbuseScript(t, ctx, "abuse-shutdown.mjs", lb.url(), map[string]string{"t": hourToken(t, "drained")},
		"ABUSE_CLIENTS="+strconv.Itoa(clients), "BURST="+strconv.Itoa(burst))
	awaitLine(t, ctx, p, "ready")
	if got := a.gw.ConnectedClients(); got != clients {
		t.Fatalf("gateway A: ConnectedClients = %d, want %d", got, clients)
	}

	// A leaves the rotation, then broadcasts a burst and shuts down at
	// once: the burst is still queued when Shutdown starts.
	lb.route(b.url)
	for i := 1; i <= burst; i++ {
		if err := a.gw.Emit(t.Context(), realtime.Selector{}, "burst", map[string]int{"seq": i}); err != nil {
			t.Fatalf("Broadcast: %v", err)
		}
	}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	start := time.Now()
	if err := a.gw.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	t.Logf("Shutdown returned after %v", time.Since(start).Round(time.Millisecond))
	if got := a.gw.ConnectedClients(); got != 0 {
		t.Errorf("after Shutdown: ConnectedClients = %d, want 0", got)
	}
	if err := a.gw.Emit(t.Context(), realtime.Selector{}, "late", nil); !errors.Is(err, realtime.ErrClosed) {
		t.Errorf("Broadcast after Shutdown = %v, want ErrClosed", err)
	}
	if err := a.gw.Shutdown(context.Background()); !errors.Is(err, realtime.ErrClosed) {
		t.Errorf("second Shutdown = %v, want ErrClosed", err)
	}
	// New handshakes are refused, over either transport.
	resp, err := http.Get(a.url + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("polling handshake after Shutdown: HTTP %d %q, want 503", resp.StatusCode, body)
	}
	if c, err := dialProto(t, a.url, hourToken(t, "late"), protoOptions{}); err == nil {
		c.close()
		t.Error("websocket handshake after Shutdown: a session was opened")
	}

	awaitLine(t, ctx, p, "reconnected")
	if err := b.gw.Emit(t.Context(), realtime.Selector{}, "hello-from-b", nil); err != nil {
		t.Fatal(err)
	}
	r := p.Wait()
	nodetest.RequireChecks(t, r, "connect", "burst-flushed-before-close", "disconnect-reason",
		"reconnect-attempted", "reconnected", "served-by-second-gateway")
	if got := b.gw.Stats().Counters.Connections; got != clients {
		t.Errorf("gateway B: Counters.Connections = %d, want the %d reconnected clients", got, clients)
	}

	// Everything this test started is stopped: nothing of either gateway
	// may remain.
	if err := b.gw.Shutdown(sctx); err != nil {
		t.Errorf("gateway B: Shutdown: %v", err)
	}
	lb.close()
	a.srv.Close()
	b.srv.Close()
	goleak.VerifyNone(t, before)
}

// TestAbuseShutdownDeadline shuts down a gateway whose only client has
// stopped reading with messages queued: Shutdown gives up when ctx ends,
// returns ctx's error, and the connection is closed all the same.
func TestAbuseShutdownDeadline(t *testing.T) {
	gw, err := realtime.New(realtime.WithAuthenticator(abuseAuthenticator(t)), realtime.WithConnectionCountInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	s := serveGateway(t, gw, 8<<10)
	c := mustDial(t, s.url, hourToken(t, "stuck"), protoOptions{ReadBuffer: 4 << 10})
	c.subscribeSync(t, realtime.ChannelTrading)
	// About 200 KB queued: far more than the kernel buffers hold, far
	// less than the queue bound.
	page := strings.Repeat("x", 1000)
	for i := range 200 {
		if err := gw.BroadcastToRoom(realtime.ChannelTrading, "page", map[string]any{"i": i, "body": page}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = gw.Shutdown(ctx)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want context.DeadlineExceeded", err)
	}
	if took > 2*time.Second {
		t.Errorf("Shutdown took %v with a 300ms deadline", took)
	}
	if n := gw.ConnectedClients(); n != 0 {
		t.Errorf("ConnectedClients = %d after Shutdown, want 0", n)
	}
	c.awaitClosed(t)
}

// TestAbuseShutdownFlushesQueue shuts down while a slow reader has about
// 200 KB queued behind small kernel buffers: Shutdown waits until the
// client has read every queued message, in order, and only then closes
// the connection (a websocket close frame, no Socket.IO disconnect).
func TestAbuseShutdownFlushesQueue(t *testing.T) {
	const pages = 200
	gw, err := realtime.New(realtime.WithAuthenticator(abuseAuthenticator(t)), realtime.WithConnectionCountInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	s := serveGateway(t, gw, 8<<10)
	c := mustDial(t, s.url, hourToken(t, "patient"), protoOptions{ReadBuffer: 32 << 10})
	c.subscribeSync(t, realtime.ChannelTrading)
	page := strings.Repeat("x", 1000)
	for i := 1; i <= pages; i++ {
		if err := gw.BroadcastToRoom(realtime.ChannelTrading, "page", map[string]any{"i": i, "body": page}); err != nil {
			t.Fatal(err)
		}
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), abuseWait)
		defer cancel()
		shut <- gw.Shutdown(ctx)
	}()

	// The small buffers keep most of the queue in the gateway while
	// Shutdown starts.
	next := 1
	for {
		f, err := c.readFrame(abuseWait)
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
				t.Errorf("the connection ended with %v, want a normal websocket close", err)
			}
			break
		}
		if f == "41" {
			t.Error("Shutdown sent a Socket.IO DISCONNECT: socket.io-client would not reconnect")
			continue
		}
		e, ok := parseEventFrame(f)
		if !ok || e.Name != "page" {
			continue
		}
		var p struct {
			I int `json:"i"`
		}
		if err := e.decode(0, &p); err != nil || p.I != next {
			t.Fatalf("page %d (err %v), want page %d", p.I, err, next)
		}
		next++
	}
	if next != pages+1 {
		t.Errorf("received %d pages before the close, want all %d", next-1, pages)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

package realtime_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/internal/nodetest"
)

// tickStream publishes `tick` {seq} to a room at an interval until stopped, so
// a watcher can prove it kept receiving, without a gap, through whatever
// the test did to other clients.
type tickStream struct {
	stop chan struct{}
	done chan struct{}
	seq  int
	err  error
}

func startTickStream(gw *realtime.Gateway, room string, every time.Duration) *tickStream {
	s := &tickStream{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.seq++
				if err := gw.BroadcastToRoom(room, "tick", map[string]int{"seq": s.seq}); err != nil {
					s.err = err
					return
				}
			}
		}
	}()
	return s
}

// end stops the stream and returns how many ticks it published.
func (s *tickStream) end(t *testing.T) int {
	t.Helper()
	close(s.stop)
	<-s.done
	if s.err != nil {
		t.Errorf("streaming: %v", s.err)
	}
	return s.seq
}

// headerAddress counts clients by the X-Client-Addr header, so that one
// test process can stand for many client addresses.
func headerAddress(remoteAddr string, h http.Header) string {
	if a := h.Get("X-Client-Addr"); a != "" {
		return a
	}
	return remoteAddr
}

// TestAbuseLimits runs abuse-limits.mjs: every limit refuses a
// socket.io-client with an answer it can show (connect_error code and
// message, HTTP 503, a closed connection), counts the refusal, and leaves
// a watcher on the same gateway receiving its stream without a gap.
func TestAbuseLimits(t *testing.T) {
	g := startAbuseGateway(t,
		realtime.WithAuthenticator(abuseAuthenticator(t)),
		realtime.WithConnectionLimits(8, 3, 2),
		realtime.WithHandshakeRate(1, 4),
		realtime.WithMaxPayload(4096),
		realtime.WithClientAddress(headerAddress),
		realtime.WithConnectionCountInterval(50*time.Millisecond),
		realtime.WithLimiter(realtime.NoLimit()),
	)
	tokens := map[string]string{}
	for _, name := range []string{"watcher", "alice", "u1", "u2", "u3", "u4", "u5", "u6", "r4"} {
		tokens[name] = hourToken(t, name)
	}
	s := startTickStream(g.gw, realtime.ChannelTrading, 10*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	p := startAbuseScript(t, ctx, "abuse-limits.mjs", g.url, tokens)
	r := p.Wait()
	published := s.end(t)
	nodetest.RequireChecks(t, r,
		"watcher-connected", "handshake-rate", "per-user-limit", "per-address-limit", "total-limit",
		"slot-released-on-disconnect", "max-payload-closes-only-that-connection", "watcher-unaffected",
		"handshake-refusals-seen",
	)
	if testing.Verbose() {
		for _, l := range r.Checks() {
			t.Logf("%v", l)
		}
	}
	t.Logf("%d ticks published during the run", published)

	c := g.gw.Stats().Counters
	if got := c.Refused[realtime.CodeTooManyConnections]; got != 3 {
		t.Errorf("Counters.Refused[%s] = %d, want 3 (per user, per address, total)", realtime.CodeTooManyConnections, got)
	}
	if line, ok := r.Check("handshake-refusals-seen"); ok {
		seen := uint64(line["detail"].(map[string]any)["count"].(float64))
		if got := c.Refused[realtime.RefusedHandshakeRateLimited]; got != seen {
			t.Errorf("Counters.Refused[%s] = %d, want the %d refusals the clients saw", realtime.RefusedHandshakeRateLimited, got, seen)
		}
	}
	// The oversized message is a refusal too: it must be counted, under a
	// code of its own.
	if other := refusedTotal(c) - c.Refused[realtime.CodeTooManyConnections] - c.Refused[realtime.RefusedHandshakeRateLimited]; other != 1 {
		t.Errorf("Counters.Refused = %v: the connection closed for an oversized message is not counted (want one refusal under a payload code)", c.Refused)
	}
}

// TestAbuseConnectTimeout: a client that opens a session and never joins
// the namespace holds it only until WithConnectTimeout, while a client
// that joined in time stays.
func TestAbuseConnectTimeout(t *testing.T) {
	g := startAbuseGateway(t,
		realtime.WithAuthenticator(abuseAuthenticator(t)),
		realtime.WithConnectTimeout(300*time.Millisecond),
	)
	joined := mustDial(t, g.url, hourToken(t, "prompt"), protoOptions{})
	start := time.Now()
	silent := mustDial(t, g.url, "", protoOptions{NoConnect: true})
	silent.awaitClosed(t)
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("the silent session was closed after %v, before the 300ms connect timeout", took)
	}
	joined.listen()
	if err := joined.request("ping", nil, "pong"); err != nil {
		t.Errorf("the client that joined in time: %v", err)
	}
	if n := g.gw.ConnectedClients(); n != 1 {
		t.Errorf("ConnectedClients = %d, want 1", n)
	}
}

// pollHandshake opens a long-polling session as address addr and returns
// the response status, Retry-After header, body and session id.
func pollHandshake(t *testing.T, base, addr string) (status int, retryAfter, body, sid string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/socket.io/?EIO=4&transport=polling", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Client-Addr", addr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body = string(b)
	if resp.StatusCode == http.StatusOK {
		var open struct {
			SID string `json:"sid"`
		}
		if !strings.HasPrefix(body, "0") || json.Unmarshal(b[1:], &open) != nil || open.SID == "" {
			t.Fatalf("handshake answered 200 %q, not an open packet", body)
		}
		sid = open.SID
		// Close the session at once: the client sends the close packet.
		resp, err := http.Post(base+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader("1"))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), body, sid
}

// TestAbuseHandshakeRateRawHTTP floods the handshake endpoint from one
// address: past the burst, handshakes are answered 503 with Retry-After
// and no session; other addresses are not affected; after Retry-After the
// address is served again; every refusal is counted.
func TestAbuseHandshakeRateRawHTTP(t *testing.T) {
	t.Parallel() // it waits a second for the bucket to refill
	g := startAbuseGateway(t,
		realtime.WithAuthenticator(abuseAuthenticator(t)),
		realtime.WithHandshakeRate(1, 2),
		realtime.WithClientAddress(headerAddress),
	)
	for i := range 2 {
		if status, _, body, _ := pollHandshake(t, g.url, "192.0.2.1"); status != http.StatusOK {
			t.Fatalf("handshake %d within the burst: HTTP %d %q", i+1, status, body)
		}
	}
	for i := range 3 {
		status, retryAfter, body, sid := pollHandshake(t, g.url, "192.0.2.1")
		if status != http.StatusServiceUnavailable || retryAfter != "1" || sid != "" {
			t.Fatalf("handshake %d over the burst: HTTP %d, Retry-After %q, body %q; want 503, Retry-After 1 and no session",
				i+3, status, retryAfter, body)
		}
	}
	if status, _, body, _ := pollHandshake(t, g.url, "192.0.2.2"); status != http.StatusOK {
		t.Errorf("another address during the flood: HTTP %d %q, want 200", status, body)
	}
	if got := g.gw.Stats().Counters.Refused[realtime.RefusedHandshakeRateLimited]; got != 3 {
		t.Errorf("Counters.Refused[%s] = %d, want 3", realtime.RefusedHandshakeRateLimited, got)
	}
	// Waiting as told is the behaviour under test.
	time.Sleep(time.Second)
	if status, _, body, _ := pollHandshake(t, g.url, "192.0.2.1"); status != http.StatusOK {
		t.Errorf("after waiting Retry-After: HTTP %d %q, want 200", status, body)
	}
}

// TestAbuseHandshakeRetryAfterMatchesRate: at a rate below one handshake a
// second, Retry-After must say how long the bucket takes to refill, or a
// client that obeys it is refused again and again.
func TestAbuseHandshakeRetryAfterMatchesRate(t *testing.T) {
	g := startAbuseGateway(t,
		realtime.WithAuthenticator(abuseAuthenticator(t)),
		realtime.WithHandshakeRate(0.25, 1),
		realtime.WithClientAddress(headerAddress),
	)
	if status, _, body, _ := pollHandshake(t, g.url, "192.0.2.3"); status != http.StatusOK {
		t.Fatalf("first handshake: HTTP %d %q", status, body)
	}
	status, retryAfter, _, _ := pollHandshake(t, g.url, "192.0.2.3")
	if status != http.StatusServiceUnavailable {
		t.Fatalf("second handshake: HTTP %d, want 503", status)
	}
	if secs, err := strconv.Atoi(retryAfter); err != nil || secs < 4 {
		t.Errorf("WithHandshakeRate(0.25, 1): Retry-After %q, want at least 4 seconds (one token per 4 s)", retryAfter)
	}
}

// TestAbuseRepeatedRefusedConnects: a client that keeps sending CONNECT
// with tokens that are refused (guessing, or replaying stolen ones) makes
// the gateway check a signature each time; after five refusals on one
// session the session is closed.
func TestAbuseRepeatedRefusedConnects(t *testing.T) {
	g := startAbuseGateway(t, realtime.WithAuthenticator(abuseAuthenticator(t)))
	bystander := mustDial(t, g.url, hourToken(t, "bystander"), protoOptions{})
	bystander.listen()
	c := mustDial(t, g.url, "", protoOptions{NoConnect: true})
	refusals := 0
	for i := range 10 {
		if err := c.write(`40{"token":"guess-` + strconv.Itoa(i) + `"}`); err != nil {
			break // closed already
		}
	}
	for {
		f, err := c.readFrame(abuseWait)
		if err != nil {
			break
		}
		if strings.HasPrefix(f, "44") {
			refusals++
		}
	}
	if refusals != 5 {
		t.Errorf("%d CONNECT refusals before the session was closed, want 5", refusals)
	}
	if got := g.gw.Stats().Counters.Refused[realtime.CodeInvalidToken]; got != 5 {
		t.Errorf("Counters.Refused[%s] = %d, want 5", realtime.CodeInvalidToken, got)
	}
	if err := bystander.request("ping", nil, "pong"); err != nil {
		t.Errorf("bystander: %v", err)
	}
}

package engineio_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
)

func TestPollingReceive(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	o, rec := h.openPolling()
	r := h.post(o.SID, "4hello\x1e4world\x1ebAQIDBA==\x1e6\x1e4h\u00e9llo \u20ac")
	if r.status != http.StatusOK || string(r.body) != "ok" {
		t.Fatalf("POST: status %d body %q, want 200 ok", r.status, r.body)
	}
	rec.expectText(t, "hello")
	rec.expectText(t, "world")
	if m := rec.next(t); !m.binary || !bytes.Equal(m.data, []byte{1, 2, 3, 4}) {
		t.Fatalf("received (%v, binary=%v), want binary [1 2 3 4]", m.data, m.binary)
	}
	rec.expectText(t, "h\u00e9llo \u20ac")

	// Each POST is delivered after the previous one, in order.
	for _, msg := range fmtMessages("m", 20) {
		if r := h.post(o.SID, "4"+msg); string(r.body) != "ok" {
			t.Fatalf("POST %s: status %d body %q", msg, r.status, r.body)
		}
	}
	for _, msg := range fmtMessages("m", 20) {
		rec.expectText(t, msg)
	}
	rec.expectOpen(t)
}

func TestPollingSend(t *testing.T) {
	msgs := []engineio.Message{
		engineio.TextMessage([]byte("x")),
		{Data: []byte{1, 2, 3}, Binary: true},
		engineio.TextMessage([]byte("h\u00e9llo")),
		engineio.TextMessage(nil),
	}
	const want = "4x\x1ebAQID\x1e4h\u00e9llo\x1e4"

	t.Run("queued before GET", func(t *testing.T) {
		h := newHarness(t, engineio.Config{})
		o, rec := h.openPolling()
		for _, m := range msgs {
			if err := rec.sess.Send(m); err != nil {
				t.Fatalf("Send: %v", err)
			}
		}
		r := h.get(o.SID)
		if r.status != http.StatusOK || string(r.body) != want {
			t.Fatalf("GET: status %d body %q, want 200 %q", r.status, r.body, want)
		}
		if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
			t.Errorf("Content-Type %q, want text/plain; charset=UTF-8", ct)
		}
	})
	t.Run("sent while GET waits", func(t *testing.T) {
		h := newHarness(t, engineio.Config{})
		_, rec := h.openPolling()
		pending := h.pendingGet(rec)
		if err := rec.sess.Send(msgs...); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if r := awaitResponse(t, pending); r.status != http.StatusOK || string(r.body) != want {
			t.Fatalf("GET: status %d body %q, want 200 %q", r.status, r.body, want)
		}
	})
	t.Run("successive GETs keep order", func(t *testing.T) {
		h := newHarness(t, engineio.Config{})
		o, rec := h.openPolling()
		sent := fmtMessages("n", 200)
		go func() {
			for _, m := range sent {
				if rec.sess.Send(engineio.TextMessage([]byte(m))) != nil {
					return
				}
			}
		}()
		var got []string
		for len(got) < len(sent) {
			r := h.get(o.SID)
			if r.status != http.StatusOK {
				t.Fatalf("GET: status %d body %q", r.status, r.body)
			}
			for _, p := range strings.Split(string(r.body), "\x1e") {
				if !strings.HasPrefix(p, "4") {
					t.Fatalf("GET returned packet %q, want a message", p)
				}
				got = append(got, p[1:])
			}
		}
		if strings.Join(got, ",") != strings.Join(sent, ",") {
			t.Fatalf("received %v, want %v", got, sent)
		}
	})
}

func TestPollingConcurrentGET(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	o, rec := h.openPolling()
	first := h.pendingGet(rec)
	expectError(t, h.get(o.SID), 400, 3, "Bad request")
	if r := awaitResponse(t, first); r.status != http.StatusOK || string(r.body) != "1" {
		t.Errorf("waiting GET: status %d body %q, want 200 \"1\"", r.status, r.body)
	}
	rec.expectClosed(t, engineio.ErrTransportError)
	expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
}

// Two GETs sent a few milliseconds apart may be handled in either order.
// The one sent first travels on the connection that carried the previous
// response (the client's second one needs a connection of its own): it is
// answered with the close packet even when the server handles it last.
func TestPollingConcurrentGETHandledOutOfOrder(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	o, rec := h.openPolling() // over h.client, which keeps the connection
	other := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(other.CloseIdleConnections)
	second := make(chan response, 1)
	go func() {
		resp, err := other.Get(h.url(pollQuery(o.SID)))
		if err != nil {
			second <- response{status: -1, body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		second <- response{status: resp.StatusCode, header: resp.Header, body: b}
	}()
	waitUntil(t, "the GET sent second is held", func() bool { return engineio.PollWaiting(rec.sess) })
	if r := h.get(o.SID); r.status != http.StatusOK || string(r.body) != "1" {
		t.Errorf("GET sent first, handled last: status %d body %q, want 200 \"1\"", r.status, r.body)
	}
	expectError(t, awaitResponse(t, second), 400, 3, "Bad request")
	rec.expectClosed(t, engineio.ErrTransportError)
	expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
}

// A client that closes sends its close packet by POST while its GET is on
// the way or pending; whichever the server handles first, the GET is
// answered with a noop and the session is gone afterwards.
func TestPollingCloseRacesGET(t *testing.T) {
	h := newHarness(t, engineio.Config{})
	for i := range 100 {
		o, rec := h.openPolling()
		start := make(chan struct{})
		get := make(chan response, 1)
		post := make(chan response, 1)
		for _, req := range []struct {
			method, body string
			out          chan response
		}{{http.MethodGet, "", get}, {http.MethodPost, "1", post}} {
			go func() {
				<-start
				r, err := h.request(req.method, pollQuery(o.SID), strings.NewReader(req.body), nil)
				if err != nil {
					r = response{status: -1, body: []byte(err.Error())}
				}
				req.out <- r
			}()
		}
		close(start)
		if r := awaitResponse(t, post); r.status != http.StatusOK || string(r.body) != "ok" {
			t.Fatalf("round %d: POST 1: status %d body %q, want 200 ok", i, r.status, r.body)
		}
		if r := awaitResponse(t, get); r.status != http.StatusOK || string(r.body) != "6" {
			t.Fatalf("round %d: GET: status %d body %q, want 200 6", i, r.status, r.body)
		}
		rec.expectClosed(t, engineio.ErrTransportClose)
		expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
	}
}

// signalBody reports on entered the first time the server reads the body.
type signalBody struct {
	io.ReadCloser
	once    sync.Once
	entered chan struct{}
}

func (b *signalBody) Read(p []byte) (int, error) {
	b.once.Do(func() { close(b.entered) })
	return b.ReadCloser.Read(p)
}

// signalOn wraps the server so that a request carrying X-Signal-Enter
// closes entered when it reaches the handler, and one carrying
// X-Signal-Read closes it when the handler first reads the body.
func signalOn(entered chan struct{}) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Header.Get("X-Signal-Enter") != "":
				close(entered)
			case r.Header.Get("X-Signal-Read") != "":
				r.Body = &signalBody{ReadCloser: r.Body, entered: entered}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func awaitSignal(t testing.TB, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitTimeout):
		t.Fatalf("request did not reach the server within %v", waitTimeout)
	}
}

func TestPollingConcurrentPOST(t *testing.T) {
	entered := make(chan struct{})
	h := newHarnessWith(t, engineio.Config{}, harnessOptions{wrap: signalOn(entered)})
	o, rec := h.openPolling()

	body, bodyW := io.Pipe()
	firstDone := make(chan error, 1)
	go func() {
		_, err := h.request(http.MethodPost, pollQuery(o.SID), body, http.Header{"X-Signal-Read": {"1"}})
		firstDone <- err
	}()
	awaitSignal(t, entered)
	// The first POST is now being read: a second one breaks the rules.
	expectError(t, h.post(o.SID, "4second"), 400, 3, "Bad request")
	rec.expectClosed(t, engineio.ErrTransportError)

	_, _ = bodyW.Write([]byte("4first"))
	_ = bodyW.Close()
	if err := <-firstDone; err != nil {
		t.Fatalf("first POST: %v", err)
	}
	select {
	case m := <-rec.received:
		t.Errorf("received %q after the session closed", m.data)
	default:
	}
	expectError(t, h.post(o.SID, "4third"), 400, 1, "Session ID unknown")
}

// sizeless hides a reader's size so the request is sent chunked.
type sizeless struct{ io.Reader }

func TestPollingPayloadLimit(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name    string
		body    func(s string) io.Reader
		size    int
		tooLong bool
	}{
		{"at the limit", func(s string) io.Reader { return strings.NewReader(s) }, limit, false},
		{"chunked at the limit", func(s string) io.Reader { return sizeless{strings.NewReader(s)} }, limit, false},
		{"over the limit", func(s string) io.Reader { return strings.NewReader(s) }, limit + 1, true},
		{"far over the limit", func(s string) io.Reader { return strings.NewReader(s) }, 2 * limit, true},
		{"chunked over the limit", func(s string) io.Reader { return sizeless{strings.NewReader(s)} }, 2 * limit, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, engineio.Config{MaxPayload: limit})
			o, rec := h.openPolling()
			payload := "4" + strings.Repeat("x", tt.size-1)
			r := h.mustRequest(http.MethodPost, pollQuery(o.SID), tt.body(payload), nil)
			if !tt.tooLong {
				if r.status != http.StatusOK {
					t.Fatalf("status %d body %q, want 200", r.status, r.body)
				}
				rec.expectText(t, payload[1:])
				rec.expectOpen(t)
				return
			}
			if r.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d body %q, want 413", r.status, r.body)
			}
			rec.expectClosed(t, engineio.ErrPayloadTooLarge)
			expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
		})
	}
}

func TestPollingMalformedPayload(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"empty body", ""},
		{"trailing separator", "4hello\x1e"},
		{"empty packet between", "4a\x1e\x1e4b"},
		{"unknown type", "9hello"},
		{"letter type", "xhello"},
		{"bad base64", "b!!!!"},
		{"truncated base64", "bAQIDB"},
		{"ping from client", "2"},
		{"ping probe from client", "2probe"},
		{"open from client", "0"},
		{"upgrade over polling", "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, engineio.Config{})
			o, rec := h.openPolling()
			expectError(t, h.post(o.SID, tt.body), 400, 3, "Bad request")
			rec.expectClosed(t, engineio.ErrParseError)
			expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
		})
	}
}

func TestPollingClientPackets(t *testing.T) {
	t.Run("noop keeps the session", func(t *testing.T) {
		h := newHarness(t, engineio.Config{})
		o, rec := h.openPolling()
		if r := h.post(o.SID, "6"); string(r.body) != "ok" {
			t.Fatalf("POST 6: status %d body %q, want ok", r.status, r.body)
		}
		rec.expectOpen(t)
	})
	t.Run("close packet answers the pending GET with a noop", func(t *testing.T) {
		h := newHarness(t, engineio.Config{})
		o, rec := h.openPolling()
		get := h.pendingGet(rec)
		if r := h.post(o.SID, "1"); string(r.body) != "ok" {
			t.Fatalf("POST 1: status %d body %q, want ok", r.status, r.body)
		}
		if r := awaitResponse(t, get); r.status != 200 || string(r.body) != "6" {
			t.Fatalf("pending GET: status %d body %q, want 200 6", r.status, r.body)
		}
		rec.expectClosed(t, engineio.ErrTransportClose)
		expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
	})
	t.Run("close packet handled before the GET sent with it", func(t *testing.T) {
		h := newHarness(t, engineio.Config{})
		o, rec := h.openPolling()
		if err := rec.sess.Send(engineio.TextMessage([]byte("dropped"))); err != nil {
			t.Fatal(err)
		}
		if r := h.post(o.SID, "1"); string(r.body) != "ok" {
			t.Fatalf("POST 1: status %d body %q, want ok", r.status, r.body)
		}
		rec.expectClosed(t, engineio.ErrTransportClose)
		if r := h.get(o.SID); r.status != 200 || string(r.body) != "6" {
			t.Fatalf("GET after the close: status %d body %q, want 200 6", r.status, r.body)
		}
		expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
		expectError(t, h.post(o.SID, "4late"), 400, 1, "Session ID unknown")
	})
	t.Run("close packet forgets the session when no GET follows", func(t *testing.T) {
		h := newHarness(t, engineio.Config{PingTimeout: 20 * time.Millisecond})
		o, rec := h.openPolling()
		h.post(o.SID, "1")
		rec.expectClosed(t, engineio.ErrTransportClose)
		waitUntil(t, "the session is removed", func() bool { return h.srv.Len() == 0 })
		expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
	})
	t.Run("messages after close packet are dropped", func(t *testing.T) {
		h := newHarness(t, engineio.Config{})
		o, rec := h.openPolling()
		h.post(o.SID, "4before\x1e1\x1e4after")
		rec.expectText(t, "before")
		rec.expectClosed(t, engineio.ErrTransportClose)
		select {
		case m := <-rec.received:
			t.Errorf("received %q after the close packet", m.data)
		default:
		}
	})
}

func TestPollingServerClose(t *testing.T) {
	tests := []struct {
		name  string
		close func(*engineio.Session)
	}{
		{"Close", func(s *engineio.Session) { s.Close(engineio.ErrForcedClose) }},
		{"Abort", func(s *engineio.Session) { s.Abort(engineio.ErrForcedClose) }},
	}
	for _, tt := range tests {
		t.Run(tt.name+" with pending GET", func(t *testing.T) {
			h := newHarness(t, engineio.Config{})
			o, rec := h.openPolling()
			pending := h.pendingGet(rec)
			tt.close(rec.sess)
			rec.expectClosed(t, engineio.ErrForcedClose)
			if r := awaitResponse(t, pending); r.status != 200 || string(r.body) != "1" {
				t.Errorf("pending GET: status %d body %q, want 200 \"1\"", r.status, r.body)
			}
			expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
		})
	}
	t.Run("Close flushes the queue first", func(t *testing.T) {
		h := newHarness(t, engineio.Config{})
		o, rec := h.openPolling()
		_ = rec.sess.Send(engineio.TextMessage([]byte("a")), engineio.TextMessage([]byte("b")))
		rec.sess.Close(engineio.ErrForcedClose)
		if r := h.get(o.SID); r.status != 200 || string(r.body) != "4a\x1e4b\x1e1" {
			t.Errorf("GET: status %d body %q, want 200 %q", r.status, r.body, "4a\x1e4b\x1e1")
		}
		expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
	})
	t.Run("Abort drops the queue", func(t *testing.T) {
		h := newHarness(t, engineio.Config{})
		o, rec := h.openPolling()
		_ = rec.sess.Send(engineio.TextMessage([]byte("a")))
		rec.sess.Abort(engineio.ErrForcedClose)
		expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
	})
}

func TestPollingClientAbandonsGET(t *testing.T) {
	entered := make(chan struct{})
	h := newHarnessWith(t, engineio.Config{}, harnessOptions{wrap: signalOn(entered)})
	o, rec := h.openPolling()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url(pollQuery(o.SID)), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Signal-Enter", "1")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := h.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	awaitSignal(t, entered)
	cancel()
	<-done
	rec.expectClosed(t, engineio.ErrTransportClose)
	expectError(t, h.get(o.SID), 400, 1, "Session ID unknown")
}

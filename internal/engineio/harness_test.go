package engineio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tradewithai/realtime/internal/engineio"
)

// waitTimeout bounds every wait for an event; reaching it fails the test.
const waitTimeout = 5 * time.Second

type received struct {
	data   []byte
	binary bool
}

// recorder is a Receiver that reports every call on a channel, so tests
// await events instead of sleeping.
type recorder struct {
	sess     *engineio.Session
	received chan received
	closed   chan error
	closes   atomic.Int32
}

func newRecorder(s *engineio.Session) *recorder {
	return &recorder{
		sess:     s,
		received: make(chan received, 4096),
		closed:   make(chan error, 1),
	}
}

func (r *recorder) Receive(data []byte, binary bool) {
	r.received <- received{data: data, binary: binary}
}

func (r *recorder) Closed(reason error) {
	if r.closes.Add(1) == 1 {
		r.closed <- reason
	}
}

// next returns the next received message.
func (r *recorder) next(t testing.TB) received {
	t.Helper()
	select {
	case m := <-r.received:
		return m
	case <-time.After(waitTimeout):
		t.Fatalf("session %s: no message received within %v", r.sess.ID(), waitTimeout)
		return received{}
	}
}

// expectText awaits the next message and checks it is the text want.
func (r *recorder) expectText(t testing.TB, want string) {
	t.Helper()
	m := r.next(t)
	if m.binary || string(m.data) != want {
		t.Fatalf("received (%q, binary=%v), want text %q", m.data, m.binary, want)
	}
}

// awaitClosed returns the reason the session closed for.
func (r *recorder) awaitClosed(t testing.TB) error {
	t.Helper()
	select {
	case err := <-r.closed:
		return err
	case <-time.After(waitTimeout):
		t.Fatalf("session %s: not closed within %v", r.sess.ID(), waitTimeout)
		return nil
	}
}

// expectClosed awaits Closed and checks its reason.
func (r *recorder) expectClosed(t testing.TB, want error) {
	t.Helper()
	if got := r.awaitClosed(t); !errors.Is(got, want) {
		t.Fatalf("session closed with %v, want %v", got, want)
	}
}

// expectOpen checks that Closed has not been called.
func (r *recorder) expectOpen(t testing.TB) {
	t.Helper()
	if n := r.closes.Load(); n != 0 {
		t.Fatalf("session closed (%d Closed calls), want open", n)
	}
}

// harness is a Server on a loopback httptest.Server, with a client for
// each transport.
type harness struct {
	t      testing.TB
	srv    *engineio.Server
	ts     *httptest.Server
	client *http.Client
	dialer *websocket.Dialer

	sessions chan *recorder // every session, in the order they opened

	mu    sync.Mutex
	bySID map[string]*recorder
}

func newHarness(t testing.TB, cfg engineio.Config) *harness {
	t.Helper()
	return newHarnessWith(t, cfg, harnessOptions{})
}

type harnessOptions struct {
	// hook runs inside onSession, before the client receives the open
	// packet.
	hook func(*engineio.Session, *recorder)
	// wrap wraps the Server's handler.
	wrap func(http.Handler) http.Handler
	// receiver, when set, replaces the recorder as the sessions' Receiver;
	// the harness still tracks each session to clean it up.
	receiver func(*engineio.Session) engineio.Receiver
}

func newHarnessWith(t testing.TB, cfg engineio.Config, opts harnessOptions) *harness {
	t.Helper()
	hook := opts.hook
	h := &harness{
		t:        t,
		sessions: make(chan *recorder, 4096),
		bySID:    make(map[string]*recorder),
	}
	srv, err := engineio.NewServer(cfg, func(s *engineio.Session) engineio.Receiver {
		rec := newRecorder(s)
		h.mu.Lock()
		h.bySID[s.ID()] = rec
		h.mu.Unlock()
		select {
		case h.sessions <- rec:
		default:
		}
		if hook != nil {
			hook(s, rec)
		}
		if opts.receiver != nil {
			return opts.receiver(s)
		}
		return rec
	})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	h.srv = srv
	var handler http.Handler = srv
	if opts.wrap != nil {
		handler = opts.wrap(srv)
	}
	h.ts = httptest.NewServer(handler)
	transport := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}
	h.client = &http.Client{Transport: transport, Timeout: 2 * waitTimeout}
	h.dialer = &websocket.Dialer{Proxy: nil, HandshakeTimeout: waitTimeout}
	t.Cleanup(h.close)
	return h
}

// close aborts what the test left open, shuts the server down and checks
// nothing is left behind.
func (h *harness) close() {
	h.mu.Lock()
	recs := make([]*recorder, 0, len(h.bySID))
	for _, r := range h.bySID {
		recs = append(recs, r)
	}
	h.mu.Unlock()
	for _, r := range recs {
		r.sess.Abort(engineio.ErrServerShutdown)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.t.Errorf("Shutdown: %v", err)
	}
	if n := h.srv.Len(); n != 0 {
		h.t.Errorf("Len after Shutdown = %d, want 0", n)
	}
	h.ts.Close()
	h.client.CloseIdleConnections()
}

func (h *harness) recorder(sid string) *recorder {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.bySID[sid]
	if r == nil {
		h.t.Fatalf("no session %q", sid)
	}
	return r
}

func (h *harness) url(query string) string {
	return h.ts.URL + h.srv.Config().Path + "?" + query
}

func (h *harness) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(h.url(query), "http")
}

// response is what a client saw of one HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// request performs one HTTP request; it is safe to call from any
// goroutine.
func (h *harness) request(method, query string, body io.Reader, header http.Header) (response, error) {
	req, err := http.NewRequest(method, h.url(query), body)
	if err != nil {
		return response{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func (h *harness) mustRequest(method, query string, body io.Reader, header http.Header) response {
	h.t.Helper()
	r, err := h.request(method, query, body, header)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, query, err)
	}
	return r
}

func pollQuery(sid string) string { return "EIO=4&transport=polling&sid=" + sid }

func (h *harness) get(sid string) response {
	h.t.Helper()
	return h.mustRequest(http.MethodGet, pollQuery(sid), nil, nil)
}

// getAsync starts a long-polling GET and returns its outcome on a channel.
func (h *harness) getAsync(sid string) <-chan response {
	out := make(chan response, 1)
	go func() {
		r, err := h.request(http.MethodGet, pollQuery(sid), nil, nil)
		if err != nil {
			r = response{status: -1, body: []byte(err.Error())}
		}
		out <- r
	}()
	return out
}

// pendingGet starts a long-polling GET and returns once the server holds it.
func (h *harness) pendingGet(rec *recorder) <-chan response {
	h.t.Helper()
	out := h.getAsync(rec.sess.ID())
	waitUntil(h.t, "the GET is held", func() bool { return engineio.PollWaiting(rec.sess) })
	return out
}

// waitUntil polls cond, for states that no event announces.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) post(sid, body string) response {
	h.t.Helper()
	return h.mustRequest(http.MethodPost, pollQuery(sid), strings.NewReader(body), nil)
}

// awaitResponse waits for a response started with getAsync.
func awaitResponse(t testing.TB, ch <-chan response) response {
	t.Helper()
	select {
	case r := <-ch:
		if r.status == -1 {
			t.Fatalf("request failed: %s", r.body)
		}
		return r
	case <-time.After(waitTimeout):
		t.Fatalf("no response within %v", waitTimeout)
		return response{}
	}
}

// openPacket is the JSON payload of the open packet.
type openPacket struct {
	SID          string          `json:"sid"`
	Upgrades     json.RawMessage `json:"upgrades"`
	PingInterval int             `json:"pingInterval"`
	PingTimeout  int             `json:"pingTimeout"`
	MaxPayload   int             `json:"maxPayload"`
}

func parseOpen(t testing.TB, packet []byte) openPacket {
	t.Helper()
	if len(packet) == 0 || packet[0] != '0' {
		t.Fatalf("open packet = %q, want it to start with 0", packet)
	}
	dec := json.NewDecoder(bytes.NewReader(packet[1:]))
	dec.DisallowUnknownFields()
	var o openPacket
	if err := dec.Decode(&o); err != nil {
		t.Fatalf("open packet %q: %v", packet, err)
	}
	return o
}

// openPolling performs a long-polling handshake.
func (h *harness) openPolling() (openPacket, *recorder) {
	h.t.Helper()
	r := h.mustRequest(http.MethodGet, "EIO=4&transport=polling", nil, nil)
	if r.status != http.StatusOK {
		h.t.Fatalf("handshake: status %d body %q", r.status, r.body)
	}
	o := parseOpen(h.t, r.body)
	return o, h.recorder(o.SID)
}

// dial opens a WebSocket; query selects the session.
func (h *harness) dial(query string, header http.Header) (*websocket.Conn, *http.Response, error) {
	c, resp, err := h.dialer.Dial(h.wsURL(query), header)
	if c != nil {
		h.t.Cleanup(func() { _ = c.Close() })
	}
	return c, resp, err
}

// openWebSocket performs a WebSocket-only handshake.
func (h *harness) openWebSocket() (*websocket.Conn, openPacket, *recorder) {
	h.t.Helper()
	c, _, err := h.dial("EIO=4&transport=websocket", nil)
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	o := parseOpen(h.t, []byte(readText(h.t, c)))
	return c, o, h.recorder(o.SID)
}

// readFrame reads one WebSocket message within waitTimeout.
func readFrame(c *websocket.Conn) (int, []byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	return c.ReadMessage()
}

func readText(t testing.TB, c *websocket.Conn) string {
	t.Helper()
	typ, data, err := readFrame(c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("read frame type %d (%q), want text", typ, data)
	}
	return string(data)
}

func writeText(t testing.TB, c *websocket.Conn, s string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

// expectCloseFrame reads until the connection ends and checks that it ended
// with a normal-closure close frame.
func expectCloseFrame(t testing.TB, c *websocket.Conn) {
	t.Helper()
	typ, data, err := readFrame(c)
	if err == nil {
		t.Fatalf("read (%d, %q), want a close frame", typ, data)
	}
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("read error %v, want close frame 1000", err)
	}
}

// expectDialClosed dials query and checks that the server completes the
// WebSocket handshake and then closes the connection with a close frame,
// as the reference server answers an upgrade it will not perform.
func (h *harness) expectDialClosed(t testing.TB, query string) {
	t.Helper()
	c, resp, err := h.dial(query, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (HTTP %d), want the handshake to complete", err, status)
	}
	defer c.Close()
	typ, data, err := readFrame(c)
	if err == nil {
		t.Fatalf("read (%d, %q), want a close frame", typ, data)
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("read error %v, want a close frame", err)
	}
}

// expectConnEnd reads until the connection ends, by close frame or not.
func expectConnEnd(t testing.TB, c *websocket.Conn) {
	t.Helper()
	typ, data, err := readFrame(c)
	if err == nil {
		t.Fatalf("read (%d, %q), want the connection to end", typ, data)
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", waitTimeout)
	}
}

// errorBody is the JSON body of a handshake or request error.
type errorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// expectError checks an HTTP error answered the way the reference server
// does.
func expectError(t testing.TB, r response, status, code int, message string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d (body %q), want %d", r.status, r.body, status)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if want := (errorBody{code, message}); e != want {
		t.Fatalf("error body %+v, want %+v", e, want)
	}
}

// expectDialError checks a WebSocket dial was refused with an HTTP error.
func expectDialError(t testing.TB, resp *http.Response, err error, status, code int, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("dial succeeded, want HTTP %d", status)
	}
	if resp == nil {
		t.Fatalf("dial error %v without a response, want HTTP %d", err, status)
	}
	b, _ := io.ReadAll(resp.Body)
	expectError(t, response{status: resp.StatusCode, header: resp.Header, body: b}, status, code, message)
}

func fmtMessages(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

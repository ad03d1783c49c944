package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/internal/nodetest"
	"github.com/tradewithai/realtime/jwtauth"
)

// The abuse tests (abuse_*_test.go) attack a Gateway the way a hostile or
// broken client would: clients that stop reading, connection and handshake
// floods, oversized messages, expiring tokens, a shutdown under load, and
// every public operation at once from many goroutines. Many connections are
// cheapest as protoClient, a minimal Socket.IO client over one websocket;
// what the stock socket.io-client reports is checked with the
// test/client/abuse-*.mjs scripts.

// abuseWait bounds every wait for something the gateway must do.
const abuseWait = 10 * time.Second

// abuseSecret is the HS256 secret of the abuse gateways.
var abuseSecret = []byte("abuse-secret-0123456789abcdef-0123")

// abuseAuthenticator verifies HS256 tokens signed with abuseSecret.
func abuseAuthenticator(t testing.TB) realtime.Authenticator {
	t.Helper()
	a, err := jwtauth.New(jwtauth.WithHMACSecret(abuseSecret))
	if err != nil {
		t.Fatalf("jwtauth.New: %v", err)
	}
	return a
}

// abuseToken signs a token for sub that expires at exp.
func abuseToken(t testing.TB, sub string, exp time.Time) string {
	t.Helper()
	claims := jwt.MapClaims{"sub": sub, "iat": time.Now().Unix(), "exp": exp.Unix()}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(abuseSecret)
	if err != nil {
		t.Fatalf("signing a token: %v", err)
	}
	return s
}

// hourToken is a token for sub valid for an hour.
func hourToken(t testing.TB, sub string) string {
	t.Helper()
	return abuseToken(t, sub, time.Now().Add(time.Hour))
}

// abuseServer is a Gateway mounted on a loopback HTTP server.
type abuseServer struct {
	gw  *realtime.Gateway
	url string
	srv *httptest.Server
}

// startAbuseGateway builds a Gateway and serves it until the test ends. The
// test may shut the gateway down itself; the cleanup then only closes the
// listener.
func startAbuseGateway(t testing.TB, opts ...realtime.Option) *abuseServer {
	t.Helper()
	gw, err := realtime.New(opts...)
	if err != nil {
		t.Fatalf("realtime.New: %v", err)
	}
	s := serveGateway(t, gw, 0)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), abuseWait)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil && !errors.Is(err, realtime.ErrClosed) {
			t.Errorf("Gateway.Shutdown: %v", err)
		}
	})
	return s
}

// serveGateway serves gw on a new loopback listener until the test ends.
// A positive sendBuffer sets the kernel send buffer of every accepted
// connection, as a slow network link would bound it; by default loopback
// sockets buffer megabytes, which would hide a stalled reader from the
// gateway for a long time.
func serveGateway(t testing.TB, gw *realtime.Gateway, sendBuffer int) *abuseServer {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", gw)
	srv := httptest.NewUnstartedServer(mux)
	if sendBuffer > 0 {
		srv.Listener = sendBufferListener{srv.Listener, sendBuffer}
	}
	srv.Start()
	// Registered before the caller's Shutdown cleanup, so it runs after
	// it: sessions (and the long-polls they hold) end before the server
	// waits for its requests.
	t.Cleanup(srv.Close)
	return &abuseServer{gw: gw, url: srv.URL, srv: srv}
}

// sendBufferListener sets the kernel send buffer of accepted connections.
type sendBufferListener struct {
	net.Listener
	size int
}

func (l sendBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		if err := tc.SetWriteBuffer(l.size); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	return c, nil
}

// pollUntil polls cond until it holds; the gateway has no notification for
// the counters these tests watch, so polling is the only way to await them.
func pollUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(abuseWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", abuseWait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// refusedTotal sums Counters.Refused over every code.
func refusedTotal(c realtime.Counters) uint64 {
	var n uint64
	for _, v := range c.Refused {
		n += v
	}
	return n
}

// protoEvent is an event the server sent: its name and JSON arguments.
type protoEvent struct {
	Name string
	Args []json.RawMessage
}

// decode unmarshals argument i into v.
func (e protoEvent) decode(i int, v any) error {
	if i >= len(e.Args) {
		return fmt.Errorf("event %q has %d arguments, want at least %d", e.Name, len(e.Args), i+1)
	}
	return json.Unmarshal(e.Args[i], v)
}

// protoOptions tunes a protoClient.
type protoOptions struct {
	// ReadBuffer sets the kernel receive buffer of the socket before the
	// websocket handshake; 0 keeps the system default.
	ReadBuffer int
	// NoConnect stops after the Engine.IO open packet: the client never
	// joins the namespace.
	NoConnect bool
}

// connectError is the server's CONNECT_ERROR: the client was refused.
type connectError struct {
	Message string `json:"message"`
	Data    struct {
		Code string `json:"code"`
	} `json:"data"`
}

func (e *connectError) Error() string {
	return fmt.Sprintf("connect_error %s: %s", e.Data.Code, e.Message)
}

// protoClient speaks just enough Engine.IO v4 / Socket.IO v5 over a
// websocket to connect, emit and receive events: "40" + auth to join the
// main namespace, "42" + JSON array for events, "3" for every ping. It
// reads nothing until listen is called (or reads frame by frame with
// readFrame), so a test controls exactly how fast it consumes.
type protoClient struct {
	conn *websocket.Conn
	wmu  sync.Mutex // serialises writes

	listening bool
	events    chan protoEvent
	done      chan struct{} // closed when listen's read loop ends
	err       error         // why the read loop ended; read after done
	serverDis chan struct{} // closed when the server sends a DISCONNECT
	disOnce   sync.Once
	stop      chan struct{} // closed by close, so a blocked read loop ends
	closeOnce sync.Once
}

// dialProto opens a websocket session to the gateway at baseURL and, unless
// o.NoConnect, joins the main namespace with token (omitted when empty).
// A refusal is returned as a *connectError. The connection is closed when
// the test ends.
func dialProto(t testing.TB, baseURL, token string, o protoOptions) (*protoClient, error) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/socket.io/?EIO=4&transport=websocket"
	d := websocket.Dialer{
		HandshakeTimeout: abuseWait,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var nd net.Dialer
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if o.ReadBuffer > 0 {
				if err := c.(*net.TCPConn).SetReadBuffer(o.ReadBuffer); err != nil {
					_ = c.Close()
					return nil, err
				}
			}
			return c, nil
		},
	}
	conn, resp, err := d.Dial(u, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket handshake: HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, fmt.Errorf("websocket handshake: %w", err)
	}
	c := &protoClient{
		conn:      conn,
		events:    make(chan protoEvent, 1<<14),
		done:      make(chan struct{}),
		serverDis: make(chan struct{}),
		stop:      make(chan struct{}),
	}
	t.Cleanup(c.close)
	open, err := c.readFrame(abuseWait)
	if err != nil {
		return nil, fmt.Errorf("reading the open packet: %w", err)
	}
	if !strings.HasPrefix(open, "0{") {
		return nil, fmt.Errorf("first packet %q is not an Engine.IO open packet", open)
	}
	if o.NoConnect {
		return c, nil
	}
	auth := "{}"
	if token != "" {
		b, _ := json.Marshal(map[string]string{"token": token})
		auth = string(b)
	}
	if err := c.write("40" + auth); err != nil {
		return nil, err
	}
	for {
		f, err := c.readFrame(abuseWait)
		if err != nil {
			return nil, fmt.Errorf("waiting for CONNECT: %w", err)
		}
		switch {
		case strings.HasPrefix(f, "40"):
			var ok struct {
				SID string `json:"sid"`
			}
			if err := json.Unmarshal([]byte(f[2:]), &ok); err != nil || ok.SID == "" {
				return nil, fmt.Errorf("malformed CONNECT reply %q", f)
			}
			return c, nil
		case strings.HasPrefix(f, "44"):
			ce := new(connectError)
			if err := json.Unmarshal([]byte(f[2:]), ce); err != nil {
				return nil, fmt.Errorf("malformed CONNECT_ERROR %q", f)
			}
			return nil, ce
		}
		// Anything else before the CONNECT reply (a ping) is skipped.
	}
}

// mustDial is dialProto that fails the test on error.
func mustDial(t testing.TB, baseURL, token string, o protoOptions) *protoClient {
	t.Helper()
	c, err := dialProto(t, baseURL, token, o)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	return c
}

func (c *protoClient) write(frame string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(abuseWait))
	return c.conn.WriteMessage(websocket.TextMessage, []byte(frame))
}

// emit sends an event with JSON arguments.
func (c *protoClient) emit(event string, args ...any) error {
	b, err := json.Marshal(append([]any{event}, args...))
	if err != nil {
		return err
	}
	return c.write("42" + string(b))
}

// readFrame reads one text frame, answering a ping on the way, and returns
// the first frame that is not a ping.
func (c *protoClient) readFrame(timeout time.Duration) (string, error) {
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
		typ, data, err := c.conn.ReadMessage()
		if err != nil {
			return "", err
		}
		if typ != websocket.TextMessage {
			continue
		}
		if string(data) == "2" {
			if err := c.write("3"); err != nil {
				return "", err
			}
			continue
		}
		return string(data), nil
	}
}

// parseEventFrame decodes a "42[name,args...]" frame; ok is false for any other
// packet.
func parseEventFrame(f string) (protoEvent, bool) {
	if !strings.HasPrefix(f, "42") {
		return protoEvent{}, false
	}
	var raw []json.RawMessage
	if json.Unmarshal([]byte(f[2:]), &raw) != nil || len(raw) == 0 {
		return protoEvent{}, false
	}
	var e protoEvent
	if json.Unmarshal(raw[0], &e.Name) != nil {
		return protoEvent{}, false
	}
	e.Args = raw[1:]
	return e, true
}

// listen starts reading in the background: events go to c.events (the
// read loop blocks when nobody drains them), a DISCONNECT closes
// c.serverDis, and c.done is closed when the connection ends.
func (c *protoClient) listen() {
	c.listening = true
	go func() {
		defer close(c.done)
		for {
			f, err := c.readFrame(time.Hour)
			if err != nil {
				c.err = err
				return
			}
			if f == "41" {
				c.disOnce.Do(func() { close(c.serverDis) })
				continue
			}
			if e, ok := parseEventFrame(f); ok {
				select {
				case c.events <- e:
				case <-c.stop:
					c.err = net.ErrClosed
					return
				}
			}
		}
	}()
}

// next returns the next event named name, skipping others.
func (c *protoClient) next(t testing.TB, name string) protoEvent {
	t.Helper()
	timeout := time.NewTimer(abuseWait)
	defer timeout.Stop()
	for {
		select {
		case e := <-c.events:
			if e.Name == name {
				return e
			}
		case <-c.done:
			// Events read before the connection ended are still queued.
			select {
			case e := <-c.events:
				if e.Name == name {
					return e
				}
				continue
			default:
			}
			t.Fatalf("connection ended (%v) before event %q arrived", c.err, name)
		case <-timeout.C:
			t.Fatalf("no %q event within %v", name, abuseWait)
		}
	}
}

// request emits event with payload and awaits the reply event, skipping
// anything else; an `error` event fails the request. It does not touch t,
// so any goroutine may call it. The client must be listening.
func (c *protoClient) request(event string, payload any, reply string) error {
	if err := c.emit(event, payload); err != nil {
		return fmt.Errorf("emit %s: %w", event, err)
	}
	timeout := time.NewTimer(abuseWait)
	defer timeout.Stop()
	for {
		select {
		case e := <-c.events:
			switch e.Name {
			case reply:
				return nil
			case "error":
				return fmt.Errorf("%s: error event %s", event, e.Args)
			}
		case <-c.done:
			return fmt.Errorf("%s: connection ended: %v", event, c.err)
		case <-timeout.C:
			return fmt.Errorf("%s: no %q within %v", event, reply, abuseWait)
		}
	}
}

// subscribeSync subscribes without a listener, reading frames itself, so
// that nothing else reads the connection afterwards.
func (c *protoClient) subscribeSync(t testing.TB, channel string, symbols ...string) {
	t.Helper()
	if err := c.emit("subscribe", map[string]any{"channel": channel, "symbols": symbols}); err != nil {
		t.Fatalf("emit subscribe: %v", err)
	}
	for {
		f, err := c.readFrame(abuseWait)
		if err != nil {
			t.Fatalf("waiting for subscribed: %v", err)
		}
		if e, ok := parseEventFrame(f); ok {
			switch e.Name {
			case "subscribed":
				return
			case "error":
				t.Fatalf("subscribe %s %v refused: %s", channel, symbols, e.Args)
			}
		}
	}
}

// awaitClosed waits until the server has closed the connection, draining
// what it had sent. It requires that nothing else reads the connection.
func (c *protoClient) awaitClosed(t testing.TB) {
	t.Helper()
	if c.listening {
		select {
		case <-c.done:
			return
		case <-time.After(abuseWait):
			t.Fatalf("the server did not close the connection within %v", abuseWait)
		}
	}
	deadline := time.Now().Add(abuseWait)
	_ = c.conn.SetReadDeadline(deadline)
	for {
		if _, _, err := c.conn.NextReader(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server did not close the connection within %v", abuseWait)
			}
			return
		}
	}
}

// close closes the connection and waits for the read loop, if any.
func (c *protoClient) close() {
	c.closeOnce.Do(func() {
		close(c.stop)
		_ = c.conn.Close()
	})
	if c.listening {
		<-c.done
	}
}

// startAbuseScript starts a long-running test/client script with the
// gateway's URL and the given tokens (GATEWAY_TOKENS) and extra
// environment.
func startAbuseScript(t *testing.T, ctx context.Context, name, url string, tokens map[string]string, env ...string) *nodetest.Process {
	t.Helper()
	b, err := json.Marshal(tokens)
	if err != nil {
		t.Fatal(err)
	}
	return nodetest.Start(t, ctx, name, append([]string{"GATEWAY_TOKENS=" + string(b)}, env...), "--url", url)
}

// awaitLine waits for the line the script prints with {"step": step}.
func awaitLine(t *testing.T, ctx context.Context, p *nodetest.Process, step string) map[string]any {
	t.Helper()
	line, err := p.WaitLine(ctx, func(l map[string]any) bool { return l["step"] == step })
	if err != nil {
		t.Fatalf("waiting for step %q: %v", step, err)
	}
	return line
}

package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/internal/nodetest"
	"github.com/tradewithai/realtime/jwtauth"
)

// The integration tests in the *_integration_test.go files run the npm
// socket.io-client 4.x (scripts test/client/gateway-*.mjs) against a Gateway
// served in-process, as a host application would mount it. Each script
// reports JSON check lines that the test requires to pass; the Go side then
// asserts what only it can see (counters, Stats).
//
// Next to the gateway each test mounts a control endpoint, /ctl/<op>, so a
// script can ask the Go side to call the Gateway's publishing API at the
// right moment and know that the call has returned.

// integrationSecret is the HS256 secret of the integration gateways.
var integrationSecret = []byte("integration-secret-0123456789abcdef")

// scriptTimeout bounds one Node script.
const scriptTimeout = 30 * time.Second

// servedGateway is a Gateway served on a loopback httptest server.
type servedGateway struct {
	gw  *realtime.Gateway
	url string
}

// startGateway builds a Gateway from opts, mounts it and the control
// endpoint, and shuts both down when the test ends.
func startGateway(t *testing.T, opts ...realtime.Option) *servedGateway {
	t.Helper()
	gw, err := realtime.New(opts...)
	if err != nil {
		t.Fatalf("realtime.New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", gw)
	mux.Handle("/ctl/", controlHandler(gw))
	srv := httptest.NewServer(mux)
	// Cleanups run last-registered first: the gateway closes its sessions
	// (long-polls included) before the server waits for open requests.
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil {
			t.Errorf("Gateway.Shutdown: %v", err)
		}
	})
	return &servedGateway{gw: gw, url: srv.URL}
}

// hsAuthenticator returns the HS256 authenticator of the integration
// gateways.
func hsAuthenticator(t *testing.T, opts ...jwtauth.Option) realtime.Authenticator {
	t.Helper()
	a, err := jwtauth.New(append([]jwtauth.Option{jwtauth.WithHMACSecret(integrationSecret)}, opts...)...)
	if err != nil {
		t.Fatalf("jwtauth.New: %v", err)
	}
	return a
}

// userClaims returns claims for sub valid for an hour, plus extra.
func userClaims(sub string, extra jwt.MapClaims) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"sub": sub, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// signToken signs claims with method and key.
func signToken(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("signing a %s token: %v", method.Alg(), err)
	}
	return s
}

// userToken is a valid HS256 token for sub.
func userToken(t *testing.T, sub string, extra jwt.MapClaims) string {
	t.Helper()
	return signToken(t, jwt.SigningMethodHS256, integrationSecret, userClaims(sub, extra))
}

// nodeScript describes one run of a gateway-*.mjs script.
type nodeScript struct {
	name      string
	url       string
	transport string            // "websocket" (default), "polling" or "upgrade"
	tokens    map[string]string // GATEWAY_TOKENS
	urls      map[string]string // GATEWAY_URLS
}

// run runs the script to completion and requires every named check (and
// every other check it reports) to pass.
func (s nodeScript) run(t *testing.T, checks ...string) *nodetest.Result {
	t.Helper()
	tokens, err := json.Marshal(s.tokens)
	if err != nil {
		t.Fatal(err)
	}
	urls, err := json.Marshal(s.urls)
	if err != nil {
		t.Fatal(err)
	}
	transport := s.transport
	if transport == "" {
		transport = "websocket"
	}
	ctx, cancel := context.WithTimeout(t.Context(), scriptTimeout)
	defer cancel()
	env := []string{"GATEWAY_TOKENS=" + string(tokens), "GATEWAY_URLS=" + string(urls)}
	r := nodetest.Run(t, ctx, s.name, env, "--url", s.url, "--transport", transport)
	nodetest.RequireChecks(t, r, checks...)
	if testing.Verbose() {
		for _, l := range r.Checks() {
			b, _ := json.Marshal(l)
			t.Logf("%s", b)
		}
	}
	if !hasSummary(r) {
		t.Errorf("%s printed no summary line (exit code %d); stderr:\n%s", s.name, r.ExitCode, r.Stderr)
	}
	return r
}

func hasSummary(r *nodetest.Result) bool {
	for _, l := range r.Lines {
		if l["summary"] == true {
			return true
		}
	}
	return false
}

// checkDetail returns the detail object a check reported.
func checkDetail(t *testing.T, r *nodetest.Result, name string) map[string]any {
	t.Helper()
	line, _ := r.Check(name)
	d, _ := line["detail"].(map[string]any)
	if d == nil {
		t.Fatalf("check %q reported no detail object: %v", name, line)
	}
	return d
}

// controlRequest is the body of a /ctl/<op> request.
type controlRequest struct {
	Event   string   `json:"event"`
	Data    any      `json:"data"`
	Room    string   `json:"room"`
	Rooms   []string `json:"rooms"`
	Channel string   `json:"channel"`
	Symbol  string   `json:"symbol"`
	User    string   `json:"user"`
}

// controlHandler serves /ctl/<op>: it calls the Gateway's API and answers
// once the call has returned, with the call's result as JSON.
func controlHandler(gw *realtime.Gateway) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req controlRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad control request: "+err.Error(), http.StatusBadRequest)
			return
		}
		var (
			result any = map[string]bool{"ok": true}
			err    error
		)
		switch op := strings.TrimPrefix(r.URL.Path, "/ctl/"); op {
		case "broadcast":
			err = gw.Emit(r.Context(), realtime.Selector{}, req.Event, req.Data)
		case "room":
			err = gw.BroadcastToRoom(req.Room, req.Event, req.Data)
		case "rooms":
			err = gw.Emit(r.Context(), realtime.Selector{Rooms: req.Rooms}, req.Event, req.Data)
		case "symbol":
			err = gw.BroadcastToSymbol(req.Channel, req.Symbol, req.Event, req.Data)
		case "user":
			err = gw.SendToUser(req.User, req.Event, req.Data)
		case "stats":
			result = gw.Stats()
		case "room-size":
			result = map[string]int{"size": gw.RoomSize(req.Room)}
		case "connected-clients":
			result = map[string]int{"count": gw.ConnectedClients()}
		default:
			err = fmt.Errorf("unknown control op %q", op)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(result)
	})
}

// eachTransport runs fn as a subtest per socket.io-client transport mode:
// websocket only, long-polling only, and the client's default (polling
// upgraded to websocket, which events may straddle).
func eachTransport(t *testing.T, fn func(t *testing.T, transport string)) {
	for _, tr := range []string{"websocket", "polling", "upgrade"} {
		t.Run(tr, func(t *testing.T) { fn(t, tr) })
	}
}

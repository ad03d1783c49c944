package redisadapter_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/internal/redistest"
	"github.com/tradewithai/realtime/redisadapter"
)

// testGateway is a gateway instance of a test cluster, with the control
// endpoint the test/client/redis-*.mjs scripts drive it through.
type testGateway struct {
	gw      *realtime.Gateway
	adapter *redisadapter.Adapter
	url     string
}

// tokenAsUser authenticates a client as the user its token names.
var tokenAsUser = realtime.AuthenticatorFunc(func(_ context.Context, h *realtime.Handshake) (*realtime.Identity, error) {
	tok, ok := realtime.TokenFromHandshake(h, false)
	if !ok {
		return nil, &realtime.AuthError{Code: realtime.CodeUnauthorized, Message: "no token"}
	}
	return &realtime.Identity{UserID: tok}, nil
})

// startGateway starts a gateway on srv's cluster; extra adds control
// operations.
func startGateway(t *testing.T, srv *redistest.Server, extra map[string]func() any, opts ...redisadapter.Option) *testGateway {
	t.Helper()
	a := redisadapter.New(newClient(t, srv), opts...)
	gw, err := realtime.New(
		realtime.WithAuthenticator(tokenAsUser),
		realtime.WithLogger(quietLogger()),
		realtime.WithAdapter(a),
	)
	if err != nil {
		t.Fatal(err)
	}
	em := redisadapter.NewEmitter(newClient(t, srv))
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", gw)
	mux.HandleFunc("POST /ctl/{op}", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Rooms  []string        `json:"rooms"`
			Except []string        `json:"except"`
			Join   []string        `json:"join"`
			User   string          `json:"user"`
			Event  string          `json:"event"`
			Data   json.RawMessage `json:"data"`
			Binary *string         `json:"binary"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sel := realtime.Selector{Rooms: req.Rooms, Except: req.Except}
		var arg any = req.Data
		if req.Binary != nil {
			b, err := base64.StdEncoding.DecodeString(*req.Binary)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			arg = b
		}
		ctx := r.Context()
		var answer any
		var opErr error
		switch op := r.PathValue("op"); op {
		case "emit":
			opErr = gw.Emit(ctx, sel, req.Event, arg)
		case "join":
			opErr = gw.JoinRooms(ctx, sel, req.Join...)
		case "disconnect":
			opErr = gw.DisconnectSockets(ctx, sel)
		case "emitter":
			if req.User != "" {
				opErr = em.SendToUser(ctx, req.User, req.Event, arg)
			} else {
				opErr = em.Emit(ctx, sel, req.Event, arg)
			}
		case "stats":
			var s realtime.ClusterStats
			s, opErr = gw.ClusterStats(ctx)
			answer = map[string]any{"instances": s.Instances, "clients": s.Clients, "adapter": a.Stats()}
		default:
			fn, ok := extra[op]
			if !ok {
				http.NotFound(w, r)
				return
			}
			answer = fn()
		}
		if answer == nil {
			answer = map[string]any{"ok": opErr == nil}
		}
		if opErr != nil {
			answer = map[string]any{"ok": false, "error": opErr.Error(), "unavailable": errors.Is(opErr, redisadapter.ErrUnavailable)}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil {
			t.Errorf("gateway shutdown: %v", err)
		}
		ts.Close()
	})
	return &testGateway{gw: gw, adapter: a, url: ts.URL}
}

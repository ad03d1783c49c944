package socketio_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
	"github.com/tradewithai/realtime/internal/nodetest"
	"github.com/tradewithai/realtime/internal/socketio"
)

// conformanceHandler behaves like test/client/reference-server.mjs: the
// configuration of the Socket.IO test suite plus the events the
// conformance checks use to exercise acks, disconnects and transport loss.
type conformanceHandler struct {
	wg sync.WaitGroup // server-to-client acks waited for in goroutines
}

func (h *conformanceHandler) Connect(s *socketio.Socket, auth json.RawMessage) error {
	if auth == nil {
		auth = json.RawMessage(`{}`)
	}
	s.SetValue(auth)
	return nil
}

func (h *conformanceHandler) Connected(s *socketio.Socket) {
	_ = s.Emit("auth", s.Value().(json.RawMessage))
}

func (h *conformanceHandler) Event(s *socketio.Socket, e *socketio.ClientEvent) {
	switch e.Name {
	case "message":
		_ = s.EmitArgs("message-back", e.Args)
	case "message-with-ack":
		_ = s.AckArgs(e, e.Args)
	case "server-ack":
		var opts struct {
			TimeoutMs int `json:"timeoutMs"`
		}
		if e.Args.Len() > 0 {
			_ = e.Args.Decode(0, &opts)
		}
		if opts.TimeoutMs <= 0 {
			opts.TimeoutMs = 1000
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(opts.TimeoutMs)*time.Millisecond)
			defer cancel()
			args, err := s.EmitWithAck(ctx, "need-ack", "ping-from-server")
			if err != nil {
				_ = s.Emit("server-ack-result", map[string]any{"ok": false, "error": "timeout"})
				return
			}
			_ = s.Emit("server-ack-result", map[string]any{"ok": true, "args": args.Raw})
		}()
	case "disconnect-me":
		s.Disconnect()
	case "drop-transport":
		s.Conn().Session().Close(engineio.ErrForcedClose)
	}
}

func (h *conformanceHandler) Disconnect(*socketio.Socket, error) {}

// authEcho is the custom namespace: it only greets with the auth payload.
type authEcho struct{ *conformanceHandler }

func (authEcho) Event(*socketio.Socket, *socketio.ClientEvent) {}

type refuser struct{ authEcho }

func (refuser) Connect(*socketio.Socket, json.RawMessage) error {
	return &socketio.ConnectRefused{Message: "refused by server", Data: map[string]string{"code": "NOPE", "reason": "test"}}
}

func newConformanceServer(t *testing.T) (*httptest.Server, *socketio.Server, *conformanceHandler) {
	t.Helper()
	srv, err := socketio.NewServer(socketio.Config{
		Engine: engineio.Config{
			PingInterval:   300 * time.Millisecond,
			PingTimeout:    200 * time.Millisecond,
			MaxPayload:     1_000_000,
			AllowedOrigins: []string{"*"},
		},
		ConnectTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	main := &conformanceHandler{}
	for name, h := range map[string]socketio.Handler{"/": main, "/custom": authEcho{main}, "/refuse": refuser{}} {
		if _, err := srv.Handle(name, h); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
		main.wg.Wait()
	})
	return ts, srv, main
}

// TestConformanceWithSocketIOClient runs the real socket.io-client against
// the server over each transport mode.
func TestConformanceWithSocketIOClient(t *testing.T) {
	nodetest.EnsureNodeModules(t)
	for _, transport := range nodetest.Transports() {
		t.Run(transport, func(t *testing.T) {
			ts, _, _ := newConformanceServer(t)
			nodetest.RunConformance(t, context.Background(), ts.URL, transport)
		})
	}
}

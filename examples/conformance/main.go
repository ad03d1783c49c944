// Command conformance is a Socket.IO server configured as the test suites of
// the Engine.IO v4 and Socket.IO v5 protocol specifications expect, so that
// their compliance tests can be pointed at this implementation:
//
//	go run ./examples/conformance          # listens on :3000 (PORT overrides)
//
// pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1,000,000 bytes,
// connectTimeout 1,000 ms, CORS origin "*". On connection it emits `auth`
// with the handshake's auth payload, echoes `message` as `message-back` with
// the same arguments, and acknowledges `message-with-ack` with its
// arguments; the namespace /custom emits `auth` too.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
	"github.com/tradewithai/realtime/internal/socketio"
)

// handler implements the behaviour the specifications' test suites expect.
type handler struct{ echo bool }

func (handler) Connect(s *socketio.Socket, auth json.RawMessage) error {
	if auth == nil {
		auth = json.RawMessage(`{}`)
	}
	s.SetValue(auth)
	return nil
}

func (handler) Connected(s *socketio.Socket) { _ = s.Emit("auth", s.Value().(json.RawMessage)) }

func (h handler) Event(s *socketio.Socket, e *socketio.ClientEvent) {
	if !h.echo {
		return
	}
	switch e.Name {
	case "message":
		_ = s.EmitArgs("message-back", e.Args)
	case "message-with-ack":
		_ = s.AckArgs(e, e.Args)
	}
}

func (handler) Disconnect(*socketio.Socket, error) {}

func newServer() (*socketio.Server, error) {
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
		return nil, err
	}
	if _, err := srv.Handle("/", handler{echo: true}); err != nil {
		return nil, err
	}
	if _, err := srv.Handle("/custom", handler{}); err != nil {
		return nil, err
	}
	return srv, nil
}

func main() {
	srv, err := newServer()
	if err != nil {
		log.Fatal(err)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	hs := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		_ = hs.Shutdown(shutdownCtx)
	}()
	log.Printf("conformance server listening on :%s", port)
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

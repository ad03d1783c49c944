// Command conformance is a Socket.IO server configured as the test suites of
// the Engine.IO v4 and Socket.IO v5 protocol specifications expect, so that
// their compliance tests can be pointed at this implementation:
//
//	go run ./examples/conformance          # listens on :3000 (PORT overrides)
//
// Socket.IO is served at /socket.io/ and a bare Engine.IO server at
// /engine.io/, both with pingInterval 300 ms, pingTimeout 200 ms, maxPayload
// 1,000,000 bytes and CORS origin "*", so that both test suites run against
// one process on :3000. The Engine.IO server echoes every message, text or
// binary, as it came. The Socket.IO server (connectTimeout 1,000 ms) emits
// `auth` on connection with the handshake's auth payload, echoes `message`
// as `message-back` with the same arguments, and acknowledges
// `message-with-ack` with its arguments; the namespace /custom emits `auth`
// too.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net"
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

// authDelay separates the `auth` event from the CONNECT reply on the wire.
// The Socket.IO suite's Node client (ws 8.5) emits every frame of one TCP
// read at once and its connect tests await one frame at a time, so a frame
// that arrives in the same read as the CONNECT reply is lost to them. Node's
// server writes the two an event-loop tick apart, which usually (not always:
// the same tests fail now and then against it) puts them in separate reads;
// this server writes everything queued at once, so it waits a little.
const authDelay = 5 * time.Millisecond

func (handler) Connected(s *socketio.Socket) {
	time.AfterFunc(authDelay, func() { _ = s.Emit("auth", s.Value().(json.RawMessage)) })
}

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

// engineConfig is what both test suites expect of the transport.
func engineConfig(path string) engineio.Config {
	return engineio.Config{
		Path:           path,
		PingInterval:   300 * time.Millisecond,
		PingTimeout:    200 * time.Millisecond,
		MaxPayload:     1_000_000,
		AllowedOrigins: []string{"*"},
	}
}

func newServer() (*socketio.Server, error) {
	srv, err := socketio.NewServer(socketio.Config{
		Engine:         engineConfig("/socket.io/"),
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

// echo sends every message of an Engine.IO session back as it came.
type echo struct{ s *engineio.Session }

func (e echo) Receive(data []byte, binary bool) {
	if binary {
		_ = e.s.Send(engineio.Message{Data: data, Binary: true})
		return
	}
	_ = e.s.Send(engineio.TextMessage(data))
}

func (echo) Closed(error) {}

func newEngineServer() (*engineio.Server, error) {
	return engineio.NewServer(engineConfig("/engine.io/"), func(s *engineio.Session) engineio.Receiver { return echo{s} })
}

// servers is the process's two servers on one mux.
type servers struct {
	sio *socketio.Server
	eio *engineio.Server
	mux *http.ServeMux
}

func newServers() (*servers, error) {
	sio, err := newServer()
	if err != nil {
		return nil, err
	}
	eio, err := newEngineServer()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", sio)
	mux.Handle("/engine.io/", eio)
	return &servers{sio: sio, eio: eio, mux: mux}, nil
}

func (s *servers) shutdown(ctx context.Context) error {
	return errors.Join(s.sio.Shutdown(ctx), s.eio.Shutdown(ctx))
}

func main() {
	srvs, err := newServers()
	if err != nil {
		log.Fatal(err)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	hs := &http.Server{Addr: ":" + port, Handler: srvs.mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srvs.shutdown(shutdownCtx)
		_ = hs.Shutdown(shutdownCtx)
	}()
	ln, err := net.Listen("tcp", hs.Addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("conformance server listening on :%s (Socket.IO at /socket.io/, Engine.IO at /engine.io/)", port)
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

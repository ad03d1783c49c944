package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
)

// DefaultConnectTimeout is how long a new connection may take to join a
// namespace, as in the reference server.
const DefaultConnectTimeout = 45 * time.Second

// Handler is a namespace's application logic. For one socket, the server
// calls Connect, then Connected, then Event any number of times, on the
// connection's read goroutine, in order, so a slow handler delays only its
// own client. Disconnect runs once, on whichever goroutine ended the socket
// (the read goroutine, a timer, a server-side disconnect), possibly while
// Event still runs; the socket's Context is canceled first.
type Handler interface {
	// Connect decides whether the client may join; auth is the CONNECT
	// payload (the client's `auth` option), nil when absent. Returning an
	// error refuses: a *ConnectRefused's Message and Data reach the client,
	// any other error is reported as "server error".
	Connect(s *Socket, auth json.RawMessage) error
	// Connected runs once the client has been told it is connected.
	Connected(s *Socket)
	// Event handles an event from the client.
	Event(s *Socket, e *ClientEvent)
	// Disconnect runs once when the socket leaves the namespace.
	Disconnect(s *Socket, reason error)
}

// Config configures a Server.
type Config struct {
	Engine engineio.Config
	// ConnectTimeout bounds the time between opening a connection and
	// joining a namespace. Default 45s.
	ConnectTimeout time.Duration
	// MaxAttachments bounds the binary attachments of one packet. Default 10.
	MaxAttachments int
	// AttachmentTimeout bounds the wait for the attachments of a binary
	// packet. Default 10s.
	AttachmentTimeout time.Duration
	Logger            *slog.Logger
}

// Server is a Socket.IO v5 server on top of an Engine.IO server.
type Server struct {
	cfg Config
	eio *engineio.Server

	mu         sync.RWMutex
	namespaces map[string]*Namespace
}

// NewServer returns a server with no namespaces; register them with Handle.
func NewServer(cfg Config) (*Server, error) {
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.AttachmentTimeout == 0 {
		cfg.AttachmentTimeout = 10 * time.Second
	}
	if cfg.ConnectTimeout < 0 || cfg.AttachmentTimeout < 0 || cfg.MaxAttachments < 0 {
		return nil, fmt.Errorf("%w: negative timeout or limit", engineio.ErrInvalidConfig)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Engine.Logger == nil {
		cfg.Engine.Logger = cfg.Logger
	}
	srv := &Server{cfg: cfg, namespaces: make(map[string]*Namespace)}
	eio, err := engineio.NewServer(cfg.Engine, srv.newConn)
	if err != nil {
		return nil, err
	}
	srv.eio = eio
	return srv, nil
}

// Engine returns the underlying Engine.IO server.
func (srv *Server) Engine() *engineio.Server { return srv.eio }

// ServeHTTP implements http.Handler.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { srv.eio.ServeHTTP(w, r) }

// Handle registers h as the handler of the namespace name ("/" is the main
// namespace) and returns the namespace.
func (srv *Server) Handle(name string, h Handler) (*Namespace, error) {
	if name == "" || name[0] != '/' {
		return nil, fmt.Errorf("%w: namespace %q must start with /", engineio.ErrInvalidConfig, name)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if _, dup := srv.namespaces[name]; dup {
		return nil, fmt.Errorf("%w: namespace %q registered twice", engineio.ErrInvalidConfig, name)
	}
	ns := &Namespace{name: name, handler: h}
	srv.namespaces[name] = ns
	return ns, nil
}

func (srv *Server) namespace(name string) *Namespace {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.namespaces[name]
}

// Shutdown closes every connection without a DISCONNECT packet, so that
// clients reconnect (to another instance), and waits for them to close.
func (srv *Server) Shutdown(ctx context.Context) error { return srv.eio.Shutdown(ctx) }

// Namespace is a registered namespace.
type Namespace struct {
	name    string
	handler Handler
}

// Name returns the namespace's name.
func (ns *Namespace) Name() string { return ns.name }

func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

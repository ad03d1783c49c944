package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tradewithai/realtime/internal/wsconn"
)

// Server is an Engine.IO v4 server. It is an http.Handler; mount it on the
// configured path.
type Server struct {
	cfg       Config
	limits    queueLimits // cfg's bounds of every session's queue
	onSession func(*Session) Receiver
	upgrader  websocket.Upgrader
	origins   originPolicy
	polling   bool
	websocket bool
	openTail  []byte // the end of the open packet's JSON, the same for every session

	mu       sync.RWMutex
	sessions map[string]*Session
	closing  bool

	active tracker        // sessions and the goroutines that serve them
	poller *wsconn.Poller // parks idle WebSocket connections
}

// NewServer returns a server that calls onSession for every new session and
// delivers that session's traffic to the returned Receiver. onSession runs
// before the client receives the open packet.
func NewServer(cfg Config, onSession func(*Session) Receiver) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if onSession == nil {
		return nil, fmt.Errorf("%w: onSession is nil", ErrInvalidConfig)
	}
	srv := &Server{
		cfg:       cfg,
		limits:    cfg.queueLimits(),
		onSession: onSession,
		origins:   newOriginPolicy(cfg.AllowedOrigins),
		sessions:  make(map[string]*Session),
		active:    tracker{zero: make(chan struct{}, 1)},
	}
	srv.poller = wsconn.NewPoller(&srv.active)
	for _, name := range cfg.Transports {
		switch t, _ := ParseTransport(name); t {
		case TransportPolling:
			srv.polling = true
		case TransportWebSocket:
			srv.websocket = true
		}
	}
	srv.upgrader = websocket.Upgrader{
		// gorilla only performs the handshake (frames are read and written
		// by hand): ReadBufferSize 0 makes it reuse net/http's reader
		// rather than allocate one, and with a pool it allocates no write
		// buffer.
		ReadBufferSize:   0,
		WriteBufferPool:  &sync.Pool{},
		HandshakeTimeout: cfg.UpgradeTimeout,
		CheckOrigin:      srv.origins.allowed,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			writeError(w, codeBadRequest)
		},
	}
	srv.openTail = fmt.Appendf(nil, `,"pingInterval":%d,"pingTimeout":%d,"maxPayload":%d}`,
		cfg.PingInterval.Milliseconds(), cfg.PingTimeout.Milliseconds(), cfg.MaxPayload)
	return srv, nil
}

// Config returns the server's configuration with defaults applied.
func (srv *Server) Config() Config { return srv.cfg }

// Len returns the number of sessions currently open or closing.
func (srv *Server) Len() int {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return len(srv.sessions)
}

// ServeHTTP implements http.Handler.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != srv.cfg.Path && r.URL.Path != strings.TrimSuffix(srv.cfg.Path, "/") {
		http.NotFound(w, r)
		return
	}
	if !srv.origins.allowed(r) {
		writeError(w, codeForbidden)
		return
	}
	srv.origins.setCORSHeaders(w, r)
	if r.Method == http.MethodOptions {
		srv.origins.preflight(w, r)
		return
	}

	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		writeError(w, codeUnsupportedVersion)
		return
	}
	transport, _ := ParseTransport(q.Get("transport"))
	if !(transport == TransportPolling && srv.polling) && !(transport == TransportWebSocket && srv.websocket) {
		writeError(w, codeUnknownTransport)
		return
	}
	sid := q.Get("sid")
	if sid == "" {
		srv.handshake(w, r, q, transport)
		return
	}
	srv.mu.RLock()
	s := srv.sessions[sid]
	srv.mu.RUnlock()
	if s == nil {
		writeError(w, codeUnknownSID)
		return
	}
	switch {
	case transport == TransportWebSocket:
		if !websocket.IsWebSocketUpgrade(r) {
			writeError(w, codeBadRequest)
			return
		}
		srv.upgrade(s, w, r)
	case r.Method == http.MethodGet:
		s.servePollGet(w, r)
	case r.Method == http.MethodPost:
		s.servePollPost(w, r)
	default:
		writeError(w, codeBadRequest)
	}
}

func (srv *Server) handshake(w http.ResponseWriter, r *http.Request, q url.Values, transport Transport) {
	if r.Method != http.MethodGet {
		writeError(w, codeBadHandshakeMethod)
		return
	}
	if transport == TransportWebSocket && !websocket.IsWebSocketUpgrade(r) {
		writeError(w, codeBadRequest)
		return
	}
	if srv.cfg.AllowRequest != nil {
		if err := srv.cfg.AllowRequest(r); err != nil {
			srv.cfg.Logger.Debug("engineio: handshake refused", "remote", r.RemoteAddr, "err", err)
			var refused *RefusedError
			if errors.As(err, &refused) && refused.Status != 0 && refused.Status != http.StatusForbidden {
				if refused.RetryAfter > 0 {
					w.Header().Set("Retry-After", strconv.Itoa(int((refused.RetryAfter+time.Second-1)/time.Second)))
				}
				http.Error(w, refused.Reason, refused.Status)
				return
			}
			writeError(w, codeForbidden)
			return
		}
	}

	var ws *wsconn.Conn
	if transport == TransportWebSocket {
		var err error
		ws, err = srv.upgradeConn(w, r)
		if err != nil {
			return // the upgrader has answered
		}
	}
	s := srv.newSession(r, q, transport)
	if err := srv.start(s, ws); err != nil {
		switch {
		case ws != nil:
		case errors.Is(err, ErrServerShutdown):
			http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		default:
			writeError(w, codeForbidden) // onSession closed it at once
		}
		return
	}
	if ws != nil {
		srv.readInBackground(s, ws)
		return
	}
	if err := writePollResponse(w, s.openPacket(), srv.cfg.WriteTimeout); err != nil {
		s.Abort(ErrTransportError)
	}
}

// start hands a new session to onSession and registers it. A WebSocket
// session's open packet is queued first, ahead of anything onSession sends.
func (srv *Server) start(s *Session, ws *wsconn.Conn) error {
	if ws != nil {
		s.ws = ws
		s.queue.seed(Message{Data: s.openPacket()})
	}
	// onSession runs like a Receive: a close it causes is reported once
	// the receiver exists.
	s.gate.enter()
	s.gate.setReceiver(srv.onSession(s))
	err := srv.register(s)
	s.gate.leave()
	if err != nil {
		s.Abort(err)
		return err
	}
	if ws != nil {
		s.mu.Lock()
		if s.state == stateOpen {
			s.wakeWriterLocked()
		}
		s.mu.Unlock()
	}
	return nil
}

func (s *Session) openPacket() []byte {
	// A polling session may upgrade; a WebSocket session has nowhere to go.
	upgrades := `"upgrades":[]`
	if s.transport == TransportPolling && s.srv.websocket {
		upgrades = `"upgrades":["websocket"]`
	}
	b := make([]byte, 0, 16+len(s.id)+len(upgrades)+len(s.srv.openTail))
	b = append(b, typeOpen)
	b = append(b, `{"sid":"`...)
	b = append(b, s.id...)
	b = append(b, `",`...)
	b = append(b, upgrades...)
	return append(b, s.srv.openTail...)
}

// newSession builds a session that is not yet registered: nothing else
// can reach it until register. q is r's query, which the caller has parsed
// already (parsing it again would be garbage on every handshake).
func (srv *Server) newSession(r *http.Request, q url.Values, transport Transport) *Session {
	s := &Session{
		id:        newSessionID(),
		srv:       srv,
		transport: transport,
		handshake: Handshake{
			Header:     r.Header,
			Query:      q,
			RemoteAddr: r.RemoteAddr,
			Host:       r.Host,
			Secure:     r.TLS != nil,
			Time:       time.Now(),
		},
	}
	s.writeFn = s.writeLoop
	if transport == TransportPolling {
		s.pollWake = make(chan struct{}, 1)
		s.lastRemote = r.RemoteAddr
	}
	return s
}

// register makes the session reachable by its id and starts its timer.
func (srv *Server) register(s *Session) error {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closing {
		return ErrServerShutdown
	}
	if _, taken := srv.sessions[s.id]; taken {
		// 120 random bits: only a broken random source gets here.
		return ErrForcedClose
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return ErrForcedClose // closed by onSession
	}
	s.setTimerLocked(srv.cfg.PingInterval)
	srv.sessions[s.id] = s
	srv.active.Add()
	return nil
}

func (srv *Server) remove(s *Session) {
	srv.mu.Lock()
	_, ok := srv.sessions[s.id]
	delete(srv.sessions, s.id)
	srv.mu.Unlock()
	if ok {
		srv.active.Done()
	}
}

// newSessionID returns 20 URL-safe characters from 120 random bits.
func newSessionID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// upgrade moves a polling session to WebSocket: probe, release the pending
// GET, wait for the upgrade packet, then hand the queue to the WebSocket.
func (srv *Server) upgrade(s *Session, w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		writeError(w, codeBadRequest)
		return
	}
	if s.transport != TransportPolling || s.upgrading {
		s.mu.Unlock()
		// Upgraded or upgrading already: as the reference server does,
		// complete the handshake and close, so that a WebSocket client
		// sees a close rather than an error.
		if ws, err := srv.upgradeConn(w, r); err == nil {
			ws.WriteClose(wsconn.CloseNoStatus, srv.cfg.WriteTimeout)
			ws.Close()
		}
		return
	}
	s.upgrading = true
	s.mu.Unlock()

	ws, err := srv.upgradeConn(w, r)
	if err != nil {
		s.mu.Lock()
		s.upgrading = false
		s.mu.Unlock()
		return // the upgrader has answered
	}
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		ws.Close()
		return
	}
	s.probe = ws
	s.mu.Unlock()

	srv.active.Add()
	go func() {
		defer srv.active.Done()
		if !srv.probe(s, ws) {
			s.mu.Lock()
			if s.probe == ws {
				s.probe = nil
			}
			s.upgrading = false // the client may try again
			s.mu.Unlock()
			ws.Close()
			return
		}
		if !srv.poller.Park(ws, s.wsReader()) {
			ws.ReadLoop(s.wsReader())
		}
	}()
}

// probe runs the upgrade handshake on ws and switches the session to it.
func (srv *Server) probe(s *Session, ws *wsconn.Conn) bool {
	_ = ws.SetReadDeadline(time.Now().Add(srv.cfg.UpgradeTimeout))
	binary, data, err := ws.ReadMessage(srv.cfg.MaxPayload, srv.cfg.WriteTimeout)
	if err != nil || binary || string(data) != "2probe" {
		return false
	}
	if ws.WriteFrames([]Message{{Data: []byte("3probe")}}, srv.cfg.WriteTimeout) != nil {
		return false
	}
	// The client pauses polling before it sends the upgrade packet: the
	// pending GET is released with a noop, but only once nothing more has
	// arrived on the WebSocket. A client that sent the upgrade packet right
	// behind the probe has upgraded already, so a GET it sent afterwards
	// (and that this server happened to handle first) is refused, as the
	// reference server, which reads in arrival order, refuses it.
	released := false
	for {
		if !released && !ws.DataReady() {
			released = true
			s.mu.Lock()
			s.releaseGet = true
			s.wakeWriterLocked()
			s.mu.Unlock()
		}
		binary, data, err = ws.ReadMessage(srv.cfg.MaxPayload, srv.cfg.WriteTimeout)
		if err != nil || binary {
			return false
		}
		switch string(data) {
		case "6":
			continue
		case "5":
		default:
			return false
		}
		break
	}
	_ = ws.SetReadDeadline(time.Time{})

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen || s.probe != ws {
		return false
	}
	s.probe = nil
	s.ws = ws
	s.transport = TransportWebSocket
	s.releaseGet = false
	// A GET still waiting was sent after the upgrade packet: it is refused.
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
	if s.queue.len() > 0 {
		s.wakeWriterLocked()
	}
	return true
}

// Shutdown stops accepting sessions, closes every session gracefully with
// ErrServerShutdown (queued messages still go out) and waits until all are
// closed and their goroutines have returned, or until ctx ends; then it
// aborts what is left and returns ctx's error.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.closing = true
	sessions := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		sessions = append(sessions, s)
	}
	srv.mu.Unlock()
	for _, s := range sessions {
		s.Close(ErrServerShutdown)
	}
	err := srv.active.wait(ctx)
	if err != nil {
		for _, s := range sessions {
			s.Abort(ErrServerShutdown)
		}
	}
	return err
}

// tracker counts sessions and serving goroutines so Shutdown can wait for
// them without a WaitGroup's restriction on Add during Wait.
type tracker struct {
	n    atomic.Int64
	zero chan struct{} // capacity 1: a hint that n reached zero
}

// Add counts a session or a goroutine that starts.
func (t *tracker) Add() { t.n.Add(1) }

// Done counts one that has ended.
func (t *tracker) Done() {
	if t.n.Add(-1) == 0 {
		select {
		case t.zero <- struct{}{}:
		default:
		}
	}
}

func (t *tracker) wait(ctx context.Context) error {
	for t.n.Load() != 0 {
		select {
		case <-t.zero:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

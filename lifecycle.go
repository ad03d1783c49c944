package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"runtime/debug"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
	"github.com/tradewithai/realtime/internal/socketio"
)

// A connection's life as the gateway sees it: Connect authenticates and
// admits it, Connected welcomes it and runs the host's connect hook,
// Disconnect cleans up and runs the disconnect hook with the reason mapped
// to a DisconnectCode (the one place reasons are mapped).

// DisconnectCode says why a client left.
type DisconnectCode uint8

const (
	// DisconnectClientLeft: the client disconnected (socket.disconnect()).
	DisconnectClientLeft DisconnectCode = iota + 1
	// DisconnectTransportClosed: the connection was closed or lost.
	DisconnectTransportClosed
	// DisconnectPingTimeout: the client stopped answering pings.
	DisconnectPingTimeout
	// DisconnectSlowConsumer: the client did not read fast enough (see
	// WithQueueLimits).
	DisconnectSlowConsumer
	// DisconnectTokenExpired: the client's token expired without a
	// refresh.
	DisconnectTokenExpired
	// DisconnectServerShutdown: Gateway.Shutdown closed the connection.
	DisconnectServerShutdown
	// DisconnectKicked: the host disconnected the client (Client.Disconnect,
	// Gateway.DisconnectSockets).
	DisconnectKicked
	// DisconnectProtocolError: the client broke the protocol (a malformed
	// packet, a message over the maximum payload, too many refused
	// connection attempts, no namespace joined in time).
	DisconnectProtocolError
	// DisconnectServerError: code outside the gateway's handlers panicked
	// while serving the client.
	DisconnectServerError
)

var disconnectNames = [...]string{
	DisconnectClientLeft:      "client left",
	DisconnectTransportClosed: "transport closed",
	DisconnectPingTimeout:     "ping timeout",
	DisconnectSlowConsumer:    "slow consumer",
	DisconnectTokenExpired:    "token expired",
	DisconnectServerShutdown:  "server shutdown",
	DisconnectKicked:          "kicked",
	DisconnectProtocolError:   "protocol error",
	DisconnectServerError:     "server error",
}

// String returns the code's name: "client left", "slow consumer", ...
func (c DisconnectCode) String() string {
	if int(c) < len(disconnectNames) && disconnectNames[c] != "" {
		return disconnectNames[c]
	}
	return "unknown"
}

// Disconnect describes why a client left: a Code to branch on, and the
// Reason the protocol layers gave, for logs.
type Disconnect struct {
	Code   DisconnectCode
	Reason string
}

// Error returns the code and the reason.
func (d Disconnect) Error() string {
	if d.Reason == "" || d.Reason == d.Code.String() {
		return "realtime: disconnected: " + d.Code.String()
	}
	return "realtime: disconnected: " + d.Code.String() + " (" + d.Reason + ")"
}

// errTokenExpired is the reason a client whose token expired is
// disconnected for.
var errTokenExpired = errors.New("token expired")

// disconnectOf maps the reason a socket ended to the public Disconnect.
func disconnectOf(reason error) Disconnect {
	code := DisconnectTransportClosed
	switch {
	case errors.Is(reason, errTokenExpired):
		code = DisconnectTokenExpired
	case errors.Is(reason, socketio.ErrClientDisconnect):
		code = DisconnectClientLeft
	case errors.Is(reason, socketio.ErrServerDisconnect), errors.Is(reason, engineio.ErrForcedClose):
		code = DisconnectKicked
	case errors.Is(reason, engineio.ErrServerShutdown):
		code = DisconnectServerShutdown
	case errors.Is(reason, engineio.ErrPingTimeout):
		code = DisconnectPingTimeout
	case errors.Is(reason, engineio.ErrSlowConsumer):
		code = DisconnectSlowConsumer
	case errors.Is(reason, engineio.ErrParseError), errors.Is(reason, engineio.ErrPayloadTooLarge),
		errors.Is(reason, socketio.ErrTooManyRefusals), errors.Is(reason, socketio.ErrConnectTimeout):
		code = DisconnectProtocolError
	case errors.Is(reason, socketio.ErrHandlerPanic):
		code = DisconnectServerError
	}
	d := Disconnect{Code: code}
	if reason != nil {
		d.Reason = reason.Error()
	}
	return d
}

// namespaceHandler adapts the Gateway to the Socket.IO server.
type namespaceHandler struct{ g *Gateway }

// authTimeout bounds one authentication (a key fetch, say).
const authTimeout = 10 * time.Second

func (h namespaceHandler) Connect(s *socketio.Socket, auth json.RawMessage) error {
	g := h.g
	hs := s.Handshake()
	handshake := &Handshake{Header: hs.Header, Query: hs.Query, RemoteAddr: hs.RemoteAddr, Namespace: s.Namespace()}
	if len(auth) > 0 {
		// The Socket.IO decoder has checked that auth is a JSON object.
		_ = json.Unmarshal(auth, &handshake.Auth)
	}
	id, refusal := g.authenticate(s, handshake)
	if refusal != nil {
		g.counters.refuse(refusal.Code)
		g.cfg.logger.Debug("realtime: connection refused", "remote", hs.RemoteAddr, "code", refusal.Code, "err", refusal)
		return &socketio.ConnectRefused{Message: refusal.Message, Data: map[string]string{"code": refusal.Code}}
	}
	addr := g.cfg.clientAddress(hs.RemoteAddr, hs.Header)
	if err := g.cfg.limits.acquire(addr, id.UserID); err != nil {
		g.counters.refuse(CodeTooManyConnections)
		return &socketio.ConnectRefused{Message: err.Error(), Data: map[string]string{"code": CodeTooManyConnections}}
	}
	c := &Client{
		g:           g,
		addr:        addr,
		sock:        s,
		userID:      id.UserID,
		userRoom:    g.cfg.naming.User(id.UserID),
		limiter:     g.cfg.limiter.NewConn(s.ID(), id),
		connectedAt: time.Now(),
	}
	c.identity.Store(id)
	s.SetValue(c)
	// The request's other headers and query parameters are not needed
	// after authentication; a client that connects a namespace again on
	// the same connection still has its Authorization header.
	s.Conn().Session().ReleaseRequest("Authorization")
	return nil
}

// authenticate runs the authenticator with a deadline, canceled as well
// when s's Context is, and turns a panic in it into a refusal: a bug in a
// host's authenticator must not take the connection's goroutine, or the
// server, down.
func (g *Gateway) authenticate(s *socketio.Socket, h *Handshake) (id *Identity, refusal *AuthError) {
	// Not derived from s.Context(): a context derived from another makes
	// it allocate its Done channel, which every idle connection would then
	// keep.
	ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
	defer cancel()
	stop := s.AfterCancel(cancel)
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			g.counters.handlerPanics.Add(1)
			g.cfg.logger.Error("realtime: authenticator panicked", "panic", r, "stack", string(debug.Stack()))
			id, refusal = nil, &AuthError{Code: CodeUnauthorized, Message: msgUnauthorized}
		}
	}()
	return authenticate(ctx, g.cfg.authenticator, h)
}

func (h namespaceHandler) Connected(s *socketio.Socket) {
	g := h.g
	c := s.Value().(*Client)
	c.mu.Lock()
	if c.closed {
		// Disconnected already (by the host, say): Disconnect has run and
		// must not be undone.
		c.mu.Unlock()
		return
	}
	g.addClient(c)
	// `connected` is queued before the client joins any room, so that it is
	// the client's first event: a broadcast either misses the client or
	// comes after it.
	_ = c.Emit("connected", connectedPayload{
		Message:   "Connected to the realtime gateway",
		ClientID:  c.ID(),
		UserID:    c.userID,
		Timestamp: Timestamp(c.connectedAt),
	})
	g.rooms.join(c, allRoom, c.userRoom)
	c.connected = true
	c.mu.Unlock()
	g.counters.connections.Add(1)
	c.watchExpiry()
	if g.cfg.onConnect != nil {
		g.runHook("connect", func() { g.cfg.onConnect(c) })
	}
}

func (h namespaceHandler) Disconnect(s *socketio.Socket, reason error) {
	c, ok := s.Value().(*Client)
	if !ok {
		return
	}
	g := h.g
	c.mu.Lock()
	wasConnected := c.connected
	c.closed = true
	if c.expiry != nil {
		c.expiry.Stop()
	}
	rooms := make([]string, 0, c.subs.len()+2)
	rooms = append(rooms, allRoom, c.userRoom)
	for r := range c.subs.all() {
		rooms = append(rooms, r)
	}
	g.rooms.leave(c, rooms...)
	c.mu.Unlock()
	g.removeClient(c)
	g.cfg.limits.release(c.addr, c.userID)
	d := disconnectOf(reason)
	switch {
	case d.Code == DisconnectSlowConsumer:
		g.counters.slowConsumers.Add(1)
	case errors.Is(reason, engineio.ErrPayloadTooLarge):
		g.counters.refuse(RefusedPayloadTooLarge)
	}
	g.cfg.logger.Debug("realtime: client disconnected", "client", c.ID(), "user", c.userID, "code", d.Code.String(), "reason", d.Reason)
	if wasConnected && g.cfg.onDisconnect != nil {
		g.runHook("disconnect", func() { g.cfg.onDisconnect(c, d) })
	}
}

// runHook runs a host's lifecycle hook; a panic in it is logged and
// counted, and ends nothing but the hook.
func (g *Gateway) runHook(name string, hook func()) {
	defer func() {
		if r := recover(); r != nil {
			g.counters.handlerPanics.Add(1)
			g.cfg.logger.Error("realtime: "+name+" hook panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	hook()
}

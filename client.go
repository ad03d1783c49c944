package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
	"github.com/tradewithai/realtime/internal/socketio"
)

// Client is one connected client as handlers see it.
type Client struct {
	g           *Gateway
	sock        *socketio.Socket
	addr        string // as the connection limits count it
	userID      string // fixed for the connection's life: a refreshed token must name the same user
	identity    atomic.Pointer[Identity]
	userRoom    string
	limiter     ConnLimiter
	connectedAt time.Time

	mu     sync.Mutex
	expiry *time.Timer     // fires when the token expires
	subs   subscriptionSet // subscribed rooms and their channels; the user room not included
	closed bool
}

// ID returns the client's id (socket.id on the client side).
func (c *Client) ID() string { return c.sock.ID() }

// UserID returns the authenticated user's id.
func (c *Client) UserID() string { return c.userID }

// Identity returns who the client authenticated as, as of its latest token
// (see EventRefreshToken). Treat it as read-only.
func (c *Client) Identity() *Identity { return c.identity.Load() }

// Transport returns "websocket" or "polling".
func (c *Client) Transport() string { return c.sock.Transport() }

// ConnectedAt returns when the client connected.
func (c *Client) ConnectedAt() time.Time { return c.connectedAt }

// Context is canceled when the client disconnects or the gateway shuts
// down; handlers that keep working after they return (streaming a reply,
// say) should stop when it is done.
func (c *Client) Context() context.Context { return c.sock.Context() }

// Emit sends an event to this client only.
//
// It returns ErrDisconnected once the client is gone, ErrSlowConsumer when
// its queue is full, and ErrInvalidEvent for a reserved event name.
func (c *Client) Emit(event string, data any) error {
	err := c.sock.Emit(event, data)
	if err == nil {
		c.g.counters.eventsOut.Add(1)
	}
	return sendError(err)
}

// Join adds the client to rooms chosen by the host (no validation, no
// subscription limit): a host handler's way to put a client in a room.
func (c *Client) Join(rooms ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for _, r := range rooms {
		c.subs.set(r, "")
	}
	c.g.rooms.join(c, rooms...)
}

// Leave removes the client from rooms.
func (c *Client) Leave(rooms ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rooms {
		c.subs.delete(r)
	}
	c.g.rooms.leave(c, rooms...)
}

// Subscriptions returns the rooms the client is subscribed to, sorted; its
// private user room is not listed.
func (c *Client) Subscriptions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	subs := make([]string, 0, c.subs.len())
	for r := range c.subs.all() {
		subs = append(subs, r)
	}
	slices.Sort(subs)
	return subs
}

// Disconnect disconnects the client; socket.io-client does not reconnect
// by itself after a server-side disconnect.
func (c *Client) Disconnect() { c.sock.Disconnect() }

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
	// `connected` is queued and the rooms joined under the registry's
	// lock, so that it is the client's first event: a broadcast either
	// misses the client or comes after it.
	g.rooms.mu.Lock()
	_ = c.Emit("connected", connectedPayload{
		Message:   "Connected to the realtime gateway",
		ClientID:  c.ID(),
		UserID:    c.userID,
		Timestamp: Timestamp(c.connectedAt),
	})
	g.rooms.joinLocked(c, allRoom, c.userRoom)
	g.rooms.mu.Unlock()
	c.mu.Unlock()
	g.counters.connections.Add(1)
	c.watchExpiry()
}

func (h namespaceHandler) Disconnect(s *socketio.Socket, reason error) {
	c, ok := s.Value().(*Client)
	if !ok {
		return
	}
	c.mu.Lock()
	c.closed = true
	if c.expiry != nil {
		c.expiry.Stop()
	}
	rooms := make([]string, 0, c.subs.len()+2)
	rooms = append(rooms, allRoom, c.userRoom)
	for r := range c.subs.all() {
		rooms = append(rooms, r)
	}
	h.g.rooms.leave(c, rooms...)
	c.mu.Unlock()
	h.g.removeClient(c)
	h.g.cfg.limits.release(c.addr, c.userID)
	switch {
	case errors.Is(reason, engineio.ErrSlowConsumer):
		h.g.counters.slowConsumers.Add(1)
	case errors.Is(reason, engineio.ErrPayloadTooLarge):
		h.g.counters.refuse(CodePayloadTooLarge)
	}
	h.g.cfg.logger.Debug("realtime: client disconnected", "client", c.ID(), "user", c.userID, "reason", reason)
}

func (h namespaceHandler) Event(s *socketio.Socket, e *socketio.ClientEvent) {
	c := s.Value().(*Client)
	h.g.dispatch(c, e)
}

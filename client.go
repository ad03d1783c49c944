package realtime

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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

	mu        sync.Mutex
	expiry    *time.Timer     // fires when the token expires
	subs      subscriptionSet // subscribed rooms and their channels; the user room not included
	connected bool            // Connected ran: the client was welcomed and the connect hook called
	closed    bool
}

// ID returns the client's id (socket.id on the client side).
func (c *Client) ID() string { return c.sock.ID() }

// UserID returns the authenticated user's id.
func (c *Client) UserID() string { return c.userID }

// Identity returns who the client authenticated as, as of its latest token
// (see EventRefreshToken). Treat it as read-only.
func (c *Client) Identity() *Identity { return c.identity.Load() }

// Transport returns the transport the client uses now: a client that
// started on long-polling moves to WebSocket when it upgrades.
func (c *Client) Transport() Transport { return Transport(c.sock.Transport()) }

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

// Disconnect disconnects the client (DisconnectKicked); socket.io-client
// does not reconnect by itself after a server-side disconnect.
func (c *Client) Disconnect() { c.sock.Disconnect() }

package realtime

import (
	"time"

	"github.com/tradewithai/realtime/internal/socketio"
)

// EventRefreshToken is the client event that replaces a connection's token
// before it expires: socket.emit("auth:refresh", { token }, (reply) => ...).
// The new token must name the same user. The reply (and the
// `auth:refreshed` event) is { userId, expiresAt, timestamp }; a refused
// token gets an `error` event with the authentication code and the
// connection keeps its current token.
const EventRefreshToken = "auth:refresh"

type refreshedPayload struct {
	UserID    string `json:"userId"`
	ExpiresAt string `json:"expiresAt,omitempty"`
	Timestamp string `json:"timestamp"`
}

// watchExpiry arms the client's expiry timer for its current identity.
// When a token expires without being refreshed, the client gets an `error`
// event TOKEN_EXPIRED and is disconnected.
func (c *Client) watchExpiry() {
	exp := c.Identity().ExpiresAt
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.expiry != nil {
		c.expiry.Stop()
		c.expiry = nil
	}
	if exp.IsZero() {
		return
	}
	c.expiry = time.AfterFunc(time.Until(exp), c.expire)
}

func (c *Client) expire() {
	if exp := c.Identity().ExpiresAt; time.Until(exp) > 0 {
		return // refreshed meanwhile; the refresh re-armed the timer
	}
	e := NewError(CodeTokenExpired, "token expired")
	_ = c.Emit("error", e.payload(time.Now()))
	c.g.counters.expired.Add(1)
	c.sock.DisconnectFor(errTokenExpired)
}

func (g *Gateway) refreshToken(c *Client, e *socketio.ClientEvent) (any, error) {
	var in struct {
		Token string `json:"token"`
	}
	if e.Args.Len() == 0 || e.Args.Decode(0, &in) != nil || in.Token == "" {
		return nil, NewError(CodeInvalidPayload, EventRefreshToken+" expects {token}")
	}
	hs := c.sock.Handshake()
	h := &Handshake{Auth: map[string]any{"token": in.Token}, RemoteAddr: hs.RemoteAddr, Namespace: c.sock.Namespace()}
	id, refusal := g.authenticate(c.sock, h)
	if refusal != nil {
		return nil, &Error{Code: refusal.Code, Message: refusal.Message, Err: refusal}
	}
	if id.UserID != c.userID {
		return nil, NewError(CodeForbidden, "the new token names another user")
	}
	c.identity.Store(id)
	c.watchExpiry()
	p := refreshedPayload{UserID: id.UserID, Timestamp: Timestamp(time.Now())}
	if !id.ExpiresAt.IsZero() {
		p.ExpiresAt = Timestamp(id.ExpiresAt)
	}
	return p, nil
}

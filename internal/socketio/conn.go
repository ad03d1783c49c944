package socketio

import (
	"encoding/json"
	"errors"
	"runtime/debug"
	"sync"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
)

// Conn is one client connection (one Engine.IO session), which may carry
// sockets on several namespaces.
type Conn struct {
	srv  *Server
	sess *engineio.Session

	decoder      Decoder
	attachTimer  *time.Timer   // running while a binary packet waits for attachments
	pendingBytes int64         // attachment bytes received for the pending packet
	refusals     int           // CONNECT packets refused so far
	connectsTAT  time.Duration // paces CONNECT packets; see allowConnect

	mu           sync.Mutex
	sockets      []*Socket // one per joined namespace; usually one
	connecting   *Socket   // the socket whose Handler.Connect is running
	connectTimer *time.Timer
	closing      bool // the sockets' contexts are canceled
	closed       bool
}

// maxConnectRefusals bounds the CONNECT packets a connection may have
// refused before it is closed, and maxConnectBurst the CONNECT packets it
// may send at once (then one a second): each one runs the authenticator.
const (
	maxConnectRefusals = 5
	maxConnectBurst    = 10
)

func (srv *Server) newConn(sess *engineio.Session) engineio.Receiver {
	c := &Conn{srv: srv, sess: sess}
	c.decoder.MaxAttachments = srv.cfg.MaxAttachments
	c.mu.Lock()
	c.connectTimer = time.AfterFunc(srv.cfg.ConnectTimeout, c.onConnectTimeout)
	c.mu.Unlock()
	return c
}

// Session returns the underlying Engine.IO session.
func (c *Conn) Session() *engineio.Session { return c.sess }

// Close disconnects every socket of the connection (the client is told, and
// does not reconnect by itself) and closes the connection once what is
// queued has been written.
func (c *Conn) Close() {
	for _, s := range c.snapshot() {
		s.disconnect(ErrServerDisconnect, true)
	}
	c.sess.Close(engineio.ErrForcedClose)
}

func (c *Conn) snapshot() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Socket(nil), c.sockets...)
}

func (c *Conn) onConnectTimeout() {
	c.mu.Lock()
	joined := len(c.sockets) > 0
	c.mu.Unlock()
	if !joined {
		c.sess.Abort(ErrConnectTimeout)
	}
}

// Receive implements engineio.Receiver.
func (c *Conn) Receive(data []byte, binary bool) {
	defer func() {
		// A panicking handler must not take the server down with it.
		if r := recover(); r != nil {
			c.srv.cfg.Logger.Error("socketio: handler panicked", "sid", c.sess.ID(), "panic", r, "stack", string(debug.Stack()))
			c.sess.Abort(ErrHandlerPanic)
		}
	}()
	p, err := c.decoder.Decode(data, binary)
	if err == nil {
		err = c.checkPending(data, binary)
	}
	if err != nil {
		c.srv.cfg.Logger.Debug("socketio: invalid packet", "sid", c.sess.ID(), "err", err)
		c.sess.Abort(engineio.ErrParseError)
		return
	}
	c.watchAttachments()
	if p == nil {
		return
	}
	switch p.Type {
	case Connect:
		c.onConnect(p)
	case Disconnect:
		if s := c.socket(p.Namespace); s != nil {
			s.disconnect(ErrClientDisconnect, false)
		}
	case Event, BinaryEvent:
		if s := c.socket(p.Namespace); s != nil {
			s.onEvent(p)
		}
	case Ack, BinaryAck:
		if s := c.socket(p.Namespace); s != nil {
			s.onAck(p)
		}
	default:
		// CONNECT_ERROR only flows from server to client.
		c.sess.Abort(engineio.ErrParseError)
	}
}

// checkPending bounds what a binary packet waiting for its attachments may
// hold: it must be for a namespace the client has joined (so nothing is
// buffered for unauthenticated clients), and its attachments together may
// not exceed the maximum payload. It runs after the decoder has taken
// data, so an attachment that completes the packet is counted too.
func (c *Conn) checkPending(data []byte, binary bool) error {
	if binary {
		c.pendingBytes += int64(len(data))
		if c.pendingBytes > c.srv.eio.Config().MaxPayload {
			c.decoder.Reset()
			c.pendingBytes = 0
			return errors.New("attachments exceed the maximum payload")
		}
	}
	if !c.decoder.Pending() {
		c.pendingBytes = 0
		return nil
	}
	if !binary && c.socket(c.decoder.PendingNamespace()) == nil {
		c.decoder.Reset()
		return errors.New("binary packet for a namespace not joined")
	}
	return nil
}

// watchAttachments bounds how long a binary packet may wait for its
// attachments: a client that announces them and never sends them is closed.
func (c *Conn) watchAttachments() {
	switch pending := c.decoder.Pending(); {
	case pending && c.attachTimer == nil:
		c.attachTimer = time.AfterFunc(c.srv.cfg.AttachmentTimeout, func() { c.sess.Abort(engineio.ErrParseError) })
	case !pending && c.attachTimer != nil:
		c.attachTimer.Stop()
		c.attachTimer = nil
	}
}

// Closing implements engineio.ClosingReceiver: it cancels the sockets'
// contexts at once, even while a handler still runs.
func (c *Conn) Closing(error) { c.cancelSockets() }

// cancelSockets cancels the context of every socket of the connection, and
// of sockets that join from now on.
func (c *Conn) cancelSockets() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	for _, s := range c.sockets {
		s.ctx.cancel()
	}
	if c.connecting != nil {
		c.connecting.ctx.cancel()
	}
}

// Closed implements engineio.Receiver.
func (c *Conn) Closed(reason error) {
	c.cancelSockets()
	c.mu.Lock()
	c.closed = true
	sockets := c.sockets
	c.sockets = nil
	if c.connectTimer != nil {
		c.connectTimer.Stop()
	}
	c.mu.Unlock()
	if c.attachTimer != nil {
		c.attachTimer.Stop()
	}
	for _, s := range sockets {
		s.left(reason)
	}
}

func (c *Conn) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sockets {
		if s.nsp.name == nsp {
			return s
		}
	}
	return nil
}

// allowConnect paces CONNECT packets: maxConnectBurst at once, then one a
// second. It is a token bucket kept as one number (the generic cell rate
// algorithm), where a rate.Limiter would be an allocation of its own per
// connection: connectsTAT is when, counted from the session's start, the
// bucket will be full again.
func (c *Conn) allowConnect() bool {
	now := time.Since(c.sess.Handshake().Time)
	tat := max(c.connectsTAT, now)
	if tat-now > (maxConnectBurst-1)*time.Second {
		return false
	}
	c.connectsTAT = tat + time.Second
	return true
}

func (c *Conn) onConnect(p *Packet) {
	// Each CONNECT runs the authenticator: a client may join a few
	// namespaces at once and retry now and then, not flood.
	if !c.allowConnect() {
		c.sess.Abort(ErrTooManyRefusals)
		return
	}
	ns := c.srv.namespace(p.Namespace)
	if ns == nil {
		c.sendConnectError(p.Namespace, &ConnectRefused{Message: "Invalid namespace"})
		return
	}
	if old := c.socket(p.Namespace); old != nil {
		old.disconnect(ErrClientDisconnect, false)
	}
	s := &Socket{id: newID(), conn: c, nsp: ns}
	c.mu.Lock()
	c.connecting = s
	if c.closing {
		s.ctx.cancel()
	}
	c.mu.Unlock()
	if err := ns.handler.Connect(s, json.RawMessage(p.Data)); err != nil {
		c.mu.Lock()
		c.connecting = nil
		c.mu.Unlock()
		s.ctx.cancel()
		var ce *ConnectRefused
		if !errors.As(err, &ce) {
			ce = &ConnectRefused{Message: "server error"}
		}
		c.sendConnectError(p.Namespace, ce)
		if c.refusals++; c.refusals >= maxConnectRefusals {
			c.sess.Close(ErrTooManyRefusals)
		}
		return
	}

	c.mu.Lock()
	c.connecting = nil
	c.sockets = append(c.sockets, s)
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	c.mu.Unlock()
	s.connected.Store(true)

	buf := make([]byte, 0, 48+len(p.Namespace))
	buf = append(buf, '4')
	buf = appendHeader(buf, Connect, 0, p.Namespace, 0, false)
	buf = append(buf, `{"sid":"`...)
	buf = append(buf, s.id...)
	buf = append(buf, `"}`...)
	if c.sess.Send(engineio.Message{Data: buf}) != nil {
		return
	}
	ns.handler.Connected(s)
}

func (c *Conn) sendConnectError(nsp string, ce *ConnectRefused) {
	payload := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{ce.Message, ce.Data}
	data, err := json.Marshal(payload)
	if err != nil {
		data, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{ce.Message})
	}
	buf := append([]byte{'4'}, AppendPacket(nil, &Packet{Type: ConnectError, Namespace: nsp, Data: data})...)
	_ = c.sess.Send(engineio.Message{Data: buf})
}

func (c *Conn) remove(s *Socket) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.sockets {
		if x == s {
			c.sockets = append(c.sockets[:i], c.sockets[i+1:]...)
			if len(c.sockets) == 0 && !c.closed && c.connectTimer == nil {
				// A connection without namespaces must join one again in
				// time, or it is closed.
				c.connectTimer = time.AfterFunc(c.srv.cfg.ConnectTimeout, c.onConnectTimeout)
			}
			return true
		}
	}
	return false
}

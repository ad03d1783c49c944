package socketio

import (
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
)

// Conn is one client connection (one Engine.IO session), which may carry
// sockets on several namespaces.
type Conn struct {
	srv  *Server
	sess *engineio.Session

	decoder     Decoder
	attachTimer *time.Timer // running while a binary packet waits for attachments

	mu           sync.Mutex
	sockets      []*Socket // one per joined namespace; usually one
	connectTimer *time.Timer
	closed       bool
}

func (srv *Server) newConn(sess *engineio.Session) engineio.Receiver {
	c := &Conn{srv: srv, sess: sess}
	c.decoder.MaxAttachments = srv.cfg.MaxAttachments
	c.mu.Lock()
	c.connectTimer = time.AfterFunc(srv.cfg.ConnectTimeout, c.onConnectTimeout)
	c.mu.Unlock()
	if srv.cfg.OnConnection != nil {
		srv.cfg.OnConnection(c)
	}
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
	p, err := c.decoder.Decode(data, binary)
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

// Closed implements engineio.Receiver.
func (c *Conn) Closed(reason error) {
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

func (c *Conn) onConnect(p *Packet) {
	ns := c.srv.namespace(p.Namespace)
	if ns == nil {
		c.sendConnectError(p.Namespace, &ConnectRefused{Message: "Invalid namespace"})
		return
	}
	if old := c.socket(p.Namespace); old != nil {
		old.disconnect(ErrClientDisconnect, false)
	}
	s := &Socket{id: newID(), conn: c, nsp: ns}
	if err := ns.handler.Connect(s, json.RawMessage(p.Data)); err != nil {
		var ce *ConnectRefused
		if !errors.As(err, &ce) {
			ce = &ConnectRefused{Message: "server error"}
		}
		c.sendConnectError(p.Namespace, ce)
		return
	}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		// The connection closed while Connect ran: the handler still
		// hears that the socket it accepted is gone.
		ns.handler.Disconnect(s, engineio.ErrTransportClose)
		return
	}
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
			return true
		}
	}
	return false
}

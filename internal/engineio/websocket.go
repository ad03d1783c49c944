package engineio

import (
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/tradewithai/realtime/internal/wsconn"
)

// The WebSocket transport: frames are read and written by package wsconn
// (gorilla/websocket performs only the handshake); this file moves the
// session's packets over them.

// upgradeConn performs the WebSocket handshake. Only the net.Conn is kept:
// gorilla's Conn and net/http's buffered reader become garbage, since
// nothing is buffered yet (gorilla refuses a client that sent data before
// the handshake ended).
func (srv *Server) upgradeConn(w http.ResponseWriter, r *http.Request) (*wsconn.Conn, error) {
	c, err := srv.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	return wsconn.New(c.NetConn()), nil
}

// readInBackground parks a WebSocket in the poller (or, where that is not
// possible, runs its read loop on a goroutine of its own) and lets the HTTP
// handler return: net/http keeps the buffers and the request of a handler
// that is still running (about 10 KiB), which would otherwise stay
// allocated for the connection's whole life.
func (srv *Server) readInBackground(s *Session, ws *wsconn.Conn) {
	if srv.poller.Park(ws, s.wsReader()) {
		return
	}
	srv.active.Add()
	go func() {
		defer srv.active.Done()
		ws.ReadLoop(s.wsReader())
	}()
}

// wsReader is the session as the reader of its WebSocket: the
// wsconn.Handler that the poller or the read loop calls.
type wsReader Session

func (s *Session) wsReader() *wsReader { return (*wsReader)(s) }

// ReadOne reads and handles one message; false means the session is over.
func (r *wsReader) ReadOne(ws *wsconn.Conn) bool {
	s := (*Session)(r)
	binary, data, err := ws.ReadMessage(s.srv.cfg.MaxPayload, s.srv.cfg.WriteTimeout)
	if err != nil {
		s.Abort(readReason(err))
		return false
	}
	if binary {
		if !s.closed.Load() {
			s.receive(data, true)
		}
		return true
	}
	p, err := decodeTextPacket(data, false)
	if err == nil {
		err = s.onPacket(p)
	}
	if err != nil {
		s.Abort(ErrParseError)
		return false
	}
	return true
}

// ReadFailed closes the session whose WebSocket can no longer be read.
func (r *wsReader) ReadFailed(_ *wsconn.Conn, err error) {
	(*Session)(r).Abort(readReason(err))
}

// readReason maps a read error to the reason the session closes for.
func readReason(err error) error {
	switch {
	case errors.Is(err, wsconn.ErrReadLimit):
		return ErrPayloadTooLarge
	case errors.Is(err, wsconn.ErrPeerClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return ErrTransportClose
	case errors.Is(err, wsconn.ErrProtocol), errors.Is(err, wsconn.ErrInvalidUTF8):
		// The client broke RFC 6455 below Engine.IO, where the reference
		// server's WebSocket library reports an error: not a packet
		// that failed to parse.
		return ErrTransportError
	default:
		return ErrTransportError
	}
}

// writeLoop drains the queue onto the WebSocket. At most one runs per
// session; it exits when the queue is empty and is started again by the
// next send, so idle sessions hold no writer goroutine.
func (s *Session) writeLoop() {
	defer s.srv.active.Done()
	for {
		s.mu.Lock()
		if s.queue.len() == 0 || s.state == stateClosed {
			closing := s.state == stateClosing
			s.writing = false
			ws := s.ws
			s.mu.Unlock()
			if closing {
				ws.WriteClose(wsconn.CloseNormal, s.srv.cfg.WriteTimeout)
				s.Abort(nil)
			}
			return
		}
		batch := s.queue.take()
		ws := s.ws
		s.mu.Unlock()

		err := ws.WriteFrames(batch, s.srv.cfg.WriteTimeout)
		s.returnQueue(batch)
		if err != nil {
			s.mu.Lock()
			s.writing = false
			s.mu.Unlock()
			if errors.Is(err, wsconn.ErrCloseSent) {
				return // the reader is closing the session, with its reason
			}
			reason := ErrTransportError
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				reason = ErrSlowConsumer // the client stopped reading
			}
			s.Abort(reason)
			return
		}
	}
}

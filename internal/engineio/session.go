package engineio

import (
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tradewithai/realtime/internal/wsconn"
)

// Receiver handles what one session's client sends. The Server calls its
// methods from one goroutine at a time per session.
type Receiver interface {
	// Receive is called for every message packet, in order. data is owned by
	// the receiver.
	Receive(data []byte, binary bool)
	// Closed is called once, when the session starts closing, with one of the
	// Err* reasons of this package or the reason given to Close or Abort.
	Closed(reason error)
}

// Handshake describes the HTTP request that opened a session.
type Handshake struct {
	Header     http.Header
	Query      url.Values
	RemoteAddr string
	Host       string
	Secure     bool
	Time       time.Time
}

type sessionState uint8

const (
	stateOpen sessionState = iota
	stateClosing
	stateClosed
)

// pollingCloseGrace bounds how long a gracefully closing polling session
// waits for the client's next GET.
const pollingCloseGrace = 2 * time.Second

// Session is one Engine.IO session. Its methods are safe for concurrent use.
//
// A session's jobs are split: its sendQueue holds what waits to be
// written, its receiveGate orders what reaches the Receiver, its
// wsconn.Conn frames the WebSocket; the session itself sequences them
// (state, transport, upgrade, the timer) under mu.
type Session struct {
	id        string
	srv       *Server
	handshake Handshake
	closed    atomic.Bool // set when closing starts; read on the receive path

	// The flags are grouped, ahead of the wider fields, so that they share
	// words: there is one Session per connection.
	mu           sync.Mutex
	state        sessionState
	transport    Transport
	overflowed   bool // the queue overflowed; the session is being aborted
	upgrading    bool
	writing      bool // a writer goroutine is draining the queue
	getActive    bool
	postActive   bool
	releaseGet   bool // answer the pending GET even if nothing is queued
	awaitingPong bool
	clientClosed bool // the client sent a close packet: the last GET is answered with a noop
	refuseGet    bool // the pending GET was sent second: it is refused
	closeReason  error
	queue        sendQueue

	ws      *wsconn.Conn // set once the session speaks WebSocket
	probe   *wsconn.Conn // a WebSocket being upgraded to
	writeFn func()       // s.writeLoop, bound once so starting a writer does not allocate

	pollWake chan struct{} // wakes the pending GET; polling sessions only

	// Which of two concurrent GETs the client sent first (see
	// servePollGet): the remote address of the pending GET, and of the
	// connection that carried the previous response.
	getRemote  string
	lastRemote string

	timer    *time.Timer
	timerDue time.Time

	gate receiveGate
}

// ID returns the session id (the `sid` query parameter).
func (s *Session) ID() string { return s.id }

// Handshake returns the request that opened the session.
func (s *Session) Handshake() *Handshake { return &s.handshake }

// ReleaseRequest drops what the session keeps of the request that opened
// it, except the named headers and the `token` query parameter, once the
// application has read what it needs (authenticated the client): the
// headers and query of a browser's request are a large part of an idle
// session's memory. Call it from Receive (the read path), which is the only
// place the handshake is read.
func (s *Session) ReleaseRequest(keepHeaders ...string) {
	h := &s.handshake
	var header http.Header
	for _, k := range keepHeaders {
		if v := h.Header.Values(k); len(v) > 0 {
			if header == nil {
				header = make(http.Header, len(keepHeaders))
			}
			header[http.CanonicalHeaderKey(k)] = v
		}
	}
	h.Header = header
	var query url.Values
	if v := h.Query["token"]; len(v) > 0 {
		query = url.Values{"token": v}
	}
	h.Query = query
}

// Transport returns the transport in use: TransportPolling or
// TransportWebSocket.
func (s *Session) Transport() Transport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// Send queues msgs for delivery, in order and as a unit. It never blocks on
// the network. It returns ErrClosed when the session is closing, and
// ErrSlowConsumer (after closing the session) when the queue would exceed
// its bounds. The session keeps msgs' Data slices until they are written and
// never modifies them.
func (s *Session) Send(msgs ...Message) error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.overflowed {
		s.mu.Unlock()
		return ErrSlowConsumer
	}
	if !s.enqueueLocked(msgs) {
		// Closing runs the receiver's callbacks, which may take locks the
		// sender holds (a broadcast iterating a room), so it happens on its
		// own goroutine; until then further sends fail at once.
		s.overflowed = true
		s.srv.active.Add()
		s.mu.Unlock()
		go func() {
			defer s.srv.active.Done()
			s.Abort(ErrSlowConsumer)
		}()
		return ErrSlowConsumer
	}
	s.mu.Unlock()
	return nil
}

// enqueueLocked appends msgs to the queue and wakes the writer. It reports
// false when the queue bounds would be exceeded.
func (s *Session) enqueueLocked(msgs []Message) bool {
	if !s.queue.push(msgs, s.srv.limits) {
		return false
	}
	s.wakeWriterLocked()
	return true
}

func (s *Session) wakeWriterLocked() {
	if s.transport == TransportWebSocket {
		if !s.writing {
			s.writing = true
			s.srv.active.Add()
			go s.writeFn()
		}
		return
	}
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
}

// awaitRoom holds the client's next message back while the session's
// queue is more than half full, until a writer or a GET takes the queue or
// the session closes. Every message may earn answers (a refused event
// earns an error event and an acknowledgement), and a client that sends a
// burst faster than it reads them would otherwise overflow its own queue
// and be disconnected as a slow consumer; this way the burst is read at the
// pace the answers are delivered, as TCP would pace it. The wait is short
// for a client that reads: a writer takes the whole queue at once.
func (s *Session) awaitRoom() {
	lim := s.srv.limits
	s.mu.Lock()
	for s.state == stateOpen && s.queue.overHalf(lim) {
		freed := s.queue.roomSignal()
		s.mu.Unlock()
		<-freed
		s.mu.Lock()
	}
	s.mu.Unlock()
}

// returnQueue gives a written batch's backing array back for reuse.
func (s *Session) returnQueue(batch []Message) {
	if !recycle(batch) {
		return
	}
	s.mu.Lock()
	s.queue.giveBack(batch)
	s.mu.Unlock()
}

// Close closes the session gracefully: messages already queued are still
// delivered, then the transport is closed. reason reaches the Receiver.
func (s *Session) Close(reason error) { s.close(reason, true) }

// Abort closes the session at once, dropping what is queued.
func (s *Session) Abort(reason error) { s.close(reason, false) }

func (s *Session) close(reason error, graceful bool) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	first := s.state == stateOpen
	if !first && graceful {
		s.mu.Unlock() // already closing; a second graceful close changes nothing
		return
	}
	if first {
		s.state = stateClosing
		s.closeReason = reason
		s.closed.Store(true)
		s.queue.freeRoom()
	}
	probe := s.probe
	s.probe = nil
	if graceful && first {
		switch {
		case s.ws != nil:
			// The writer drains the queue, then sends the close frame.
			if !s.writing {
				s.writing = true
				s.srv.active.Add()
				go s.writeFn()
			}
		default:
			// The pending GET, or the next one (a live client polls again
			// right after each response), carries the queue and the close
			// packet; a client that does not come back within the grace
			// period is gone.
			s.setTimerLocked(min(s.srv.cfg.PingTimeout, pollingCloseGrace))
			select {
			case s.pollWake <- struct{}{}:
			default:
			}
		}
		s.mu.Unlock()
		if probe != nil {
			probe.Close()
		}
		s.gate.closing(reason)
		s.gate.closed(reason)
		return
	}
	s.state = stateClosed
	ws := s.ws
	s.queue.release()
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.pollWake != nil {
		select {
		case s.pollWake <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
	if ws != nil {
		ws.Close()
	}
	if probe != nil {
		probe.Close()
	}
	s.srv.remove(s)
	if first {
		s.gate.closing(reason)
		s.gate.closed(reason)
	}
}

// ClosingReceiver is a Receiver that also wants to hear, at once, that its
// session started closing: Closed waits until a running Receive returns,
// and work that Receive is waiting for should be canceled meanwhile.
type ClosingReceiver interface {
	Receiver
	// Closing may run concurrently with Receive, on any goroutine.
	Closing(reason error)
}

// receive hands a message to the receiver once the queue has room for
// its answers, unless the session is closing (see receiveGate).
func (s *Session) receive(data []byte, binary bool) {
	s.awaitRoom()
	s.gate.receive(data, binary)
}

// setTimerLocked arms the session's single timer, which sends pings,
// detects ping timeouts and bounds a graceful close.
func (s *Session) setTimerLocked(d time.Duration) {
	s.timerDue = time.Now().Add(d)
	if s.timer == nil {
		s.timer = time.AfterFunc(d, s.onTimer)
		return
	}
	s.timer.Reset(d)
}

func (s *Session) onTimer() {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	// The timer may have been re-armed while this call waited for the lock.
	if wait := time.Until(s.timerDue); wait > 0 {
		s.timer.Reset(wait)
		s.mu.Unlock()
		return
	}
	switch {
	case s.state == stateClosing:
		s.mu.Unlock()
		s.Abort(s.closeReason)
	case s.awaitingPong:
		s.mu.Unlock()
		s.Abort(ErrPingTimeout)
	default:
		s.awaitingPong = true
		s.setTimerLocked(s.srv.cfg.PingTimeout)
		ok := s.enqueueLocked([]Message{pingMessage})
		s.mu.Unlock()
		if !ok {
			s.Abort(ErrSlowConsumer)
		}
	}
}

// onPacket handles one inbound packet. It returns an error for packets a
// client must not send.
func (s *Session) onPacket(p packet) error {
	switch p.typ {
	case typeMessage:
		if !s.closed.Load() {
			s.receive(p.data, p.binary)
		}
	case typePong:
		s.mu.Lock()
		if s.awaitingPong && s.state == stateOpen {
			s.awaitingPong = false
			s.setTimerLocked(s.srv.cfg.PingInterval)
		}
		s.mu.Unlock()
	case typeClose:
		s.closeByClient()
	case typeNoop:
	default:
		// In protocol v4 only the server pings; open and upgrade packets
		// are out of place here.
		return ErrParse
	}
	return nil
}

// closeByClient ends the session at the client's request (a close
// packet), as the reference server does: over WebSocket the connection gets
// a close frame; over long-polling the pending GET, or one that is on its
// way (sent together with the POST, which may be handled first), is
// answered with a noop, and only then is the session id forgotten.
func (s *Session) closeByClient() {
	s.mu.Lock()
	if s.state != stateOpen || s.ws != nil {
		ws := s.ws
		s.mu.Unlock()
		if ws != nil {
			ws.WriteClose(wsconn.CloseNormal, s.srv.cfg.WriteTimeout)
		}
		s.Abort(ErrTransportClose)
		return
	}
	s.state = stateClosing
	s.closeReason = ErrTransportClose
	s.closed.Store(true)
	s.queue.freeRoom()
	s.clientClosed = true
	s.queue.discard() // the client wants nothing more
	probe := s.probe
	s.probe = nil
	s.setTimerLocked(min(s.srv.cfg.PingTimeout, pollingCloseGrace))
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
	s.mu.Unlock()
	if probe != nil {
		probe.Close()
	}
	s.gate.closing(ErrTransportClose)
	s.gate.closed(ErrTransportClose)
}

package engineio

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
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

// maxRetainedQueue is the largest queue capacity a session keeps between
// bursts; larger backing arrays are dropped so idle sessions stay small.
const maxRetainedQueue = 16

// Session is one Engine.IO session. Its methods are safe for concurrent use.
type Session struct {
	id        string
	srv       *Server
	handshake Handshake
	closed    atomic.Bool // set when closing starts; read on the receive path

	// The flags are grouped, ahead of the wider fields, so that they share
	// words: there is one Session per connection.
	mu           sync.Mutex
	state        sessionState
	overflowed   bool // the queue overflowed; the session is being aborted
	upgrading    bool
	writing      bool // a writer goroutine is draining the queue
	getActive    bool
	postActive   bool
	releaseGet   bool // answer the pending GET even if nothing is queued
	awaitingPong bool
	clientClosed bool // the client sent a close packet: the last GET is answered with a noop
	closeReason  error
	transport    string
	queue        []Message
	spare        []Message
	queueBytes   int
	roomFreed    chan struct{} // closed when the queue is taken or the session closes; made while a reader waits for room

	ws      *wsConn // set once the session speaks WebSocket
	probe   *wsConn // a WebSocket being upgraded to
	writeFn func()  // s.writeLoop, bound once so starting a writer does not allocate

	pollWake chan struct{} // wakes the pending GET; polling sessions only

	// Which of two concurrent GETs the client sent first (see
	// servePollGet): the remote address of the pending GET, and of the
	// connection that carried the previous response.
	getRemote  string
	lastRemote string
	refuseGet  bool // the pending GET was sent second: it is refused

	timer    *time.Timer
	timerDue time.Time

	// deliverMu serialises Receive calls; recvMu orders them with Closed,
	// which never runs during Receive. recv is set under recvMu once
	// onSession returns: a Send inside onSession can start a writer that
	// closes the session before then.
	deliverMu     sync.Mutex
	recvMu        sync.Mutex
	recv          Receiver
	receiving     bool
	closePending  bool
	closeNotified bool
	pendingReason error
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
func (s *Session) Transport() string {
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
		s.srv.active.add()
		s.mu.Unlock()
		go func() {
			defer s.srv.active.done()
			s.Abort(ErrSlowConsumer)
		}()
		return ErrSlowConsumer
	}
	s.mu.Unlock()
	return nil
}

// enqueueLocked appends msgs to the queue and wakes the writer. It reports
// false when the queue bounds would be exceeded; a message is always
// accepted into an empty queue, so one large message cannot wedge a session.
func (s *Session) enqueueLocked(msgs []Message) bool {
	n := 0
	for i := range msgs {
		n += len(msgs[i].Data)
	}
	cfg := &s.srv.cfg
	if s.overflows(len(msgs), n) {
		if cfg.Overflow != OverflowConflate || !s.conflateLocked() || s.overflows(len(msgs), n) {
			return false
		}
	}
	s.queue = append(s.queue, msgs...)
	s.queueBytes += n
	s.wakeWriterLocked()
	return true
}

func (s *Session) overflows(msgs, bytes int) bool {
	cfg := &s.srv.cfg
	return len(s.queue) > 0 && (len(s.queue)+msgs > cfg.MaxQueueMessages || s.queueBytes+bytes > cfg.MaxQueueBytes)
}

// conflateLocked drops queued messages that a newer queued message with the
// same key replaces, keeping the order of the rest. It reports whether that
// freed a quarter of the queue at least: a client that stays behind by
// more than its queue holds distinct keys is disconnected rather than
// compacted again on every send.
func (s *Session) conflateLocked() bool {
	newest := make(map[uint64]int, len(s.queue)/4)
	for i, m := range s.queue {
		if m.Key != 0 {
			newest[m.Key] = i
		}
	}
	kept := s.queue[:0]
	bytes := 0
	for i, m := range s.queue {
		if m.Key != 0 && newest[m.Key] != i {
			continue
		}
		kept = append(kept, m)
		bytes += len(m.Data)
	}
	freed := len(s.queue) - len(kept)
	clear(s.queue[len(kept):])
	s.queue = kept
	s.queueBytes = bytes
	return freed > 0 && freed >= s.srv.cfg.MaxQueueMessages/4
}

func (s *Session) wakeWriterLocked() {
	if s.transport == TransportWebSocket {
		if !s.writing {
			s.writing = true
			s.srv.active.add()
			go s.writeFn()
		}
		return
	}
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
}

// takeQueueLocked hands the queued messages to a writer and resets the
// queue, reusing the spare backing array.
func (s *Session) takeQueueLocked() []Message {
	batch := s.queue
	s.queue = s.spare
	s.spare = nil
	s.queueBytes = 0
	s.freeRoomLocked()
	return batch
}

// freeRoomLocked wakes a reader waiting for room in the queue.
func (s *Session) freeRoomLocked() {
	if s.roomFreed != nil {
		close(s.roomFreed)
		s.roomFreed = nil
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
	cfg := &s.srv.cfg
	s.mu.Lock()
	for s.state == stateOpen && (len(s.queue) > cfg.MaxQueueMessages/2 || s.queueBytes > cfg.MaxQueueBytes/2) {
		if s.roomFreed == nil {
			s.roomFreed = make(chan struct{})
		}
		freed := s.roomFreed
		s.mu.Unlock()
		<-freed
		s.mu.Lock()
	}
	s.mu.Unlock()
}

// returnQueue gives a written batch's backing array back for reuse.
func (s *Session) returnQueue(batch []Message) {
	clear(batch)
	if cap(batch) > maxRetainedQueue {
		return
	}
	s.mu.Lock()
	if s.spare == nil {
		s.spare = batch[:0]
	}
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
		s.freeRoomLocked()
	}
	probe := s.probe
	s.probe = nil
	if graceful && first {
		switch {
		case s.ws != nil:
			// The writer drains the queue, then sends the close frame.
			if !s.writing {
				s.writing = true
				s.srv.active.add()
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
			probe.close()
		}
		s.notifyClosing(reason)
		s.notifyClosed(reason)
		return
	}
	s.state = stateClosed
	ws := s.ws
	s.queue, s.spare, s.queueBytes = nil, nil, 0
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
		ws.close()
	}
	if probe != nil {
		probe.close()
	}
	s.srv.remove(s)
	if first {
		s.notifyClosing(reason)
		s.notifyClosed(reason)
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

// notifyClosing tells a ClosingReceiver at once. A session closed while
// onSession still runs has no receiver yet, and nothing of it is running:
// Closed, delivered when onSession returns, is all it needs.
func (s *Session) notifyClosing(reason error) {
	s.recvMu.Lock()
	recv := s.recv
	s.recvMu.Unlock()
	if r, ok := recv.(ClosingReceiver); ok {
		r.Closing(reason)
	}
}

// receive hands a message to the receiver, unless the session is closing.
// It marks the call so that a close decided meanwhile (by a timer or a
// writer) is reported after Receive returns, never concurrently with it.
func (s *Session) receive(data []byte, binary bool) {
	s.awaitRoom()
	// A POST the client sent before upgrading may still be running when
	// the WebSocket delivers its first message: one at a time.
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	s.recvMu.Lock()
	if s.closeNotified || s.closePending {
		s.recvMu.Unlock()
		return
	}
	s.receiving = true
	recv := s.recv
	s.recvMu.Unlock()
	defer s.endReceive() // also when Receive panics
	recv.Receive(data, binary)
}

// endReceive ends a Receive (or onSession) call and reports a close that
// was decided during it.
func (s *Session) endReceive() {
	s.recvMu.Lock()
	s.receiving = false
	pending, reason := s.closePending, s.pendingReason
	s.closePending, s.pendingReason = false, nil
	if pending {
		s.closeNotified = true
	}
	recv := s.recv
	s.recvMu.Unlock()
	if pending {
		recv.Closed(reason)
	}
}

// notifyClosed tells the receiver the session is closing, once, and never
// while Receive runs: a Receive in progress (on this goroutine or another)
// delivers it when it returns.
func (s *Session) notifyClosed(reason error) {
	s.recvMu.Lock()
	if s.closeNotified || s.closePending {
		s.recvMu.Unlock()
		return
	}
	if s.receiving {
		s.closePending, s.pendingReason = true, reason
		s.recvMu.Unlock()
		return
	}
	s.closeNotified = true
	recv := s.recv
	s.recvMu.Unlock()
	recv.Closed(reason)
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
			ws.writeClose(s.srv.cfg.WriteTimeout)
		}
		s.Abort(ErrTransportClose)
		return
	}
	s.state = stateClosing
	s.closeReason = ErrTransportClose
	s.closed.Store(true)
	s.freeRoomLocked()
	s.clientClosed = true
	clear(s.queue) // the client wants nothing more
	s.queue, s.queueBytes = s.queue[:0], 0
	probe := s.probe
	s.probe = nil
	s.setTimerLocked(min(s.srv.cfg.PingTimeout, pollingCloseGrace))
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
	s.mu.Unlock()
	if probe != nil {
		probe.close()
	}
	s.notifyClosing(ErrTransportClose)
	s.notifyClosed(ErrTransportClose)
}

// writeLoop drains the queue onto the WebSocket. At most one runs per
// session; it exits when the queue is empty and is started again by the
// next send, so idle sessions hold no writer goroutine.
func (s *Session) writeLoop() {
	defer s.srv.active.done()
	for {
		s.mu.Lock()
		if len(s.queue) == 0 || s.state == stateClosed {
			closing := s.state == stateClosing
			s.writing = false
			ws := s.ws
			s.mu.Unlock()
			if closing {
				ws.writeClose(s.srv.cfg.WriteTimeout)
				s.Abort(nil)
			}
			return
		}
		batch := s.takeQueueLocked()
		ws := s.ws
		s.mu.Unlock()

		err := ws.writeMessages(batch, s.srv.cfg.WriteTimeout)
		s.returnQueue(batch)
		if err != nil {
			s.mu.Lock()
			s.writing = false
			s.mu.Unlock()
			if errors.Is(err, errCloseSent) {
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

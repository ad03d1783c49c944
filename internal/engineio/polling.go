package engineio

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// payloadBufPool recycles the buffers that long-polling responses are
// encoded into.
var payloadBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// servePollGet answers a long-polling GET: it waits until something is
// queued (or the session closes, or an upgrade releases it) and writes the
// queued packets as one payload.
func (s *Session) servePollGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.getActive {
		// Two GETs at once break the protocol: the session ends, the GET
		// the client sent first carries the close packet and the other
		// one is refused, as the reference server answers them. Requests
		// on different connections may be handled out of the order they
		// were sent in, so "first" is not "handled first": a client sends
		// its next GET on the connection that carried the previous
		// response as long as that connection is free, and opens another
		// one only for a GET it sends while that one is busy.
		first := r.RemoteAddr == s.lastRemote && s.getRemote != s.lastRemote
		s.refuseGet = first
		s.mu.Unlock()
		s.Abort(ErrTransportError)
		if first {
			_ = writePollResponse(w, closeMessage.Data, s.srv.cfg.WriteTimeout)
		} else {
			writeError(w, codeBadRequest)
		}
		return
	}
	if s.transport != TransportPolling || s.state == stateClosed {
		s.mu.Unlock()
		writeError(w, codeBadRequest)
		return
	}
	s.getActive = true
	s.getRemote = r.RemoteAddr
	for s.queue.len() == 0 && s.state == stateOpen && !s.releaseGet && s.transport == TransportPolling {
		s.mu.Unlock()
		select {
		case <-s.pollWake:
		case <-r.Context().Done():
			s.mu.Lock()
			s.getActive = false
			s.mu.Unlock()
			// The client went away mid-poll: the transport is gone.
			s.Abort(ErrTransportClose)
			return
		}
		s.mu.Lock()
	}
	if s.refuseGet {
		s.getActive = false
		s.mu.Unlock()
		writeError(w, codeBadRequest)
		return
	}
	if s.transport != TransportPolling {
		// Upgraded meanwhile, without releasing this GET first (see probe):
		// the client sent it after upgrading. The queue belongs to the
		// WebSocket.
		s.getActive = false
		s.mu.Unlock()
		writeError(w, codeBadRequest)
		return
	}
	batch := s.queue.take()
	s.releaseGet = false
	state := s.state
	clientClosed := s.clientClosed
	s.mu.Unlock()

	bufp := payloadBufPool.Get().(*[]byte)
	buf := appendPayload((*bufp)[:0], batch)
	s.returnQueue(batch)
	switch {
	case clientClosed:
		buf = append(buf[:0], noopMessage.Data...)
	case state != stateOpen:
		if len(buf) > 0 {
			buf = append(buf, recordSeparator)
		}
		buf = append(buf, closeMessage.Data...)
	case len(buf) == 0:
		buf = append(buf, noopMessage.Data...)
	}
	err := writePollResponse(w, buf, s.srv.cfg.WriteTimeout)
	if cap(buf) <= 64<<10 {
		*bufp = buf[:0]
		payloadBufPool.Put(bufp)
	}

	s.mu.Lock()
	s.getActive = false
	s.lastRemote = r.RemoteAddr
	s.mu.Unlock()
	switch {
	case state != stateOpen:
		s.Abort(nil)
	case err != nil:
		s.Abort(ErrTransportError)
	}
}

func writePollResponse(w http.ResponseWriter, body []byte, timeout time.Duration) error {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout))
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// servePollPost reads a long-polling POST and hands its packets to the
// receiver, in order.
func (s *Session) servePollPost(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.postActive {
		s.mu.Unlock()
		writeError(w, codeBadRequest)
		s.Abort(ErrTransportError)
		return
	}
	if s.transport != TransportPolling || s.state != stateOpen {
		s.mu.Unlock()
		writeError(w, codeBadRequest)
		return
	}
	s.postActive = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.postActive = false
		s.mu.Unlock()
	}()

	limit := s.srv.cfg.MaxPayload
	if r.ContentLength > limit {
		http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
		s.Abort(ErrPayloadTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
			s.Abort(ErrPayloadTooLarge)
			return
		}
		s.Abort(ErrTransportError)
		return
	}
	if err := decodePayload(body, s.onPacket); err != nil {
		writeError(w, codeBadRequest)
		s.Abort(ErrParseError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, "ok")
}

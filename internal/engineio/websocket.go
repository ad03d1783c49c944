package engineio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Frames are written and read by hand: a writer puts every queued message
// into one syscall (gorilla/websocket writes each message with its own), and
// an idle connection holds no read buffer and no gorilla Conn.
// gorilla/websocket performs only the handshake.

const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA

	maxFrameHeader = 10
	writeBufSize   = 32 << 10
)

var writeBufPool = sync.Pool{New: func() any { b := make([]byte, 0, writeBufSize); return &b }}

type wsConn struct {
	nc        net.Conn
	br        *bufio.Reader // a pooled buffer held only while reading (see takeReader), or the connection's own
	closeOnce sync.Once

	// wmu serialises every write to nc: data frames, pongs and close
	// frames. A frame may take several Writes (a TLS connection writes a
	// large one as header and payload), and another frame landing between
	// them would corrupt the stream.
	wmu       sync.Mutex
	closeSent bool // a close frame was written: nothing may follow it (guarded by wmu)

	// Set while the connection is parked in a poller (idle connections
	// hold no goroutine).
	pmu       sync.Mutex // orders parking with closing
	poller    *poller    // the poller the connection is parked in; guarded by pmu
	gone      bool       // closed: never parked again; guarded by pmu
	fd        int32
	reading   atomic.Bool // a read burst is running
	ownReader bool        // br is the connection's for good, not the pool's
	session   *Session
}

// upgradeConn performs the WebSocket handshake. Only the net.Conn is kept:
// gorilla's Conn and net/http's buffered reader become garbage, since
// nothing is buffered yet (gorilla refuses a client that sent data before
// the handshake ended).
func (srv *Server) upgradeConn(w http.ResponseWriter, r *http.Request) (*wsConn, error) {
	c, err := srv.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	return &wsConn{nc: c.NetConn()}, nil
}

func appendFrameHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
	}
}

// writeMessages writes msgs as consecutive frames in as few syscalls as it
// can: over TCP one writev of frame headers and the shared payloads, which
// copies nothing and, while a slow client blocks the write, pins only the
// headers; over other connections (TLS) through a pooled buffer. Small
// batches are copied into a small pooled buffer and written with one
// write: a writev makes the connection keep its iovec array for good.
func (ws *wsConn) writeMessages(msgs []Message, timeout time.Duration) error {
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	if ws.closeSent {
		return errCloseSent
	}
	if err := ws.nc.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if framedLen(msgs) <= smallWriteSize {
		return ws.writeSmall(msgs)
	}
	if _, ok := ws.nc.(*net.TCPConn); ok {
		return ws.writev(msgs)
	}
	return ws.writeBuffered(msgs)
}

// smallWriteSize is the largest batch, frame headers included, that
// writeSmall copies.
const smallWriteSize = 2 << 10

var smallBufPool = sync.Pool{New: func() any { b := make([]byte, 0, smallWriteSize); return &b }}

// framedLen returns the bytes msgs take as frames.
func framedLen(msgs []Message) int {
	n := 0
	for i := range msgs {
		n += frameHeaderLen(len(msgs[i].Data)) + len(msgs[i].Data)
	}
	return n
}

func (ws *wsConn) writeSmall(msgs []Message) error {
	bufp := smallBufPool.Get().(*[]byte)
	defer smallBufPool.Put(bufp)
	buf := (*bufp)[:0]
	for i := range msgs {
		buf = appendFrameHeader(buf, opcode(&msgs[i]), len(msgs[i].Data))
		buf = append(buf, msgs[i].Data...)
	}
	_, err := ws.nc.Write(buf)
	return err
}

// vectors is the scratch space of one writev.
type vectors struct {
	headers []byte
	bufs    net.Buffers
}

var vectorPool = sync.Pool{New: func() any { return new(vectors) }}

func opcode(m *Message) byte {
	if m.Binary {
		return opBinary
	}
	return opText
}

func (ws *wsConn) writev(msgs []Message) error {
	v := vectorPool.Get().(*vectors)
	defer func() {
		clear(v.bufs[:cap(v.bufs)])
		if cap(v.headers) <= 64<<10 {
			v.headers, v.bufs = v.headers[:0], v.bufs[:0]
			vectorPool.Put(v)
		}
	}()
	// Headers first, all of them: appending may move the array.
	ends := v.headers[:0]
	for i := range msgs {
		ends = appendFrameHeader(ends, opcode(&msgs[i]), len(msgs[i].Data))
	}
	v.headers = ends
	bufs := v.bufs[:0]
	start := 0
	for i := range msgs {
		n := frameHeaderLen(len(msgs[i].Data))
		bufs = append(bufs, v.headers[start:start+n:start+n], msgs[i].Data)
		start += n
	}
	v.bufs = bufs
	_, err := bufs.WriteTo(ws.nc)
	return err
}

func frameHeaderLen(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xFFFF:
		return 4
	default:
		return 10
	}
}

func (ws *wsConn) writeBuffered(msgs []Message) error {
	bufp := writeBufPool.Get().(*[]byte)
	defer writeBufPool.Put(bufp)
	buf := (*bufp)[:0]
	for i := range msgs {
		m := &msgs[i]
		op := opcode(m)
		if len(buf)+maxFrameHeader+len(m.Data) > cap(buf) {
			if len(buf) > 0 {
				if _, err := ws.nc.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
			if maxFrameHeader+len(m.Data) > cap(buf) {
				bufs := net.Buffers{appendFrameHeader(buf, op, len(m.Data)), m.Data}
				if _, err := bufs.WriteTo(ws.nc); err != nil {
					return err
				}
				continue
			}
		}
		buf = appendFrameHeader(buf, op, len(m.Data))
		buf = append(buf, m.Data...)
	}
	if len(buf) > 0 {
		_, err := ws.nc.Write(buf)
		return err
	}
	return nil
}

// writeClose sends a normal-closure close frame, best effort.
func (ws *wsConn) writeClose(timeout time.Duration) { ws.writeCloseCode(closeNormal, timeout) }

// writeCloseCode sends a close frame with code, best effort.
func (ws *wsConn) writeCloseCode(code uint16, timeout time.Duration) {
	ws.writeControl(opClose, binary.BigEndian.AppendUint16(nil, code), timeout)
}

// writeControl sends a control frame, best effort. It may run beside the
// writer (the reader answers pings): it waits for a batch being written to
// end, as gorilla/websocket's WriteControl does, so that frames never
// interleave.
func (ws *wsConn) writeControl(op byte, payload []byte, timeout time.Duration) {
	var buf [maxFrameHeader + 125]byte
	frame := append(appendFrameHeader(buf[:0], op, len(payload)), payload...)
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	if ws.closeSent {
		return
	}
	ws.closeSent = op == opClose
	if ws.nc.SetWriteDeadline(time.Now().Add(timeout)) != nil {
		return
	}
	_, _ = ws.nc.Write(frame)
}

// errCloseSent refuses a write after the close frame (RFC 6455, section
// 5.5.1); whoever sent the close frame also closes the session.
var errCloseSent = errors.New("engineio: websocket close frame already sent")

func (ws *wsConn) close() {
	ws.closeOnce.Do(func() {
		// Out of the poller first: once closed, the descriptor's number
		// may be reused by another connection.
		ws.unpark()
		_ = ws.nc.Close()
	})
}

// dataReady reports whether the client has sent something not read yet,
// as far as can be told without blocking: false where it cannot be told.
func (ws *wsConn) dataReady() bool {
	if ws.br != nil && ws.br.Buffered() > 0 {
		return true
	}
	return canWaitReadable(ws.nc) && socketHasData(ws.nc)
}

// readReason maps a read error to the reason the session closes for.
func readReason(err error) error {
	switch {
	case errors.Is(err, errReadLimit):
		return ErrPayloadTooLarge
	case errors.Is(err, errPeerClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return ErrTransportClose
	case errors.Is(err, errProtocol), errors.Is(err, errInvalidUTF8):
		// The client broke RFC 6455 below Engine.IO, where the reference
		// server's WebSocket library reports an error: not a packet
		// that failed to parse.
		return ErrTransportError
	default:
		return ErrTransportError
	}
}

// readLoop reads the client's packets until the connection ends.
func (s *Session) readLoop(ws *wsConn) {
	if !canWaitReadable(ws.nc) && (ws.br == nil || ws.br.Buffered() == 0) {
		// Reads block holding the buffer (a TLS connection, or no way to
		// wait for data without reading it): a small one of the
		// connection's own, as clients' messages are small.
		ws.putReader()
		ws.br = bufio.NewReaderSize(ws.nc, ownReadBufSize)
		ws.ownReader = true
	}
	defer ws.putReader()
	for {
		if ws.br == nil || ws.br.Buffered() == 0 {
			// Idle connections wait here, in a shallow frame and without a
			// read buffer, so the runtime can shrink their stacks to the
			// minimum.
			ws.putReader()
			if err := waitReadable(ws.nc); err != nil {
				s.Abort(readReason(err))
				return
			}
		}
		if !s.readOne(ws) {
			return
		}
	}
}

// readOne reads and handles one message; false means the session is over.
func (s *Session) readOne(ws *wsConn) bool {
	binary, data, err := ws.readMessage(s.srv.cfg.MaxPayload, s.srv.cfg.WriteTimeout)
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

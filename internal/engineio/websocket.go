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

	"github.com/gorilla/websocket"
)

// Frames are written by hand (unmasked server frames, no compression), so
// that a writer can put every queued message into one syscall:
// gorilla/websocket writes each message with its own.
// gorilla/websocket still performs the handshake and all reading.

const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPong   = 0xA

	maxFrameHeader = 10
	writeBufSize   = 32 << 10
)

var writeBufPool = sync.Pool{New: func() any { b := make([]byte, 0, writeBufSize); return &b }}

type wsConn struct {
	c         *websocket.Conn
	nc        net.Conn
	br        *bufio.Reader // gorilla's read buffer, ours to inspect
	closeOnce sync.Once

	// Set while the connection is parked in a poller (idle connections
	// hold no goroutine).
	poller  atomic.Pointer[poller]
	fd      int32
	reading atomic.Bool // a read burst is running
	gone    bool        // removed from the poller; guarded by the poller's mu
	session *Session
}

// readBufferSize is a connection's read buffer: enough for the small
// packets clients send, and gorilla reads larger ones in several fills.
const readBufferSize = 512

// hijacker hands gorilla/websocket a small buffered reader of ours instead
// of net/http's 4 KiB one, so that an idle connection holds 512 bytes and
// the read loop can tell whether a message is already buffered.
type hijacker struct {
	http.ResponseWriter
	br *bufio.Reader
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return nc, brw, err // gorilla refuses data sent before the handshake ends
	}
	h.br = bufio.NewReaderSize(nc, readBufferSize)
	return nc, bufio.NewReadWriter(h.br, brw.Writer), nil
}

// upgradeConn performs the WebSocket handshake.
func (srv *Server) upgradeConn(w http.ResponseWriter, r *http.Request) (*wsConn, error) {
	h := &hijacker{ResponseWriter: w}
	c, err := srv.upgrader.Upgrade(h, r, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(srv.cfg.MaxPayload)
	ws := newWSConn(c)
	ws.br = h.br
	return ws, nil
}

func newWSConn(c *websocket.Conn) *wsConn {
	ws := &wsConn{c: c, nc: c.NetConn()}
	// The default handlers answer through gorilla's writer, which would
	// interleave with ours; a close is answered by closing, and pings (which
	// Engine.IO clients do not send) are left unanswered.
	c.SetCloseHandler(func(int, string) error { return nil })
	c.SetPingHandler(func(string) error { return nil })
	return ws
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
// headers; over other connections (TLS) through a pooled buffer.
func (ws *wsConn) writeMessages(msgs []Message, timeout time.Duration) error {
	if err := ws.nc.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, ok := ws.nc.(*net.TCPConn); ok {
		return ws.writev(msgs)
	}
	return ws.writeBuffered(msgs)
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
func (ws *wsConn) writeClose(timeout time.Duration) {
	if ws.nc.SetWriteDeadline(time.Now().Add(timeout)) != nil {
		return
	}
	frame := appendFrameHeader(make([]byte, 0, 4), opClose, 2)
	frame = binary.BigEndian.AppendUint16(frame, websocket.CloseNormalClosure)
	_, _ = ws.nc.Write(frame)
}

func (ws *wsConn) close() {
	ws.closeOnce.Do(func() {
		// Out of the poller first: once closed, the descriptor's number
		// may be reused by another connection.
		if p := ws.poller.Load(); p != nil {
			p.remove(ws)
		}
		_ = ws.nc.Close()
	})
}

// readReason maps a read error to the reason the session closes for.
func readReason(err error) error {
	var ce *websocket.CloseError
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		return ErrPayloadTooLarge
	case errors.As(err, &ce), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return ErrTransportClose
	default:
		return ErrTransportError
	}
}

// readLoop reads the client's packets until the connection ends.
func (s *Session) readLoop(ws *wsConn) {
	for {
		if ws.br != nil && ws.br.Buffered() == 0 {
			// Idle connections wait here, in a shallow frame, so the
			// runtime can shrink their stacks to the minimum.
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
	typ, data, err := ws.c.ReadMessage()
	if err != nil {
		s.Abort(readReason(err))
		return false
	}
	if typ == websocket.BinaryMessage {
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

package engineio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// Close codes (RFC 6455, section 7.4.1).
const (
	closeNormal        = 1000
	closeProtocolError = 1002
	closeMessageTooBig = 1009
)

// Errors of the frame reader; readReason maps them to close reasons.
var (
	errReadLimit  = errors.New("engineio: websocket message exceeds the maximum payload")
	errPeerClosed = errors.New("engineio: websocket closed by the client")
	errProtocol   = errors.New("engineio: websocket protocol error")
)

// readBufSize is the size of the read buffers connections borrow while they
// read; larger messages are read through them in several fills.
const readBufSize = 4 << 10

// ownReadBufSize is the read buffer of a connection that blocks in its
// reads, and so holds a buffer of its own.
const ownReadBufSize = 512

// readerPool holds the read buffers. A connection takes one when it has
// data to read and gives it back once it has read everything buffered, so
// that tens of thousands of idle connections hold none.
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufSize) }}

// takeReader gives ws a read buffer if it has none.
func (ws *wsConn) takeReader() {
	if ws.br == nil {
		br := readerPool.Get().(*bufio.Reader)
		br.Reset(ws.nc)
		ws.br = br
	}
}

// putReader returns ws's read buffer to the pool, dropping whatever it
// still holds: call it only when that is empty or no longer wanted.
func (ws *wsConn) putReader() {
	if br := ws.br; br != nil && !ws.ownReader {
		ws.br = nil
		br.Reset(nil)
		readerPool.Put(br)
	}
}

// readMessage reads the client's next data message, answering pings with
// pongs, ignoring pongs, and failing with
// errPeerClosed on a close frame. A message longer than limit fails with
// errReadLimit; a frame that breaks RFC 6455 with errProtocol. Both send
// the client a close frame first (within timeout), as gorilla/websocket
// does. It takes a read buffer; the caller gives it back.
func (ws *wsConn) readMessage(limit int64, timeout time.Duration) (isBinary bool, data []byte, err error) {
	ws.takeReader()
	br := ws.br
	var msgOp byte // the message's opcode once its first frame is read
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return false, nil, err
		}
		fin := hdr[0]&0x80 != 0
		op := hdr[0] & 0x0F
		n := int64(hdr[1] & 0x7F)
		switch {
		case hdr[0]&0x70 != 0: // no extension was negotiated
			return false, nil, ws.protocolError(timeout)
		case hdr[1]&0x80 == 0: // client frames are masked
			return false, nil, ws.protocolError(timeout)
		}
		switch op {
		case opClose, opPing, opPong:
			if n > 125 || !fin {
				return false, nil, ws.protocolError(timeout)
			}
		case opText, opBinary:
			if msgOp != 0 {
				return false, nil, ws.protocolError(timeout) // a message inside a fragmented one
			}
		case opContinuation:
			if msgOp == 0 {
				return false, nil, ws.protocolError(timeout)
			}
		default:
			return false, nil, ws.protocolError(timeout)
		}
		switch n {
		case 126:
			if _, err := io.ReadFull(br, hdr[:2]); err != nil {
				return false, nil, err
			}
			n = int64(binary.BigEndian.Uint16(hdr[:2]))
		case 127:
			if _, err := io.ReadFull(br, hdr[:8]); err != nil {
				return false, nil, err
			}
			n = int64(binary.BigEndian.Uint64(hdr[:8]))
			if n < 0 { // the top bit is reserved: over any limit
				ws.writeCloseCode(closeMessageTooBig, timeout)
				return false, nil, errReadLimit
			}
		}
		var key [4]byte
		if _, err := io.ReadFull(br, key[:]); err != nil {
			return false, nil, err
		}

		if op < opClose {
			if op != opContinuation {
				msgOp = op
			}
			// Compared this way round, a length near 2^63 cannot overflow
			// past the limit.
			if n > limit-int64(len(data)) {
				ws.writeCloseCode(closeMessageTooBig, timeout)
				return false, nil, errReadLimit
			}
			start := len(data)
			if data, err = readPayload(br, data, n); err != nil {
				return false, nil, err
			}
			unmask(key, data[start:])
			if fin {
				if data == nil {
					data = []byte{}
				}
				return msgOp == opBinary, data, nil
			}
			continue
		}

		var buf [125]byte
		payload := buf[:n]
		if _, err := io.ReadFull(br, payload); err != nil {
			return false, nil, err
		}
		unmask(key, payload)
		if op == opPing {
			// RFC 6455 requires the answer; Engine.IO clients rely on
			// their own heartbeat and send none, other tools do.
			ws.writeControl(opPong, payload, timeout)
		}
		if op == opClose {
			if len(payload) >= 2 && (!validCloseCode(binary.BigEndian.Uint16(payload)) || !utf8.Valid(payload[2:])) {
				return false, nil, ws.protocolError(timeout)
			}
			return false, nil, errPeerClosed
		}
	}
}

// protocolError tells the client its frame was refused and returns
// errProtocol.
func (ws *wsConn) protocolError(timeout time.Duration) error {
	ws.writeCloseCode(closeProtocolError, timeout)
	return errProtocol
}

// readPayload appends n bytes from br to data. It grows data with what
// arrives rather than with what the header announces, so that a client
// cannot make the server allocate a large message it never sends.
func readPayload(br *bufio.Reader, data []byte, n int64) ([]byte, error) {
	for n > 0 {
		if len(data) == cap(data) {
			data = slices.Grow(data, int(min(n, int64(max(cap(data), readBufSize)))))
		}
		k := int(min(n, int64(cap(data)-len(data))))
		m, err := io.ReadFull(br, data[len(data):len(data)+k])
		data = data[:len(data)+m]
		n -= int64(m)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return data, err
		}
	}
	return data, nil
}

// unmask applies a frame's masking key to its payload (RFC 6455, section
// 5.3), eight bytes at a time where it can.
func unmask(key [4]byte, p []byte) {
	k := binary.LittleEndian.Uint32(key[:])
	k8 := uint64(k) | uint64(k)<<32
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k8)
		p = p[8:]
	}
	for i := range p {
		p[i] ^= key[i&3]
	}
}

// validCloseCode reports whether a client may send code in a close frame,
// as gorilla/websocket decides it.
func validCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	default:
		return code >= 3000 && code <= 4999
	}
}

package wsconn

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

// takeReader gives c a read buffer if it has none.
func (c *Conn) takeReader() {
	if c.br == nil {
		br := readerPool.Get().(*bufio.Reader)
		br.Reset(c.nc)
		c.br = br
	}
}

// putReader returns c's read buffer to the pool, dropping whatever it
// still holds: call it only when that is empty or no longer wanted.
func (c *Conn) putReader() {
	if br := c.br; br != nil && !c.ownReader {
		c.br = nil
		br.Reset(nil)
		readerPool.Put(br)
	}
}

// ReadMessage reads the client's next data message, answering pings with
// pongs and ignoring pongs. A close frame is answered with a close frame
// echoing its status code (RFC 6455, section 5.5.1) and fails with
// ErrPeerClosed. A frame that breaks RFC 6455 fails with ErrProtocol, a
// text message that is not UTF-8 with ErrInvalidUTF8 as soon as a frame
// proves it, and a message longer than limit with ErrReadLimit as soon as
// a frame header announces it, before its payload is read; each first
// sends the client a close frame with the matching status code (within
// timeout), as gorilla/websocket does. It borrows a read buffer from a
// pool, which ReadLoop and the poller give back once nothing is left in
// it.
func (c *Conn) ReadMessage(limit int64, timeout time.Duration) (isBinary bool, data []byte, err error) {
	c.takeReader()
	br := c.br
	var msgOp byte // the message's opcode once its first frame is read
	valid := 0     // text: data[:valid] is UTF-8 and ends where a rune does
	for {
		// The header is read through br.Peek, and the payload of control
		// frames copied onto the stack: arrays passed to io.ReadFull
		// would escape, costing allocations on every message.
		h, err := next(br, 2)
		if err != nil {
			return false, nil, err
		}
		b0, b1 := h[0], h[1]
		fin := b0&0x80 != 0
		op := b0 & 0x0F
		n := int64(b1 & 0x7F)
		switch {
		case b0&0x70 != 0: // no extension was negotiated
			return false, nil, c.fail(CloseProtocolError, ErrProtocol, timeout)
		case b1&0x80 == 0: // client frames are masked
			return false, nil, c.fail(CloseProtocolError, ErrProtocol, timeout)
		}
		switch op {
		case opClose, opPing, opPong:
			if n > 125 || !fin {
				return false, nil, c.fail(CloseProtocolError, ErrProtocol, timeout)
			}
		case opText, opBinary:
			if msgOp != 0 { // a message inside a fragmented one
				return false, nil, c.fail(CloseProtocolError, ErrProtocol, timeout)
			}
		case opContinuation:
			if msgOp == 0 { // nothing to continue
				return false, nil, c.fail(CloseProtocolError, ErrProtocol, timeout)
			}
		default:
			return false, nil, c.fail(CloseProtocolError, ErrProtocol, timeout)
		}
		switch n {
		case 126:
			if h, err = next(br, 2); err != nil {
				return false, nil, err
			}
			n = int64(binary.BigEndian.Uint16(h))
		case 127:
			if h, err = next(br, 8); err != nil {
				return false, nil, err
			}
			n = int64(binary.BigEndian.Uint64(h))
			if n < 0 { // the top bit is reserved: over any limit
				return false, nil, c.fail(CloseMessageTooBig, ErrReadLimit, timeout)
			}
		}
		if h, err = next(br, 4); err != nil {
			return false, nil, err
		}
		key := [4]byte(h)

		if op < opClose {
			if op != opContinuation {
				msgOp = op
			}
			// Compared this way round, a length near 2^63 cannot overflow
			// past the limit.
			if n > limit-int64(len(data)) {
				return false, nil, c.fail(CloseMessageTooBig, ErrReadLimit, timeout)
			}
			start := len(data)
			if data, err = readPayload(br, data, n); err != nil {
				return false, nil, err
			}
			unmask(key, data[start:])
			if msgOp == opText {
				var ok bool
				if valid, ok = checkUTF8(data, valid, fin); !ok {
					return false, nil, c.fail(CloseInvalidPayload, ErrInvalidUTF8, timeout)
				}
			}
			if fin {
				if data == nil {
					data = []byte{}
				}
				return msgOp == opBinary, data, nil
			}
			continue
		}

		var buf [125]byte
		if h, err = next(br, int(n)); err != nil {
			return false, nil, err
		}
		payload := buf[:copy(buf[:], h)]
		unmask(key, payload)
		switch op {
		case opPing:
			// RFC 6455 requires the answer; Engine.IO clients rely on
			// their own heartbeat and send none, other tools do.
			c.writeControl(opPong, payload, timeout)
		case opClose:
			if len(payload) == 0 {
				// No status code: answered with none, as gorilla does.
				c.writeControl(opClose, nil, timeout)
				return false, nil, ErrPeerClosed
			}
			if len(payload) == 1 { // half a status code
				return false, nil, c.fail(CloseProtocolError, ErrProtocol, timeout)
			}
			code := binary.BigEndian.Uint16(payload)
			if !validCloseCode(code) {
				return false, nil, c.fail(CloseProtocolError, ErrProtocol, timeout)
			}
			if !utf8.Valid(payload[2:]) { // the reason is text
				return false, nil, c.fail(CloseInvalidPayload, ErrInvalidUTF8, timeout)
			}
			c.WriteClose(code, timeout)
			return false, nil, ErrPeerClosed
		}
	}
}

// next consumes the next n bytes of br, n no more than its size, and
// returns them; they stay valid until br is read again. Like io.ReadFull,
// it reports the end of the stream after some but not all of them as
// io.ErrUnexpectedEOF.
func next(br *bufio.Reader, n int) ([]byte, error) {
	p, err := br.Peek(n)
	if err != nil {
		if len(p) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	_, _ = br.Discard(n) // cannot fail: the bytes are buffered
	return p, nil
}

// fail tells the client why its connection ends, with a close frame with
// code, and returns err.
func (c *Conn) fail(code uint16, err error, timeout time.Duration) error {
	c.WriteClose(code, timeout)
	return err
}

// checkUTF8 checks the text p[from:] read since the last check, p[:from]
// being valid UTF-8 that ends where a rune does. Unless final, p may end
// inside a rune, whose bytes so far must begin a valid encoding. It
// returns where the checked text now ends (before that unfinished rune):
// each byte is checked once, plus at most three of a rune split between
// frames.
func checkUTF8(p []byte, from int, final bool) (int, bool) {
	end := len(p)
	if !final {
		// The last rune starts at most UTFMax-1 bytes before the end if it
		// is unfinished. FullRune is false only for the valid beginning
		// of an encoding: an invalid one counts as a whole rune, which
		// Valid then refuses.
		for i := len(p) - 1; i >= from && i > len(p)-utf8.UTFMax; i-- {
			if utf8.RuneStart(p[i]) {
				if !utf8.FullRune(p[i:]) {
					end = i
				}
				break
			}
		}
	}
	return end, utf8.Valid(p[from:end])
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

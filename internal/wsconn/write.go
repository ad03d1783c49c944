package wsconn

import (
	"encoding/binary"
	"net"
	"sync"
	"time"
)

// Every write to the connection holds wmu for a whole batch or a whole
// control frame: frames never interleave (a TLS connection writes a large
// frame in several Writes), and nothing follows a close frame.

// writeBufSize is the size of the pooled buffers batches are copied into
// where writev is not used (TLS).
const writeBufSize = 32 << 10

var writeBufPool = sync.Pool{New: func() any { b := make([]byte, 0, writeBufSize); return &b }}

// WriteFrames writes frames, in order, in as few system calls as it can:
// over TCP one writev of the frame headers and the shared payloads, which
// copies nothing and, while a slow client blocks the write, pins only the
// headers; over other connections (TLS) through a pooled buffer. Small
// batches are copied into a small pooled buffer and written with one
// write: a writev makes the connection keep its iovec array for good. The
// write as a whole must end within timeout. It fails with ErrCloseSent
// once a close frame has been written.
func (c *Conn) WriteFrames(frames []Frame, timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return ErrCloseSent
	}
	if err := c.nc.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if FramedLen(frames) <= smallWriteSize {
		return c.writeSmall(frames)
	}
	if _, ok := c.nc.(*net.TCPConn); ok {
		return c.writev(frames)
	}
	return c.writeBuffered(frames)
}

// smallWriteSize is the largest batch, frame headers included, that
// writeSmall copies.
const smallWriteSize = 2 << 10

var smallBufPool = sync.Pool{New: func() any { b := make([]byte, 0, smallWriteSize); return &b }}

func (c *Conn) writeSmall(frames []Frame) error {
	bufp := smallBufPool.Get().(*[]byte)
	defer smallBufPool.Put(bufp)
	buf := (*bufp)[:0]
	for i := range frames {
		buf = appendFrameHeader(buf, opcode(&frames[i]), len(frames[i].Data))
		buf = append(buf, frames[i].Data...)
	}
	_, err := c.nc.Write(buf)
	return err
}

// vectors is the scratch space of one writev.
type vectors struct {
	headers []byte
	bufs    net.Buffers
}

var vectorPool = sync.Pool{New: func() any { return new(vectors) }}

func (c *Conn) writev(frames []Frame) error {
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
	for i := range frames {
		ends = appendFrameHeader(ends, opcode(&frames[i]), len(frames[i].Data))
	}
	v.headers = ends
	bufs := v.bufs[:0]
	start := 0
	for i := range frames {
		n := frameHeaderLen(len(frames[i].Data))
		bufs = append(bufs, v.headers[start:start+n:start+n], frames[i].Data)
		start += n
	}
	// Written through the pooled slice: WriteTo takes its receiver's
	// address, and a local slice would escape, one allocation per batch.
	// It consumes the slice, which is then restored for the cleanup.
	v.bufs = bufs
	_, err := v.bufs.WriteTo(c.nc)
	v.bufs = bufs
	return err
}

func (c *Conn) writeBuffered(frames []Frame) error {
	bufp := writeBufPool.Get().(*[]byte)
	defer writeBufPool.Put(bufp)
	buf := (*bufp)[:0]
	for i := range frames {
		f := &frames[i]
		op := opcode(f)
		if len(buf)+maxFrameHeader+len(f.Data) > cap(buf) {
			if len(buf) > 0 {
				if _, err := c.nc.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
			if maxFrameHeader+len(f.Data) > cap(buf) {
				bufs := net.Buffers{appendFrameHeader(buf, op, len(f.Data)), f.Data}
				if _, err := bufs.WriteTo(c.nc); err != nil {
					return err
				}
				continue
			}
		}
		buf = appendFrameHeader(buf, op, len(f.Data))
		buf = append(buf, f.Data...)
	}
	if len(buf) > 0 {
		_, err := c.nc.Write(buf)
		return err
	}
	return nil
}

// WriteClose sends a close frame with code (none for CloseNoStatus), best
// effort, within timeout. Nothing is written after it.
func (c *Conn) WriteClose(code uint16, timeout time.Duration) {
	if code == CloseNoStatus {
		c.writeControl(opClose, nil, timeout)
		return
	}
	var payload [2]byte
	binary.BigEndian.PutUint16(payload[:], code)
	c.writeControl(opClose, payload[:], timeout)
}

// writeControl sends a control frame, best effort. It may run beside a
// batch being written (the reader answers pings): it waits for the batch
// to end, as gorilla/websocket's WriteControl does, so that frames never
// interleave.
func (c *Conn) writeControl(op byte, payload []byte, timeout time.Duration) {
	var buf [maxFrameHeader + 125]byte
	frame := append(appendFrameHeader(buf[:0], op, len(payload)), payload...)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return
	}
	c.closeSent = op == opClose
	if c.nc.SetWriteDeadline(time.Now().Add(timeout)) != nil {
		return
	}
	_, _ = c.nc.Write(frame)
}

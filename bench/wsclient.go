package bench

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A minimal websocket client: the server's frames are never masked,
// fragmented or compressed by either server under test (compression is off
// by default on both), so reading is a header and a payload; client frames
// are masked as RFC 6455 requires.

const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA

	// readBufSize holds many small frames, so a burst is one read syscall.
	readBufSize = 4 << 10
	// maxFrame bounds what the client accepts from a server.
	maxFrame = 1 << 20
)

// Errors a connection attempt ends with.
var (
	ErrUpgrade      = errors.New("bench: websocket upgrade refused")
	ErrProtocol     = errors.New("bench: unexpected packet")
	ErrConnectError = errors.New("bench: server refused the Socket.IO connection")
)

// Messages the client recognises by prefix. The servers put the timestamp
// first in every tick, so finding it costs no JSON decoding.
var (
	tickPrefix       = []byte(`42["ticker:update",{"t":"`)
	subscribedPrefix = []byte(`42["subscribed",`)
	pongPacket       = []byte("3")
)

// client is one simulated socket.io-client connection. One goroutine reads
// it; writes (pongs from the reader, subscribes and floods from the worker)
// are serialised by wmu.
type client struct {
	nc      net.Conn
	br      *bufio.Reader
	payload []byte
	sink    *sinks

	wmu  sync.Mutex
	wbuf []byte
	mask [4]byte

	subscribed atomic.Bool
	closing    atomic.Bool
}

// sinks is where a worker's clients report: the current step's latencies
// and counters shared by every client of the worker.
type sinks struct {
	step        atomic.Pointer[stepStats]
	subscribed  atomic.Int64
	disconnects atomic.Int64
}

type stepStats struct {
	hist      Histogram
	delivered atomic.Int64
	bad       atomic.Int64 // ticks whose timestamp did not parse
}

// dialOptions says where and as whom a client connects.
type dialOptions struct {
	addr    string // host:port of the server
	path    string // Engine.IO path, "/socket.io/"
	local   net.IP // source address
	token   string
	timeout time.Duration
}

// dial opens a websocket, completes the Engine.IO handshake and joins the
// main namespace with the token as auth. The client's read loop is not
// started.
func dial(o dialOptions, s *sinks) (*client, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: o.local}, Timeout: o.timeout}
	nc, err := d.Dial("tcp", o.addr)
	if err != nil {
		return nil, err
	}
	c := &client{nc: nc, br: bufio.NewReaderSize(nc, readBufSize), sink: s}
	if _, err := rand.Read(c.mask[:]); err != nil {
		nc.Close()
		return nil, err
	}
	if err := c.handshake(o); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func (c *client) handshake(o dialOptions) error {
	if err := c.nc.SetDeadline(time.Now().Add(o.timeout)); err != nil {
		return err
	}
	var key [16]byte
	if _, err := rand.Read(key[:]); err != nil {
		return err
	}
	wsKey := base64.StdEncoding.EncodeToString(key[:])
	req := "GET " + o.path + "?EIO=4&transport=websocket HTTP/1.1\r\n" +
		"Host: " + o.addr + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + wsKey + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c.nc, req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("%w: HTTP %d", ErrUpgrade, resp.StatusCode)
	}
	sum := sha1.Sum([]byte(wsKey + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.Header.Get("Sec-Websocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		return fmt.Errorf("%w: bad Sec-WebSocket-Accept", ErrUpgrade)
	}

	// Engine.IO open packet, then the Socket.IO CONNECT with auth.
	op, p, err := c.readFrame()
	if err != nil {
		return err
	}
	if op != opText || len(p) == 0 || p[0] != '0' {
		return fmt.Errorf("%w: %q instead of the open packet", ErrProtocol, p)
	}
	if err := c.writeText([]byte(`40{"token":` + strconv.Quote(o.token) + `}`)); err != nil {
		return err
	}
	for {
		op, p, err := c.readFrame()
		if err != nil {
			return err
		}
		switch {
		case op != opText:
		case bytes.HasPrefix(p, []byte("40")):
			return c.nc.SetDeadline(time.Time{})
		case bytes.HasPrefix(p, []byte("44")):
			return fmt.Errorf("%w: %s", ErrConnectError, p[2:])
		case len(p) == 1 && p[0] == '2':
			if err := c.writeText(pongPacket); err != nil {
				return err
			}
		}
	}
}

// readFrame reads one frame; the payload is valid until the next call.
func (c *client) readFrame() (op byte, payload []byte, err error) {
	var hdr [2]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		return 0, nil, err
	}
	op = hdr[0] & 0x0F
	if hdr[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("%w: masked server frame", ErrProtocol)
	}
	n := int64(hdr[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = int64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = int64(binary.BigEndian.Uint64(ext[:]))
	}
	if n > maxFrame {
		return 0, nil, fmt.Errorf("%w: %d-byte frame", ErrProtocol, n)
	}
	if int64(cap(c.payload)) < n {
		c.payload = make([]byte, n)
	}
	p := c.payload[:n]
	if _, err := io.ReadFull(c.br, p); err != nil {
		return 0, nil, err
	}
	if hdr[0]&0x80 == 0 || op == opContinuation {
		return 0, nil, fmt.Errorf("%w: fragmented frame", ErrProtocol)
	}
	return op, p, nil
}

// appendFrame appends one masked client frame.
func appendFrame(dst []byte, op byte, mask [4]byte, payload []byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = binary.BigEndian.AppendUint16(append(dst, 0x80|126), uint16(n))
	default:
		dst = binary.BigEndian.AppendUint64(append(dst, 0x80|127), uint64(n))
	}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range payload {
		dst[start+i] ^= mask[i&3]
	}
	return dst
}

func (c *client) writeFrame(op byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = appendFrame(c.wbuf[:0], op, c.mask, payload)
	_, err := c.nc.Write(c.wbuf)
	return err
}

func (c *client) writeText(payload []byte) error { return c.writeFrame(opText, payload) }

// writeRaw writes frames that were built (and masked) with this client's
// mask.
func (c *client) writeRaw(frames []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(frames)
	return err
}

// readLoop handles what the server sends until the connection ends.
func (c *client) readLoop() {
	for {
		op, p, err := c.readFrame()
		if err != nil {
			if !c.closing.Load() {
				c.sink.disconnects.Add(1)
			}
			return
		}
		switch op {
		case opText:
			c.onMessage(p)
		case opPing:
			_ = c.writeFrame(opPong, p)
		case opClose:
			if !c.closing.Load() {
				c.sink.disconnects.Add(1)
			}
			c.nc.Close()
			return
		}
	}
}

func (c *client) onMessage(p []byte) {
	switch {
	case bytes.HasPrefix(p, tickPrefix):
		now := time.Now().UnixNano()
		st := c.sink.step.Load()
		sent, ok := leadingInt(p[len(tickPrefix):])
		if !ok {
			st.bad.Add(1)
			return
		}
		st.hist.Record((now - sent) / 1000)
		st.delivered.Add(1)
	case len(p) == 1 && p[0] == '2':
		_ = c.writeText(pongPacket)
	case bytes.HasPrefix(p, subscribedPrefix):
		if c.subscribed.CompareAndSwap(false, true) {
			c.sink.subscribed.Add(1)
		}
	}
}

// leadingInt parses the decimal digits at the start of b.
func leadingInt(b []byte) (int64, bool) {
	var v int64
	i := 0
	for ; i < len(b) && i < 19 && '0' <= b[i] && b[i] <= '9'; i++ {
		v = v*10 + int64(b[i]-'0')
	}
	return v, i > 0
}

// close ends the connection without counting it as a disconnect.
func (c *client) close() {
	c.closing.Store(true)
	c.nc.Close()
}

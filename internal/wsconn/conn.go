package wsconn

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is the server side of one WebSocket connection. Writes are safe for
// concurrent use; reads are made by one goroutine at a time (the one
// ReadLoop or the poller runs, or the owner's before it serves the
// connection).
type Conn struct {
	nc net.Conn
	br *bufio.Reader // a pooled buffer held only while reading (see takeReader), or the connection's own

	// wmu serialises every write to nc: data frames, pongs and close
	// frames. A frame may take several Writes (a TLS connection writes a
	// large one as header and payload), and another frame landing between
	// them would corrupt the stream.
	wmu       sync.Mutex
	closeSent bool // a close frame was written: nothing may follow it (guarded by wmu)

	// pmu orders parking with closing; gone is set once the connection is
	// closed, and then it is never parked again.
	pmu    sync.Mutex
	gone   bool   // guarded by pmu
	poller *epoll // the epoll instance the connection is parked in; guarded by pmu
	fd     int32
	// Set while the connection is served by a poller (idle connections
	// hold no goroutine).
	reading   atomic.Bool // a read burst is running
	ownReader bool        // br is the connection's for good, not the pool's
	handler   Handler
}

// New returns the WebSocket connection over nc, whose handshake is done and
// from which nothing has been read past it.
func New(nc net.Conn) *Conn { return &Conn{nc: nc} }

// Handler reads a served connection for its owner.
type Handler interface {
	// ReadOne reads the client's next message from c (ReadMessage) and
	// handles it. It is called, from one goroutine at a time, when c has
	// data. false ends reading for good: the owner closes c.
	ReadOne(c *Conn) bool
	// ReadFailed is called when c can no longer be waited for (the wait
	// for data failed, c was closed while parked, or its poller failed),
	// with the reason; the owner closes c. It may run while ReadOne does.
	ReadFailed(c *Conn, err error)
}

// Errors of the frame reader and writer.
var (
	// ErrReadLimit: a message exceeds the reader's limit.
	ErrReadLimit = errors.New("wsconn: message exceeds the read limit")
	// ErrPeerClosed: the client sent a close frame, which was echoed.
	ErrPeerClosed = errors.New("wsconn: closed by the client")
	// ErrProtocol: the client broke RFC 6455.
	ErrProtocol = errors.New("wsconn: protocol error")
	// ErrInvalidUTF8: a text message is not UTF-8.
	ErrInvalidUTF8 = errors.New("wsconn: text is not valid UTF-8")
	// ErrCloseSent refuses a write after the close frame (RFC 6455,
	// section 5.5.1); whoever sent the close frame also closes the
	// connection.
	ErrCloseSent = errors.New("wsconn: close frame already sent")
	// ErrPollerFailed: the poller the connection was parked in failed, and
	// nothing will read it.
	ErrPollerFailed = errors.New("wsconn: poller failed")
)

// SetReadDeadline sets the deadline of the reads that follow.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// Close takes the connection out of its poller and closes it. It may be
// called any number of times, from any goroutine.
func (c *Conn) Close() {
	c.pmu.Lock()
	if c.gone {
		c.pmu.Unlock()
		return
	}
	// Out of the poller first: once closed, the descriptor's number may
	// be reused by another connection.
	c.gone = true
	c.unparkLocked()
	c.pmu.Unlock()
	_ = c.nc.Close()
}

// DataReady reports whether the client has sent something not read yet,
// as far as can be told without blocking: false where it cannot be told.
func (c *Conn) DataReady() bool {
	if c.br != nil && c.br.Buffered() > 0 {
		return true
	}
	return canWaitReadable(c.nc) && socketHasData(c.nc)
}

// ReadLoop serves c on the calling goroutine until h.ReadOne returns false
// or waiting for data fails (then h.ReadFailed is called): where c cannot
// be parked in a Poller.
func (c *Conn) ReadLoop(h Handler) {
	if !canWaitReadable(c.nc) && (c.br == nil || c.br.Buffered() == 0) {
		// Reads block holding the buffer (a TLS connection, or no way to
		// wait for data without reading it): a small one of the
		// connection's own, as clients' messages are small.
		c.putReader()
		c.br = bufio.NewReaderSize(c.nc, ownReadBufSize)
		c.ownReader = true
	}
	defer c.putReader()
	for {
		if c.br == nil || c.br.Buffered() == 0 {
			// Idle connections wait here, in a shallow frame and without a
			// read buffer, so the runtime can shrink their stacks to the
			// minimum.
			c.putReader()
			if err := waitReadable(c.nc); err != nil {
				h.ReadFailed(c, err)
				return
			}
		}
		if !h.ReadOne(c) {
			return
		}
	}
}

// Tracker counts the goroutines a Poller starts, so that its owner can wait
// for them to end.
type Tracker interface {
	Add()  // before a goroutine starts
	Done() // when it has returned
}

type noTracker struct{}

func (noTracker) Add()  {}
func (noTracker) Done() {}

// Poller parks idle connections (Linux only): an epoll instance watches
// their sockets, and a read burst runs on a fresh goroutine only when one
// has data, then parks the connection again. With tens of thousands of
// idle connections, reader goroutines' stacks would otherwise be most of
// the memory a connection costs. The epoll instance and its goroutine are
// started with the first parked connection and retire when none is left.
type Poller struct {
	track Tracker

	mu  sync.Mutex
	cur *epoll // the running epoll instance, if any
}

// NewPoller returns a poller that counts the goroutines it starts with t
// (nil: not counted).
func NewPoller(t Tracker) *Poller {
	if t == nil {
		t = noTracker{}
	}
	return &Poller{track: t}
}

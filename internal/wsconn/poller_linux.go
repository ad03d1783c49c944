//go:build linux

package wsconn

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// epoll is one epoll instance of a Poller and the connections registered
// in it. The runtime's own poller keeps watching the same sockets for the
// reads themselves; each epoll instance has its own registrations.
type epoll struct {
	owner *Poller
	epfd  int

	mu    sync.Mutex
	conns map[int32]*Conn // nil once the instance has retired
}

// pollerIdle is how long the poller goroutine waits in one epoll_wait: it
// exits once it has nothing registered, so an owner without connections
// holds no goroutine.
const pollerIdle = 100 * time.Millisecond

// Park hands c to the poller: from now on h reads it, on a goroutine the
// poller starts whenever c has data (what c has buffered already is read
// at once). It reports false where parking is not possible (not a TCP
// connection, no epoll); the caller then serves c with ReadLoop.
func (p *Poller) Park(c *Conn, h Handler) bool {
	tcp, ok := c.nc.(*net.TCPConn)
	if !ok {
		return false
	}
	rc, err := tcp.SyscallConn()
	if err != nil {
		return false
	}
	var fd int32 = -1
	if rc.Control(func(f uintptr) { fd = int32(f) }) != nil || fd < 0 {
		return false
	}
	ep, err := p.current()
	if err != nil {
		return false
	}
	c.handler, c.fd = h, fd
	c.pmu.Lock()
	c.poller = ep
	c.pmu.Unlock()
	// What was buffered while the connection was being set up (after an
	// upgrade's probe) is read now; the poller sees only what is still in
	// the socket.
	c.reading.Store(true)
	p.track.Add()
	go c.burst(p.track)
	return true
}

// current returns the running epoll instance, starting one if there is
// none.
func (p *Poller) current() (*epoll, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil {
		return p.cur, nil
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	ep := &epoll{owner: p, epfd: epfd, conns: make(map[int32]*Conn)}
	p.cur = ep
	p.track.Add()
	go ep.run()
	return ep, nil
}

const pollEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

// errPollerStopped: the epoll instance retired (idle) after the connection
// was handed to it; the connection moves to the current one.
var errPollerStopped = errors.New("wsconn: poller stopped")

// arm parks c in its poller's current epoll instance, unless c is closed.
func (c *Conn) arm() error {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	for !c.gone {
		err := c.poller.arm(c)
		if !errors.Is(err, errPollerStopped) {
			return err
		}
		ep, err := c.poller.owner.current()
		if err != nil {
			return err
		}
		c.poller = ep
	}
	return net.ErrClosed
}

// unparkLocked takes c out of its epoll instance for good; it runs, under
// c.pmu, before c's socket is closed, so that it cannot interleave with
// arm moving c to a new instance.
func (c *Conn) unparkLocked() {
	if c.poller != nil {
		c.poller.remove(c)
	}
}

// arm registers c (or re-arms it) for one readiness event.
func (ep *epoll) arm(c *Conn) error {
	ev := unix.EpollEvent{Events: pollEvents, Fd: c.fd}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if cur, ok := ep.conns[c.fd]; ok && cur == c {
		return unix.EpollCtl(ep.epfd, unix.EPOLL_CTL_MOD, int(c.fd), &ev)
	}
	if ep.conns == nil {
		return errPollerStopped
	}
	if err := unix.EpollCtl(ep.epfd, unix.EPOLL_CTL_ADD, int(c.fd), &ev); err != nil {
		return err
	}
	ep.conns[c.fd] = c
	return nil
}

// remove unregisters c.
func (ep *epoll) remove(c *Conn) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if cur, ok := ep.conns[c.fd]; ok && cur == c {
		delete(ep.conns, c.fd)
		_ = unix.EpollCtl(ep.epfd, unix.EPOLL_CTL_DEL, int(c.fd), nil)
	}
}

// run dispatches readiness events until no connection is registered.
func (ep *epoll) run() {
	track := ep.owner.track
	defer track.Done()
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(ep.epfd, events, int(pollerIdle/time.Millisecond))
		if err != nil && !errors.Is(err, unix.EINTR) {
			ep.stop()
			return
		}
		ep.mu.Lock()
		if n <= 0 && len(ep.conns) == 0 {
			ep.mu.Unlock()
			if ep.stopIfIdle() {
				return
			}
			continue
		}
		for _, ev := range events[:max(n, 0)] {
			c := ep.conns[ev.Fd]
			if c != nil && c.reading.CompareAndSwap(false, true) {
				track.Add()
				go c.burst(track)
			}
		}
		ep.mu.Unlock()
	}
}

// stopIfIdle retires the instance when nothing is registered; the next
// parked connection starts a new one.
func (ep *epoll) stopIfIdle() bool {
	p := ep.owner
	p.mu.Lock()
	defer p.mu.Unlock()
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if len(ep.conns) > 0 {
		return false
	}
	ep.conns = nil
	if p.cur == ep {
		p.cur = nil
	}
	_ = unix.Close(ep.epfd)
	return true
}

// stop retires the instance after an epoll failure: the parked
// connections' handlers are told, since nothing would read them.
func (ep *epoll) stop() {
	p := ep.owner
	p.mu.Lock()
	if p.cur == ep {
		p.cur = nil
	}
	p.mu.Unlock()
	ep.mu.Lock()
	conns := ep.conns
	ep.conns = nil
	ep.mu.Unlock()
	for _, c := range conns {
		c.handler.ReadFailed(c, ErrPollerFailed)
	}
	_ = unix.Close(ep.epfd)
}

// burst reads what the connection has, then parks it again.
func (c *Conn) burst(track Tracker) {
	defer track.Done()
	h := c.handler
	for {
		if (c.br == nil || c.br.Buffered() == 0) && !socketHasData(c.nc) {
			break
		}
		if !h.ReadOne(c) {
			c.putReader()
			return
		}
	}
	c.putReader() // parked connections hold no read buffer
	c.reading.Store(false)
	if err := c.arm(); err != nil {
		// Closed meanwhile (the descriptor left the poller), or epoll
		// refused: either way nothing will read this connection again.
		h.ReadFailed(c, net.ErrClosed)
	}
}

// socketHasData peeks at the socket without blocking; a closed or failed
// socket counts as having data, so that the read reports it.
func socketHasData(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	has := true
	_ = rc.Control(func(fd uintptr) {
		var b [1]byte
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		has = err != unix.EAGAIN
	})
	return has
}

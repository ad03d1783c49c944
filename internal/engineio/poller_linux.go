//go:build linux

package engineio

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// A poller parks idle WebSocket connections without a goroutine each: an
// epoll instance of the server's own watches their sockets, and a read
// burst runs on a fresh goroutine only when one has data, then parks the
// connection again. With tens of thousands of idle subscribers, the reader
// goroutines' stacks would otherwise be most of the memory a connection
// costs.
//
// The runtime's own poller keeps watching the same sockets for the reads
// themselves; each epoll instance has its own registrations.
type poller struct {
	srv  *Server
	epfd int

	mu    sync.Mutex
	conns map[int32]*wsConn
}

// pollerIdle is how long the poller goroutine waits in one epoll_wait: it
// exits once it has nothing registered, so a server without connections
// holds no goroutine.
const pollerIdle = 100 * time.Millisecond

// park hands a WebSocket session to the poller. It reports false where
// parking is not possible (not a TCP connection, no epoll), and the caller
// then reads on a goroutine of its own.
func (srv *Server) park(s *Session, ws *wsConn) bool {
	tcp, ok := ws.nc.(*net.TCPConn)
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
	p, err := srv.pollerFor()
	if err != nil {
		return false
	}
	ws.session, ws.fd = s, fd
	ws.pmu.Lock()
	ws.poller = p
	ws.pmu.Unlock()
	// What was buffered while the session was being set up (after an
	// upgrade's probe) is read now; the poller sees only what is still in
	// the socket.
	ws.reading.Store(true)
	srv.active.add()
	go ws.burst()
	return true
}

// pollerFor returns the server's poller, starting it if it is not running.
func (srv *Server) pollerFor() (*poller, error) {
	srv.pollerMu.Lock()
	defer srv.pollerMu.Unlock()
	if srv.poller != nil {
		return srv.poller, nil
	}
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	p := &poller{srv: srv, epfd: epfd, conns: make(map[int32]*wsConn)}
	srv.poller = p
	srv.active.add()
	go p.run()
	return p, nil
}

const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// errPollerStopped: the poller retired (idle) after the connection was
// handed to it; the connection moves to the current one.
var errPollerStopped = errors.New("engineio: poller stopped")

// arm parks ws in the server's current poller, unless it is closed.
func (ws *wsConn) arm() error {
	ws.pmu.Lock()
	defer ws.pmu.Unlock()
	for !ws.gone {
		err := ws.poller.arm(ws)
		if !errors.Is(err, errPollerStopped) {
			return err
		}
		p, err := ws.session.srv.pollerFor()
		if err != nil {
			return err
		}
		ws.poller = p
	}
	return net.ErrClosed
}

// unpark takes ws out of its poller for good; it runs before its socket is
// closed. Under ws.pmu, it cannot interleave with arm moving ws to a new
// poller.
func (ws *wsConn) unpark() {
	ws.pmu.Lock()
	defer ws.pmu.Unlock()
	ws.gone = true
	if ws.poller != nil {
		ws.poller.remove(ws)
	}
}

// arm registers ws (or re-arms it) for one readiness event.
func (p *poller) arm(ws *wsConn) error {
	ev := syscall.EpollEvent{Events: pollEvents, Fd: ws.fd}
	p.mu.Lock()
	defer p.mu.Unlock()
	if cur, ok := p.conns[ws.fd]; ok && cur == ws {
		return syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, int(ws.fd), &ev)
	}
	if p.conns == nil {
		return errPollerStopped
	}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(ws.fd), &ev); err != nil {
		return err
	}
	p.conns[ws.fd] = ws
	return nil
}

// remove unregisters ws.
func (p *poller) remove(ws *wsConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cur, ok := p.conns[ws.fd]; ok && cur == ws {
		delete(p.conns, ws.fd)
		_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(ws.fd), nil)
	}
}

// run dispatches readiness events until no connection is registered.
func (p *poller) run() {
	defer p.srv.active.done()
	events := make([]syscall.EpollEvent, 128)
	for {
		n, err := syscall.EpollWait(p.epfd, events, int(pollerIdle/time.Millisecond))
		if err != nil && !errors.Is(err, syscall.EINTR) {
			p.stop()
			return
		}
		p.mu.Lock()
		if n <= 0 && len(p.conns) == 0 {
			p.mu.Unlock()
			if p.stopIfIdle() {
				return
			}
			continue
		}
		for _, ev := range events[:max(n, 0)] {
			ws := p.conns[ev.Fd]
			if ws != nil && ws.reading.CompareAndSwap(false, true) {
				p.srv.active.add()
				go ws.burst()
			}
		}
		p.mu.Unlock()
	}
}

// stopIfIdle retires the poller when nothing is registered; the next
// parked connection starts a new one.
func (p *poller) stopIfIdle() bool {
	p.srv.pollerMu.Lock()
	defer p.srv.pollerMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.conns) > 0 {
		return false
	}
	p.conns = nil
	if p.srv.poller == p {
		p.srv.poller = nil
	}
	_ = syscall.Close(p.epfd)
	return true
}

// stop retires the poller after an epoll failure: parked connections are
// closed, since nothing would read them.
func (p *poller) stop() {
	p.srv.pollerMu.Lock()
	if p.srv.poller == p {
		p.srv.poller = nil
	}
	p.srv.pollerMu.Unlock()
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, ws := range conns {
		ws.session.Abort(ErrTransportError)
	}
	_ = syscall.Close(p.epfd)
}

// burst reads what the connection has, then parks it again.
func (ws *wsConn) burst() {
	s := ws.session
	defer s.srv.active.done()
	for {
		if (ws.br == nil || ws.br.Buffered() == 0) && !socketHasData(ws.nc) {
			break
		}
		if !s.readOne(ws) {
			ws.putReader()
			return
		}
	}
	ws.putReader() // parked connections hold no read buffer
	ws.reading.Store(false)
	if err := ws.arm(); err != nil {
		// Closed meanwhile (the descriptor left the poller), or epoll
		// refused: either way nothing will read this connection again.
		s.Abort(ErrTransportClose)
	}
}

// socketHasData peeks at the socket without blocking; a closed or failed
// socket counts as having data, so that the read reports it.
func socketHasData(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
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
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		has = err != syscall.EAGAIN
	})
	return has
}

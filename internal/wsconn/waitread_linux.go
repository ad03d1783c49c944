//go:build linux

package wsconn

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// waitReadable blocks until nc has data to read (or is closed), without
// reading it: it peeks at the socket each time the runtime's poller says
// it may be readable, so a stale readiness never lets it return early.
func waitReadable(nc net.Conn) error {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var peek [1]byte
	var werr error
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := unix.Recvfrom(int(fd), peek[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			return false // nothing yet: wait for the poller
		case err != nil:
			werr = err
		case n == 0:
			// End of stream: let the reader see it.
		}
		return true
	})
	if err != nil {
		return err
	}
	return werr
}

// canWaitReadable reports whether waitReadable can wait for nc without
// reading from it.
func canWaitReadable(nc net.Conn) bool {
	_, ok := nc.(syscall.Conn)
	return ok
}

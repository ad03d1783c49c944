//go:build linux

package engineio

import (
	"net"
	"syscall"
)

// waitReadable blocks until c has data to read (or is closed), without
// reading it: it peeks at the socket each time the runtime's poller says it
// may be readable, so a stale readiness never lets it return early.
func waitReadable(c net.Conn) error {
	sc, ok := c.(syscall.Conn)
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
		n, _, err := syscall.Recvfrom(int(fd), peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR:
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

// canWaitReadable reports whether waitReadable can wait for c without
// reading from it.
func canWaitReadable(c net.Conn) bool {
	_, ok := c.(syscall.Conn)
	return ok
}

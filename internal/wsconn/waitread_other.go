//go:build !linux

package wsconn

import "net"

// waitReadable returns at once where peeking at a socket is not
// implemented: the reader then blocks in its read, as usual.
func waitReadable(net.Conn) error { return nil }

// canWaitReadable reports whether waitReadable can wait for a connection
// without reading from it: not here.
func canWaitReadable(net.Conn) bool { return false }

// socketHasData reports whether c has data to read: never called here,
// since canWaitReadable is false.
func socketHasData(net.Conn) bool { return false }

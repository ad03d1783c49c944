//go:build !linux

package engineio

import "net"

// waitReadable returns at once where peeking at a socket is not
// implemented: the reader then blocks in its read, as usual.
func waitReadable(net.Conn) error { return nil }

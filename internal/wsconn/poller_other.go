//go:build !linux

package wsconn

// epoll is Linux-only; elsewhere every connection is served by ReadLoop on
// a goroutine of its own.
type epoll struct{}

// Park reports false: connections cannot be parked here.
func (p *Poller) Park(*Conn, Handler) bool { return false }

func (c *Conn) unparkLocked() {}

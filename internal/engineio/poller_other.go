//go:build !linux

package engineio

// poller is Linux-only; elsewhere every WebSocket session reads on a
// goroutine of its own.
type poller struct{}

func (*wsConn) unpark() {}

func (srv *Server) park(*Session, *wsConn) bool { return false }

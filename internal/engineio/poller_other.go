//go:build !linux

package engineio

// poller is Linux-only; elsewhere every WebSocket session reads on a
// goroutine of its own.
type poller struct{}

func (*poller) remove(*wsConn) {}

func (srv *Server) park(*Session, *wsConn) bool { return false }

package engineio

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/tradewithai/realtime/internal/wsconn"
)

// NewMemorySession opens a WebSocket session whose peer is w instead of a
// network connection, for tests and benchmarks that need thousands of
// sessions without thousands of sockets. Everything sent on the session is
// framed (unmasked server frames) and written to w by the session's own
// writer goroutine, exactly as it would be written to a client's
// connection; the open packet is the first frame. w is shared by the
// writers of every session it is given to, so it must be safe for
// concurrent use, and it should not block: a stalled w stalls that
// session's writer as a stalled client would.
//
// The returned function delivers what the client sends: passing it an
// Engine.IO message payload (a Socket.IO packet such as "0" for CONNECT)
// acts as the client sending that message, with the same ordering
// guarantees as the server's read loop; like that loop, the caller must
// not call it concurrently for one session. Nothing answers the server's
// pings, so configure a PingInterval longer than the session is needed, or
// it closes with ErrPingTimeout.
//
// The session is tracked like any other: Close, Abort and Server.Shutdown
// end it.
func (srv *Server) NewMemorySession(w io.Writer) (*Session, func(data []byte, binary bool), error) {
	r := &http.Request{
		Method:     http.MethodGet,
		URL:        &url.URL{Path: srv.cfg.Path, RawQuery: "EIO=4&transport=" + TransportWebSocket.String()},
		Header:     http.Header{},
		RemoteAddr: memAddr{}.String(),
		Host:       memAddr{}.String(),
	}
	s := srv.newSession(r, r.URL.Query(), TransportWebSocket)
	if err := srv.start(s, wsconn.New(memConn{w: w})); err != nil {
		return nil, nil, err
	}
	return s, s.receive, nil
}

// memConn is the write half of a net.Conn over an io.Writer; the session
// never reads from it because no read loop runs for a memory session.
type memConn struct{ w io.Writer }

func (c memConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (c memConn) Write(p []byte) (int, error)      { return c.w.Write(p) }
func (c memConn) Close() error                     { return nil }
func (c memConn) LocalAddr() net.Addr              { return memAddr{} }
func (c memConn) RemoteAddr() net.Addr             { return memAddr{} }
func (c memConn) SetDeadline(time.Time) error      { return nil }
func (c memConn) SetReadDeadline(time.Time) error  { return nil }
func (c memConn) SetWriteDeadline(time.Time) error { return nil }

type memAddr struct{}

func (memAddr) Network() string { return "memory" }
func (memAddr) String() string  { return "memory" }

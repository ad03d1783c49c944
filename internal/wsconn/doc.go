// Package wsconn is the server side of a WebSocket connection after the
// upgrade handshake: RFC 6455 frames read and written by hand over a
// net.Conn, and, on Linux, an epoll poller that parks idle connections
// without a goroutine each.
//
// A [Conn] writes every frame, data and control alike, through one
// serialised path: a batch of [Frame] values holds the connection's write
// lock for the whole batch and goes out in one system call where it can
// (one writev over TCP of the frame headers and the shared payloads; a
// small batch, or any batch over TLS, copied into a pooled buffer), and
// nothing is written after a close frame. [Conn.ReadMessage] reads the
// client's next data message through a read buffer borrowed from a pool
// only while there is something to read, answers pings, echoes close
// frames, and refuses what RFC 6455 forbids with the close code that says
// why.
//
// A [Poller] watches parked connections and calls their [Handler] on a
// fresh goroutine when one has data; [Conn.ReadLoop] serves a connection
// that cannot be parked (TLS, other systems) on the caller's goroutine.
// An idle parked connection holds no read buffer and no goroutine.
//
// The package knows nothing of what the messages mean: the Handler its
// owner provides reads them (engineio's sessions do).
//
// Frames are handled here rather than by gorilla/websocket, which performs
// only the upgrade: a gorilla Conn writes each message with a system call
// of its own, and keeps a reader, its buffers and, in practice, a reader
// goroutine per connection, which made an idle connection cost more
// memory than Node's (see docs/BENCHMARKS.md).
package wsconn

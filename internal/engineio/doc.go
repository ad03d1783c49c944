// Package engineio is an Engine.IO protocol v4 server: the transport layer
// under Socket.IO that socket.io-client 4.x speaks.
//
// A [Server] is an http.Handler. It performs the handshake, carries packets
// over HTTP long-polling and WebSocket, upgrades polling sessions to
// WebSocket, sends pings and closes sessions whose peer stops answering.
// Every session has a bounded outbound queue drained by at most one writer at
// a time, so a slow peer never blocks the code that sends to it and never
// grows memory without bound.
//
// A Session's jobs are split by type: a sendQueue (bounds, conflation,
// reuse of its arrays), a receiveGate (the Receiver's threading contract)
// and, over WebSocket, a wsconn.Conn, which frames the messages (package
// wsconn, with the epoll poller that parks idle connections).
//
// The package knows nothing about events, namespaces or rooms: it moves
// opaque messages. Outbound [Message] values hold complete Engine.IO packets,
// so a caller can encode a broadcast once and hand the same bytes to many
// sessions.
package engineio

// Package redisadapter scales a realtime.Gateway out to several instances
// through Redis pub/sub, and lets processes without sockets publish to
// their clients. It speaks the wire protocol of Node's
// @socket.io/redis-adapter 8.x (classic mode) and
// @socket.io/redis-emitter 5.x, so Go gateways, Node Socket.IO 4.x servers
// and emitters written in either language can share one cluster.
//
// An Adapter joins a gateway to the cluster:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	gw, err := realtime.New(realtime.WithAdapter(redisadapter.New(rdb)), ...)
//
// Every broadcast (BroadcastToRoom, SendToUser, BroadcastToSymbol, Emit
// with a Selector), room operation (JoinRooms, LeaveRooms,
// DisconnectSockets) and Gateway.ClusterStats then spans every instance.
// realtime.New starts the adapter: it fails with an error wrapping
// ErrUnavailable when Redis does not answer within the start timeout, and
// with one wrapping realtime.ErrInvalidOption when New was given a nil
// client or an invalid option.
//
// An Emitter publishes from anywhere:
//
//	em := redisadapter.NewEmitter(rdb)
//	err := em.SendToUser(ctx, "user-42", "order:filled", fill)
//
// # Publishing
//
// A gateway broadcast is delivered to local clients first; the adapter then
// encodes it once (MessagePack, as notepack.io would encode the value the
// JSON of the data parses to; a top-level []byte becomes binary) and queues
// it. One goroutine publishes what is queued in pipelined round trips,
// each bounded by the publish timeout (WithPublishTimeout, default 2 s), so
// a slow or absent Redis never blocks the caller: when the queue
// (WithQueueSize, default 1024 messages) is full, publishing returns
// ErrQueueFull, and for a second after a failed round trip
// (WithRetryInterval) it returns ErrUnavailable. Those messages reach the
// local clients only. Messages are not retried: Redis pub/sub does not
// keep them for absent subscribers either.
//
// # Receiving
//
// Broadcasts from other servers are dropped without decoding their packet
// when they select no local client: a one-room broadcast from its channel
// name, any other once its room list is read. Arguments reach clients as
// the JSON socket.io would have sent for the same JavaScript value, except
// that binary arguments are only sent as attachments at the top level of
// the arguments (nested Buffers arrive as {"type":"Buffer","data":[...]}).
//
// When the connection to Redis is lost, local delivery goes on; go-redis
// reconnects and re-subscribes by itself, and cross-instance delivery
// resumes. Stats counts what was published, dropped, delivered and
// skipped.
//
// # Requests between servers
//
// The adapter answers and sends the Node adapter's requests as follows.
//
//   - SOCKETS (io.allSockets): answered with the selected clients' ids;
//     RemoteClientCount sends it to count the other servers' clients.
//   - ALL_ROOMS (adapter.allRooms): answered with the local rooms and
//     client ids.
//   - REMOTE_JOIN, REMOTE_LEAVE, REMOTE_DISCONNECT (socketsJoin,
//     socketsLeave, disconnectSockets): sent and applied in their
//     selector form; the `close` flag is ignored (clients always receive a
//     Socket.IO disconnect). The older per-socket form (sid, room) is
//     ignored.
//   - REMOTE_FETCH (fetchSockets): answered with each selected client's id
//     and rooms; the handshake and data are empty objects, as the gateway
//     keeps credentials on the instance the client connected to.
//   - SERVER_SIDE_EMIT (serverSideEmit): ignored; the gateway has no
//     server-side events, so a Node serverSideEmit with an acknowledgement
//     times out waiting for the Go instances.
//   - BROADCAST (emit with an acknowledgement, io.timeout(ms).emit): not
//     delivered to the gateway's clients, and answered with a client count
//     of zero, so the Node caller completes with its other servers'
//     acknowledgements.
//
// As in Socket.IO, a client's id also addresses it as a room, so
// io.to(socketID) from a Node server reaches a Go-hosted client. Only the
// main namespace "/" is served.
package redisadapter

package realtime

import "context"

// Adapter connects gateway instances, so that broadcasts and room
// operations reach clients on every instance. Without one, a gateway serves
// its own clients only. Package redisadapter provides one over Redis that
// is wire-compatible with Node's @socket.io/redis-adapter.
//
// The gateway always applies an operation to its own clients itself and
// then hands it to the adapter for the other instances.
type Adapter interface {
	// Start connects the adapter; local is how it applies what other
	// instances send to this instance's clients. New calls it once.
	Start(ctx context.Context, local Local) error
	// Publish sends an event, encoded once, to the clients sel picks on
	// the other instances.
	Publish(ctx context.Context, sel Selector, m *Message) error
	// JoinRooms and LeaveRooms make the selected clients of the other
	// instances join or leave rooms.
	JoinRooms(ctx context.Context, sel Selector, rooms []string) error
	LeaveRooms(ctx context.Context, sel Selector, rooms []string) error
	// DisconnectSockets disconnects the selected clients of the other
	// instances.
	DisconnectSockets(ctx context.Context, sel Selector) error
	// RemoteClientCount returns the number of clients connected to the
	// other instances.
	RemoteClientCount(ctx context.Context) (int, error)
	// ServerCount returns the number of instances, this one included.
	ServerCount(ctx context.Context) (int, error)
	// Close disconnects the adapter; Gateway.Shutdown calls it.
	Close() error
}

// Local is this instance, as an Adapter sees it. Its methods apply
// operations to local clients only.
type Local interface {
	// Deliver queues m on the local clients sel picks and returns their
	// number.
	Deliver(sel Selector, m *Message) int
	JoinRooms(sel Selector, rooms []string)
	LeaveRooms(sel Selector, rooms []string)
	DisconnectSockets(sel Selector)
	// Clients returns the selected local clients' ids and rooms (user room
	// included, as Socket.IO lists a socket's rooms).
	Clients(sel Selector) []ClientRooms
	// ClientCount returns the number of local clients.
	ClientCount() int
	// Rooms returns the names of the rooms with local members.
	Rooms() []string
	// HasRoom reports whether a room (or a client id) has local members;
	// adapters use it to drop what concerns no local client cheaply.
	HasRoom(name string) bool
}

// ClientRooms names a client and its rooms.
type ClientRooms struct {
	ID    string
	Rooms []string
}

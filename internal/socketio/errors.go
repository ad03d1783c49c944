package socketio

import "errors"

// Disconnect reasons specific to Socket.IO; the Engine.IO reasons of the
// engineio package (transport close, ping timeout, ...) are passed through.
var (
	// ErrClientDisconnect: the client left the namespace.
	ErrClientDisconnect = errors.New("client namespace disconnect")
	// ErrServerDisconnect: the server disconnected the socket.
	ErrServerDisconnect = errors.New("server namespace disconnect")
	// ErrConnectTimeout: the client did not join a namespace in time.
	ErrConnectTimeout = errors.New("connect timeout")
	// ErrTooManyRefusals: the client kept sending CONNECT packets that were
	// refused, or sent them too fast.
	ErrTooManyRefusals = errors.New("too many connection attempts")
	// ErrHandlerPanic: a handler panicked while handling the client's
	// packet; the connection is closed, the server goes on.
	ErrHandlerPanic = errors.New("handler panic")
	// ErrNotConnected is returned when emitting on a socket that has left
	// its namespace.
	ErrNotConnected = errors.New("socketio: socket not connected")
	// ErrReservedEvent is returned when emitting an event whose name
	// socket.io-client reserves (connect, disconnect, ...): the client
	// would treat the packet as a protocol error and drop the connection.
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrAckTimeout is returned by EmitWithAck when the context ends before
	// the client acknowledges.
	ErrAckTimeout = errors.New("socketio: acknowledgement timed out")
)

// ConnectRefused refuses a namespace connection. Message and Data reach the
// client's connect_error listener as err.message and err.data.
type ConnectRefused struct {
	Message string
	Data    any
}

func (e *ConnectRefused) Error() string { return "socketio: connection refused: " + e.Message }

// IsReservedEvent reports whether name is reserved by Socket.IO and cannot
// be emitted.
func IsReservedEvent(name string) bool { return reservedEvent([]byte(name)) }

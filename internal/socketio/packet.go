// Package socketio implements the Socket.IO protocol v5 packet codec: the text
// wire form of CONNECT, DISCONNECT, EVENT, ACK and CONNECT_ERROR packets, the
// binary variants whose buffers travel as separate Engine.IO messages, and the
// JSON helpers a server needs to read event arguments without decoding them.
//
// Decoding follows the npm socket.io-parser 4.2 Decoder, which is what
// socket.io-client 4.x expects on the other side, with stricter checks where
// the JavaScript version relies on loose type coercion.
package socketio

import (
	"errors"
	"strconv"
)

// PacketType is the first character of a Socket.IO packet.
type PacketType byte

// Socket.IO packet types.
const (
	Connect      PacketType = 0
	Disconnect   PacketType = 1
	Event        PacketType = 2
	Ack          PacketType = 3
	ConnectError PacketType = 4
	BinaryEvent  PacketType = 5
	BinaryAck    PacketType = 6
)

var packetTypeNames = [...]string{
	Connect:      "CONNECT",
	Disconnect:   "DISCONNECT",
	Event:        "EVENT",
	Ack:          "ACK",
	ConnectError: "CONNECT_ERROR",
	BinaryEvent:  "BINARY_EVENT",
	BinaryAck:    "BINARY_ACK",
}

// String returns the protocol name of t, such as "BINARY_EVENT".
func (t PacketType) String() string {
	if int(t) < len(packetTypeNames) {
		return packetTypeNames[t]
	}
	return "PacketType(" + strconv.Itoa(int(t)) + ")"
}

// isBinary reports whether packets of type t carry an attachment count.
func (t PacketType) isBinary() bool { return t == BinaryEvent || t == BinaryAck }

// Packet is one Socket.IO packet. Data is the raw JSON payload (nil when
// absent); in binary packets it still holds {"_placeholder":true,"num":N}
// objects and Attachments holds the buffers, in placeholder number order.
type Packet struct {
	Type        PacketType
	Namespace   string // "/" when the wire form omits it
	ID          uint64 // acknowledgement id, valid when HasID
	HasID       bool
	Data        []byte
	Attachments [][]byte
}

// maxAckID is the largest id a JavaScript peer can represent exactly
// (Number.MAX_SAFE_INTEGER); larger ids would be silently rounded there.
const maxAckID = 1<<53 - 1

// ErrInvalidPacket is wrapped by every decode error, so callers can tell a
// protocol violation (close the connection) from other failures.
var ErrInvalidPacket = errors.New("socketio: invalid packet")

func invalid(msg string) error { return &packetError{msg: msg} }

// packetError keeps decode failures allocation-free: each reason is created
// once and shared, which matters when a hostile peer floods bad packets.
type packetError struct{ msg string }

func (e *packetError) Error() string { return ErrInvalidPacket.Error() + ": " + e.msg }
func (e *packetError) Unwrap() error { return ErrInvalidPacket }

var (
	errEmptyPacket      = invalid("empty packet")
	errUnknownType      = invalid("unknown packet type")
	errIllegalAttach    = invalid("illegal attachments")
	errPlaceholderRange = invalid("illegal attachments: placeholder without a matching attachment")
	errTooManyAttach    = invalid("too many attachments")
	errInvalidAckID     = invalid("invalid ack id")
	errInvalidPayload   = invalid("invalid payload")
	errMissingPayload   = invalid("invalid payload: missing")
	errPlaintextPending = invalid("got plaintext data when reconstructing a packet")
	errBinaryNotPending = invalid("got binary data when not reconstructing a packet")
	errNotArray         = invalid("not a JSON array")
	errNoEventName      = invalid("event name is not a string")
)

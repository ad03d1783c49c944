package engineio

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/tradewithai/realtime/internal/wsconn"
)

// Packet types of Engine.IO protocol v4, as they appear in the first byte of a
// text packet.
const (
	typeOpen    = '0'
	typeClose   = '1'
	typePing    = '2'
	typePong    = '3'
	typeMessage = '4'
	typeUpgrade = '5'
	typeNoop    = '6'
)

// recordSeparator separates packets in a long-polling payload.
const recordSeparator = 0x1e

// ErrParse is wrapped by every error about a malformed packet or payload.
var ErrParse = errors.New("engineio: parse error")

// Message is one outbound Engine.IO packet. It is the WebSocket frame the
// packet travels in, so that a queue of messages is written as it is.
//
// For a text message, Data is the complete packet including its type byte
// (a Socket.IO packet is sent as '4' followed by its encoding). For a binary
// message, Data is the raw payload. Data is never modified after it is
// handed to Send, so the same slice may be shared by any number of sessions.
// Key, when not zero, names what the message updates (one symbol's ticker,
// say): a session whose queue overflows under OverflowConflate keeps only
// the newest queued message of each key.
type Message = wsconn.Frame

// TextMessage returns a text message carrying an Engine.IO "message" packet
// with the given payload. It copies payload; callers that build the packet
// themselves (type byte first) avoid the copy by constructing Message
// directly.
func TextMessage(payload []byte) Message {
	b := make([]byte, 0, len(payload)+1)
	b = append(b, typeMessage)
	return Message{Data: append(b, payload...)}
}

var (
	pingMessage  = Message{Data: []byte{typePing}}
	noopMessage  = Message{Data: []byte{typeNoop}}
	closeMessage = Message{Data: []byte{typeClose}}
)

// packet is one inbound packet after transport decoding.
type packet struct {
	typ    byte // one of the type constants; typeMessage for binary data
	data   []byte
	binary bool
}

// appendPayload appends the long-polling encoding of msgs to dst: packets
// separated by 0x1e, binary data as 'b' followed by base64.
func appendPayload(dst []byte, msgs []Message) []byte {
	for i, m := range msgs {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		if m.Binary {
			dst = append(dst, 'b')
			dst = base64.StdEncoding.AppendEncode(dst, m.Data)
			continue
		}
		dst = append(dst, m.Data...)
	}
	return dst
}

// decodePayload splits a long-polling request body into packets. The
// returned packets alias body, except for binary data, which is decoded into
// new slices.
func decodePayload(body []byte, visit func(packet) error) error {
	if len(body) == 0 {
		return fmt.Errorf("%w: empty payload", ErrParse)
	}
	for start := 0; start <= len(body); {
		end := start
		for end < len(body) && body[end] != recordSeparator {
			end++
		}
		p, err := decodeTextPacket(body[start:end], true)
		if err != nil {
			return err
		}
		if err := visit(p); err != nil {
			return err
		}
		start = end + 1
	}
	return nil
}

// decodeTextPacket decodes one text packet. With base64Binary, a leading 'b'
// marks base64-encoded binary data (long-polling only).
func decodeTextPacket(b []byte, base64Binary bool) (packet, error) {
	if len(b) == 0 {
		return packet{}, fmt.Errorf("%w: empty packet", ErrParse)
	}
	if base64Binary && b[0] == 'b' {
		data := make([]byte, base64.StdEncoding.DecodedLen(len(b)-1))
		n, err := base64.StdEncoding.Decode(data, b[1:])
		if err != nil {
			return packet{}, fmt.Errorf("%w: invalid base64 payload: %v", ErrParse, err)
		}
		return packet{typ: typeMessage, data: data[:n], binary: true}, nil
	}
	switch b[0] {
	case typeOpen, typeClose, typePing, typePong, typeMessage, typeUpgrade, typeNoop:
		return packet{typ: b[0], data: b[1:]}, nil
	}
	return packet{}, fmt.Errorf("%w: unknown packet type %q", ErrParse, b[0])
}

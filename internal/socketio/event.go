package socketio

import (
	"encoding/json"
	"fmt"
)

// Args are the arguments of an event or an acknowledgement as the client
// sent them: raw JSON values, and the binary attachments that placeholders
// in them refer to.
type Args struct {
	Raw         []json.RawMessage
	Attachments [][]byte
}

// Len returns the number of arguments.
func (a Args) Len() int { return len(a.Raw) }

// Binary returns argument i's bytes when it is a binary attachment.
func (a Args) Binary(i int) ([]byte, bool) {
	if i < 0 || i >= len(a.Raw) {
		return nil, false
	}
	n, ok := PlaceholderNum(a.Raw[i])
	if !ok || n >= len(a.Attachments) {
		return nil, false
	}
	return a.Attachments[n], true
}

// Decode unmarshals argument i into v. A binary argument decodes into a
// *[]byte.
func (a Args) Decode(i int, v any) error {
	if i < 0 || i >= len(a.Raw) {
		return fmt.Errorf("socketio: argument %d missing (have %d)", i, len(a.Raw))
	}
	if b, ok := a.Binary(i); ok {
		if p, ok := v.(*[]byte); ok {
			*p = b
			return nil
		}
	}
	return json.Unmarshal(a.Raw[i], v)
}

// appendRaw appends the arguments as JSON array elements, keeping
// placeholders, so that an event can be passed on with its attachments.
func (a Args) appendRaw(dst []byte) []byte {
	for i, r := range a.Raw {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, r...)
	}
	return dst
}

// ClientEvent is an event a client emitted.
type ClientEvent struct {
	Name string
	Args Args

	ackID  uint64
	hasAck bool
}

// WantsAck reports whether the client asked for an acknowledgement.
func (e *ClientEvent) WantsAck() bool { return e.hasAck }

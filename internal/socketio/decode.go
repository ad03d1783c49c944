package socketio

import (
	"bytes"
	"encoding/json"
)

// defaultMaxAttachments matches the maxAttachments default of socket.io-parser.
const defaultMaxAttachments = 10

// Decoder turns Engine.IO message payloads into packets; it holds the state
// of a binary packet waiting for its attachments. The zero value is ready to
// use. Not safe for concurrent use.
type Decoder struct {
	// MaxAttachments caps the attachment count a binary packet header may
	// announce; 0 (or a negative value) means 10. A header announcing more
	// is an error, so a peer cannot make the decoder buffer without bound.
	MaxAttachments int

	pending *Packet // binary packet collecting attachments
	want    int     // attachment count announced by pending's header
	nsp     string  // last custom namespace, reused so steady traffic does not allocate it
}

// Decode consumes one Engine.IO message payload (text: without the leading
// Engine.IO '4'; binary: raw bytes). It returns (nil, nil) while attachments
// are pending and the complete packet once the last one arrives.
//
// The decoder keeps references to msg: p.Data may alias a text msg and
// p.Attachments hold the binary msgs themselves, so the caller must not reuse
// those buffers. Every error wraps ErrInvalidPacket and leaves the decoder
// reset; the peer has broken the protocol and its connection should be closed.
func (d *Decoder) Decode(msg []byte, binary bool) (*Packet, error) {
	if binary {
		p := d.pending
		if p == nil {
			return nil, errBinaryNotPending
		}
		p.Attachments = append(p.Attachments, msg)
		if len(p.Attachments) < d.want {
			return nil, nil
		}
		d.pending, d.want = nil, 0
		return complete(p)
	}
	if d.pending != nil {
		d.Reset()
		return nil, errPlaintextPending
	}
	p, n, err := d.parse(msg)
	if err != nil {
		return nil, err
	}
	if !p.Type.isBinary() {
		return p, nil
	}
	if n == 0 {
		// Nothing to wait for. socket.io-parser refuses a zero count
		// instead; no encoder writes one for a packet without buffers.
		return complete(p)
	}
	p.Attachments = make([][]byte, 0, n)
	d.pending, d.want = p, n
	return nil, nil
}

// Pending reports whether a binary packet is waiting for attachments.
func (d *Decoder) Pending() bool { return d.pending != nil }

// PendingNamespace returns the namespace of the binary packet waiting for
// attachments ("" when none is).
func (d *Decoder) PendingNamespace() string {
	if d.pending == nil {
		return ""
	}
	return d.pending.Namespace
}

// Reset drops a partially received binary packet.
func (d *Decoder) Reset() { d.pending, d.want = nil, 0 }

func (d *Decoder) maxAttachments() int {
	if d.MaxAttachments <= 0 {
		return defaultMaxAttachments
	}
	return d.MaxAttachments
}

// parse decodes the text form
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// and returns the announced attachment count for binary types.
func (d *Decoder) parse(msg []byte) (*Packet, int, error) {
	// socket.io-parser reads an empty message, or one starting with
	// whitespace, as CONNECT because Number("") is 0; no encoder sends that.
	if len(msg) == 0 {
		return nil, 0, errEmptyPacket
	}
	t := PacketType(msg[0] - '0')
	if t > BinaryAck {
		return nil, 0, errUnknownType
	}
	i := 1

	// The reference accepts anything JavaScript's Number() converts to a
	// positive integer here ("0x1", " 1", "1e0"); only decimal digits are
	// accepted, which is all a real encoder writes.
	n := 0
	if t.isBinary() {
		start := i
		for ; i < len(msg) && isDigit(msg[i]); i++ {
			if n <= maxCount {
				n = n*10 + int(msg[i]-'0')
			}
		}
		if i == start || i == len(msg) || msg[i] != '-' {
			return nil, 0, errIllegalAttach
		}
		if n > d.maxAttachments() {
			return nil, 0, errTooManyAttach
		}
		i++
	}

	nsp := "/"
	if i < len(msg) && msg[i] == '/' {
		end := len(msg)
		if j := bytes.IndexByte(msg[i:], ','); j >= 0 {
			end = i + j
		}
		nsp = d.namespace(msg[i:end])
		i = end + 1
	}

	// Digits only: socket.io-parser's Number() test also takes whitespace
	// for id digits, and rounds ids past 2^53 that it cannot hold exactly.
	var id uint64
	hasID := false
	if i < len(msg) && isDigit(msg[i]) {
		hasID = true
		for ; i < len(msg) && isDigit(msg[i]); i++ {
			if id <= maxAckID {
				id = id*10 + uint64(msg[i]-'0')
			}
		}
		if id > maxAckID {
			return nil, 0, errInvalidAckID
		}
	}

	var data []byte
	if i < len(msg) {
		data = msg[i:len(msg):len(msg)]
		if !json.Valid(data) || !payloadValid(t, data) {
			return nil, 0, errInvalidPayload
		}
	} else if t != Connect && t != Disconnect {
		// socket.io-parser lets these through and leaves the check to
		// isPacketValid; the spec says the payload is mandatory.
		return nil, 0, errMissingPayload
	}

	return &Packet{Type: t, Namespace: nsp, ID: id, HasID: hasID, Data: data}, n, nil
}

// maxCount bounds digit accumulation so a long digit run cannot overflow.
const maxCount = 1 << 30

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (d *Decoder) namespace(b []byte) string {
	switch string(b) {
	case "/":
		return "/"
	case d.nsp:
		return d.nsp
	}
	d.nsp = string(b)
	return d.nsp
}

// payloadValid mirrors Decoder.isPayloadValid of socket.io-parser on a payload
// already known to be valid JSON.
func payloadValid(t PacketType, data []byte) bool {
	i := skipWS(data, 0)
	switch c := at(data, i); t {
	case Connect:
		return c == '{'
	case ConnectError:
		return c == '{' || c == '"'
	case Event, BinaryEvent:
		return c == '[' && validEventName(data, skipWS(data, i+1))
	case Ack, BinaryAck:
		return c == '['
	default: // Disconnect carries no payload
		return false
	}
}

// validEventName checks the first array element at data[i]: a number, or a
// string that is not one of socket.io-parser's RESERVED_EVENTS.
func validEventName(data []byte, i int) bool {
	switch c := at(data, i); {
	case c == '-' || isDigit(c):
		return true
	case c == '"':
		end, escaped := skipString(data, i)
		if end < 0 {
			return false
		}
		if !escaped {
			return !reservedEvent(data[i+1 : end-1])
		}
		name, ok := unquote(data[i:end])
		return ok && !reservedEvent([]byte(name))
	default:
		return false
	}
}

// reservedEvent reports whether name has a special meaning to Socket.IO or
// to Node's EventEmitter and so must never arrive as an event.
func reservedEvent(name []byte) bool {
	switch string(name) {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// complete checks a binary packet once its attachments are in: like
// reconstructPacket in socket.io-parser, every object whose "_placeholder" is
// true must reference an attachment that exists.
func complete(p *Packet) (*Packet, error) {
	if !placeholdersValid(p.Data, len(p.Attachments)) {
		return nil, errPlaceholderRange
	}
	return p, nil
}

var placeholderKey = []byte("_placeholder")

func placeholdersValid(data []byte, n int) bool {
	// Most payloads can be cleared without a walk: a placeholder key needs
	// either its literal spelling or an escape sequence.
	if !bytes.Contains(data, placeholderKey) && bytes.IndexByte(data, '\\') < 0 {
		return true
	}
	_, ok := walkPlaceholders(data, skipWS(data, 0), n)
	return ok
}

// walkPlaceholders visits the JSON value at data[i] (valid JSON) and returns
// the index after it and whether all placeholders in it are within n. A
// placeholder object replaces its whole subtree in the reference decoder, so
// errors below it are ignored; that is decided only after its last member
// (duplicate keys: the last one wins, as in JSON.parse), hence one pass that
// carries child results up instead of failing early.
func walkPlaceholders(data []byte, i, n int) (int, bool) {
	switch at(data, i) {
	case '[':
		i = skipWS(data, i+1)
		if at(data, i) == ']' {
			return i + 1, true
		}
		ok := true
		for {
			var elemOK bool
			if i, elemOK = walkPlaceholders(data, i, n); i < 0 {
				return -1, false
			}
			ok = ok && elemOK
			i = skipWS(data, i)
			if at(data, i) != ',' {
				return i + 1, ok
			}
			i = skipWS(data, i+1)
		}
	case '{':
		i = skipWS(data, i+1)
		if at(data, i) == '}' {
			return i + 1, true
		}
		childOK, isPlaceholder := true, false
		var num []byte
		for {
			keyEnd, escaped := skipString(data, i)
			if keyEnd < 0 {
				return -1, false
			}
			key := memberKey(data[i:keyEnd], escaped)
			i = skipWS(data, skipWS(data, keyEnd)+1) // past ':'
			start := i
			if c := at(data, i); c == '{' || c == '[' {
				var ok bool
				i, ok = walkPlaceholders(data, i, n)
				childOK = childOK && ok
			} else {
				i = skipValue(data, i)
			}
			if i < 0 {
				return -1, false
			}
			switch key {
			case keyPlaceholder:
				isPlaceholder = string(data[start:i]) == "true"
			case keyNum:
				num = data[start:i]
			}
			i = skipWS(data, i)
			if at(data, i) != ',' {
				i++
				break
			}
			i = skipWS(data, i+1)
		}
		if isPlaceholder {
			k, ok := placeholderIndex(num)
			return i, ok && k < n
		}
		return i, childOK
	default:
		return skipValue(data, i), true
	}
}

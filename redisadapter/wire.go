package redisadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/internal/socketio"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// The wire format is @socket.io/redis-adapter 8.x's classic (pub/sub)
// mode. A broadcast is published on "<key>#<nsp>#", or on
// "<key>#<nsp>#<room>#" when it targets exactly one room, as the
// MessagePack array [uid, packet, opts]:
//
//	packet = {type: 2, data: [event, ...args], nsp: "/"}
//	opts   = {rooms: [...], except: [...], flags: {...}}
//
// Requests between servers are published on "<key>-request#<nsp>#" and
// answered on "<key>-response#<nsp>#" (or "<key>-response#<nsp>#<uid>#"),
// as JSON objects, except broadcasts with acknowledgements (MessagePack).

// namespace is the one Socket.IO namespace the gateway serves.
const namespace = "/"

// Socket.IO packet types carried in broadcasts.
const (
	packetEvent       = 2
	packetBinaryEvent = 5
)

// Request types of the Node adapter.
const (
	reqSockets          = 0
	reqAllRooms         = 1
	reqRemoteJoin       = 2
	reqRemoteLeave      = 3
	reqRemoteDisconnect = 4
	reqRemoteFetch      = 5
	reqServerSideEmit   = 6
	reqBroadcast        = 7
	reqBroadcastCount   = 8
)

// channels names one namespace's Redis channels.
type channels struct {
	broadcast string // "socket.io#/#"; rooms add "<room>#"
	request   string
	response  string
}

func newChannels(key string) channels {
	return channels{
		broadcast: key + "#" + namespace + "#",
		request:   key + "-request#" + namespace + "#",
		response:  key + "-response#" + namespace + "#",
	}
}

// broadcastChannel returns the channel a broadcast to sel is published on:
// a server subscribed to the namespace can then drop a one-room broadcast
// from the channel name alone when it has no member of that room.
func (c channels) broadcastChannel(sel realtime.Selector) string {
	if len(sel.Rooms) == 1 {
		return c.broadcast + sel.Rooms[0] + "#"
	}
	return c.broadcast
}

// specificResponse returns the response channel of the server uid.
func (c channels) specificResponse(uid string) string {
	return c.response + uid + "#"
}

// encodeBroadcast returns the MessagePack message [uid, packet, opts] for
// an event to the clients sel picks.
func encodeBroadcast(uid string, sel realtime.Selector, event string, args []any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(&buf)
	err := errors.Join(
		enc.EncodeArrayLen(3),
		enc.EncodeString(uid),
		enc.EncodeMapLen(3),
		enc.EncodeString("type"),
		enc.EncodeInt(packetEvent),
		enc.EncodeString("data"),
		enc.EncodeArrayLen(1+len(args)),
		enc.EncodeString(event),
	)
	if err != nil {
		return nil, err
	}
	for i, a := range args {
		if err := encodeArg(enc, a); err != nil {
			return nil, fmt.Errorf("redisadapter: event %q: arg %d: %w", event, i, err)
		}
	}
	err = errors.Join(
		enc.EncodeString("nsp"),
		enc.EncodeString(namespace),
		enc.EncodeMapLen(3),
		enc.EncodeString("rooms"),
		encodeStrings(enc, sel.Rooms),
		enc.EncodeString("except"),
		encodeStrings(enc, sel.Except),
		enc.EncodeString("flags"),
		enc.EncodeMapLen(0),
	)
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encodeStrings(enc *msgpack.Encoder, list []string) error {
	if err := enc.EncodeArrayLen(len(list)); err != nil {
		return err
	}
	for _, s := range list {
		if err := enc.EncodeString(s); err != nil {
			return err
		}
	}
	return nil
}

// messageArgs returns a message's arguments as encodeArg takes them: the
// JSON the gateway encoded once, and binary attachments as []byte.
func messageArgs(m *realtime.Message) ([]any, error) {
	_, raw, err := socketio.ParseEvent(m.Data())
	if err != nil {
		return nil, err
	}
	atts := m.Attachments()
	args := make([]any, len(raw))
	for i, r := range raw {
		if n, ok := socketio.PlaceholderNum(r); ok && n < len(atts) {
			args[i] = atts[n]
			continue
		}
		args[i] = r
	}
	return args, nil
}

// encodeArg writes one event argument as a Node server would hold it: a
// top-level []byte as binary (a Buffer), anything else as the value its
// JSON encoding parses to.
func encodeArg(enc *msgpack.Encoder, a any) error {
	switch v := a.(type) {
	case nil:
		return enc.EncodeNil()
	case []byte:
		return enc.EncodeBytes(v)
	case json.RawMessage:
		if v == nil {
			return enc.EncodeNil()
		}
		return encodeJSON(enc, v)
	case string:
		return enc.EncodeString(v)
	case bool:
		return enc.EncodeBool(v)
	case int:
		return enc.EncodeInt(int64(v))
	case int64:
		return enc.EncodeInt(v)
	case int32:
		return enc.EncodeInt(int64(v))
	case uint:
		return enc.EncodeUint(uint64(v))
	case uint64:
		return enc.EncodeUint(v)
	case uint32:
		return enc.EncodeUint(uint64(v))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("unsupported value %v", v)
		}
		return encodeFloat(enc, v)
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return encodeJSON(enc, data)
	}
}

// header reads a broadcast message's uid and returns it with the packet's
// bytes, leaving the reader at the opts.
func (m *msgReader) header(msg string) (uid, packet string, err error) {
	m.reset(msg)
	n, err := m.arrayLen()
	if err != nil {
		return "", "", err
	}
	if n < 3 {
		return "", "", fmt.Errorf("%w: broadcast of %d elements, want 3", errBadMsgpack, n)
	}
	if uid, err = m.str(); err != nil {
		return "", "", err
	}
	start := m.offset()
	if err := m.dec.Skip(); err != nil {
		return "", "", err
	}
	return uid, msg[start:m.offset()], nil
}

// selector reads a broadcast's opts.
func (m *msgReader) selector() (realtime.Selector, error) {
	var sel realtime.Selector
	n, err := m.mapLen()
	if err != nil {
		return sel, err
	}
	for range n {
		key, err := m.str()
		if err != nil {
			return sel, err
		}
		switch key {
		case "rooms":
			sel.Rooms, err = m.rooms()
		case "except":
			sel.Except, err = m.rooms()
		default:
			err = m.dec.Skip()
		}
		if err != nil {
			return sel, err
		}
	}
	return sel, nil
}

// rooms reads a list of room names; numbers, which Node allows as room
// names, become their decimal form.
func (m *msgReader) rooms() ([]string, error) {
	c, err := m.dec.PeekCode()
	if err != nil {
		return nil, err
	}
	if c == msgpcode.Nil {
		return nil, m.dec.DecodeNil()
	}
	n, err := m.arrayLen()
	if err != nil || n == 0 {
		return nil, err
	}
	rooms := make([]string, 0, n)
	for range n {
		c, err := m.dec.PeekCode()
		if err != nil {
			return nil, err
		}
		if msgpcode.IsString(c) {
			s, err := m.dec.DecodeString()
			if err != nil {
				return nil, err
			}
			rooms = append(rooms, s)
			continue
		}
		f, err := m.dec.DecodeFloat64()
		if err != nil {
			return nil, fmt.Errorf("%w: room name of code 0x%x", errBadMsgpack, c)
		}
		rooms = append(rooms, strconv.FormatFloat(f, 'f', -1, 64))
	}
	return rooms, nil
}

func (m *msgReader) str() (string, error) {
	c, err := m.dec.PeekCode()
	if err != nil {
		return "", err
	}
	if !msgpcode.IsString(c) {
		return "", fmt.Errorf("%w: want a string, got code 0x%x", errBadMsgpack, c)
	}
	return m.dec.DecodeString()
}

// event is a decoded broadcast packet.
type event struct {
	name string
	args []any // json.RawMessage, or []byte for binary arguments
}

// packet decodes a broadcast's packet. ok is false for packets that are
// not events of the gateway's namespace, which the gateway ignores.
func (m *msgReader) packet(packet string) (ev event, ok bool, err error) {
	m.reset(packet)
	n, err := m.mapLen()
	if err != nil {
		return ev, false, err
	}
	typ, nsp, data := int64(-1), namespace, ""
	for range n {
		key, err := m.str()
		if err != nil {
			return ev, false, err
		}
		switch key {
		case "type":
			typ, err = m.dec.DecodeInt64()
		case "nsp":
			if c, _ := m.dec.PeekCode(); c == msgpcode.Nil {
				err = m.dec.DecodeNil()
			} else {
				nsp, err = m.str()
			}
		case "data":
			start := m.offset()
			err = m.dec.Skip()
			data = packet[start:m.offset()]
		default:
			err = m.dec.Skip()
		}
		if err != nil {
			return ev, false, err
		}
	}
	if (typ != packetEvent && typ != packetBinaryEvent) || nsp != namespace {
		return ev, false, nil
	}
	if data == "" {
		return ev, false, fmt.Errorf("%w: event packet without data", errBadMsgpack)
	}
	m.reset(data)
	if n, err = m.arrayLen(); err != nil {
		return ev, false, err
	}
	if n == 0 {
		return ev, false, fmt.Errorf("%w: event without a name", errBadMsgpack)
	}
	if ev.name, err = m.str(); err != nil {
		return ev, false, err
	}
	ev.args = make([]any, 0, n-1)
	for i := 1; i < n; i++ {
		c, err := m.dec.PeekCode()
		if err != nil {
			return ev, false, err
		}
		if msgpcode.IsBin(c) {
			b, err := m.binary()
			if err != nil {
				return ev, false, err
			}
			ev.args = append(ev.args, b)
			continue
		}
		js, err := m.appendJSON(nil, 0)
		if err != nil {
			return ev, false, err
		}
		ev.args = append(ev.args, json.RawMessage(js))
	}
	return ev, true, nil
}

// Requests and responses are JSON, as the Node adapter writes them.

// roomList decodes a JSON list of room names, numbers included.
type roomList []string

// UnmarshalJSON accepts strings and numbers.
func (r *roomList) UnmarshalJSON(data []byte) error {
	var raw []any
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	list := make([]string, 0, len(raw))
	for _, v := range raw {
		switch v := v.(type) {
		case string:
			list = append(list, v)
		case float64:
			list = append(list, strconv.FormatFloat(v, 'f', -1, 64))
		default:
			return fmt.Errorf("redisadapter: room name %v is neither a string nor a number", v)
		}
	}
	*r = list
	return nil
}

// requestOpts selects sockets in a request.
type requestOpts struct {
	Rooms  roomList `json:"rooms"`
	Except roomList `json:"except"`
}

func (o *requestOpts) selector() realtime.Selector {
	return realtime.Selector{Rooms: o.Rooms, Except: o.Except}
}

// inRequest is any request another server may send.
type inRequest struct {
	UID       string       `json:"uid"`
	RequestID string       `json:"requestId"`
	Type      *int         `json:"type"`
	Rooms     roomList     `json:"rooms"`
	Opts      *requestOpts `json:"opts"`
}

// decodeRequest decodes a JSON request or the header (uid, requestId,
// type) of a MessagePack one.
func (m *msgReader) decodeRequest(msg string) (*inRequest, error) {
	req := new(inRequest)
	if msg == "" {
		return nil, errBadMsgpack
	}
	if msg[0] == '{' {
		if err := json.Unmarshal([]byte(msg), req); err != nil {
			return nil, err
		}
		if req.Type == nil {
			return nil, errors.New("redisadapter: request without a type")
		}
		return req, nil
	}
	m.reset(msg)
	n, err := m.mapLen()
	if err != nil {
		return nil, err
	}
	for range n {
		key, err := m.str()
		if err != nil {
			return nil, err
		}
		switch key {
		case "uid":
			req.UID, err = m.str()
		case "requestId":
			req.RequestID, err = m.str()
		case "type":
			var t int
			t, err = m.dec.DecodeInt()
			req.Type = &t
		default:
			err = m.dec.Skip()
		}
		if err != nil {
			return nil, err
		}
	}
	if req.Type == nil {
		return nil, errors.New("redisadapter: request without a type")
	}
	return req, nil
}

// selectorRequest is REMOTE_JOIN, REMOTE_LEAVE or REMOTE_DISCONNECT.
type selectorRequest struct {
	UID   string   `json:"uid,omitempty"`
	Type  int      `json:"type"`
	Opts  wireOpts `json:"opts"`
	Rooms []string `json:"rooms,omitempty"`
	Close *bool    `json:"close,omitempty"`
}

// wireOpts is a selector as requests carry it.
type wireOpts struct {
	Rooms  []string `json:"rooms"`
	Except []string `json:"except"`
}

func newWireOpts(sel realtime.Selector) wireOpts {
	o := wireOpts{Rooms: sel.Rooms, Except: sel.Except}
	if o.Rooms == nil {
		o.Rooms = []string{}
	}
	if o.Except == nil {
		o.Except = []string{}
	}
	return o
}

// encodeSelectorRequest returns a REMOTE_JOIN or REMOTE_LEAVE request (with
// rooms) or a REMOTE_DISCONNECT (without).
func encodeSelectorRequest(uid string, typ int, sel realtime.Selector, rooms []string) ([]byte, error) {
	req := selectorRequest{UID: uid, Type: typ, Opts: newWireOpts(sel)}
	if typ == reqRemoteDisconnect {
		closeConn := false
		req.Close = &closeConn
	} else {
		req.Rooms = rooms
		if req.Rooms == nil {
			req.Rooms = []string{}
		}
	}
	return json.Marshal(req)
}

// socketsRequest asks every server for the ids of its sockets in rooms
// (all sockets when rooms is empty).
type socketsRequest struct {
	UID       string   `json:"uid"`
	RequestID string   `json:"requestId"`
	Type      int      `json:"type"`
	Rooms     []string `json:"rooms"`
}

// Responses start with the request id, as the Node adapter writes them, so
// a server can ignore the answers to other servers' requests unparsed.

type socketsResponse struct {
	RequestID string   `json:"requestId"`
	Sockets   []string `json:"sockets"`
}

type roomsResponse struct {
	RequestID string   `json:"requestId"`
	Rooms     []string `json:"rooms"`
}

type fetchResponse struct {
	RequestID string          `json:"requestId"`
	Sockets   []fetchedSocket `json:"sockets"`
}

// fetchedSocket describes a socket to a Node server's fetchSockets. The
// gateway does not expose handshakes to the cluster: clients' credentials
// stay on the instance they connected to.
type fetchedSocket struct {
	ID        string         `json:"id"`
	Handshake map[string]any `json:"handshake"`
	Rooms     []string       `json:"rooms"`
	Data      map[string]any `json:"data"`
}

type countResponse struct {
	Type        int    `json:"type"`
	RequestID   string `json:"requestId"`
	ClientCount int    `json:"clientCount"`
}

// responseID returns the request id a JSON response answers, reading only
// its first field when it is "requestId", as with every response written
// by Node or Go servers.
func responseID(msg string) (string, bool) {
	const prefix = `{"requestId":"`
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		rest := msg[len(prefix):]
		for i := 0; i < len(rest); i++ {
			switch rest[i] {
			case '"':
				return rest[:i], true
			case '\\':
				i = len(rest)
			}
		}
	}
	if msg == "" || msg[0] != '{' {
		return "", false
	}
	var r struct {
		RequestID string `json:"requestId"`
	}
	if err := json.Unmarshal([]byte(msg), &r); err != nil || r.RequestID == "" {
		return "", false
	}
	return r.RequestID, true
}

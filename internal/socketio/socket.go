package socketio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tradewithai/realtime/internal/engineio"
)

// Socket is a client's membership of one namespace.
type Socket struct {
	id        string
	conn      *Conn
	nsp       *Namespace
	connected atomic.Bool
	value     any // the application's state, set during Connect
	ctx       socketContext

	mu        sync.Mutex
	nextAckID uint64
	acks      map[uint64]chan Args
}

// ID returns the socket id the client sees as socket.id.
func (s *Socket) ID() string { return s.id }

// Namespace returns the namespace's name.
func (s *Socket) Namespace() string { return s.nsp.name }

// Conn returns the connection the socket belongs to.
func (s *Socket) Conn() *Conn { return s.conn }

// Handshake returns the HTTP request that opened the connection.
func (s *Socket) Handshake() *engineio.Handshake { return s.conn.sess.Handshake() }

// Transport returns the transport in use ("polling" or "websocket").
func (s *Socket) Transport() string { return s.conn.sess.Transport().String() }

// Context is canceled when the socket leaves its namespace or its
// connection starts closing.
func (s *Socket) Context() context.Context { return &s.ctx }

// AfterCancel arranges for f to run once the socket's Context is canceled,
// on the goroutine that cancels it (at once if it is canceled already);
// stop unregisters f. Unlike context.AfterFunc it leaves nothing allocated
// in the socket once stopped, and f must not block.
func (s *Socket) AfterCancel(f func()) (stop func() bool) {
	stop, ok := s.ctx.register(f)
	if !ok {
		f()
	}
	return stop
}

// Connected reports whether the socket is still in its namespace.
func (s *Socket) Connected() bool { return s.connected.Load() }

// SetValue attaches application state to the socket. Call it from
// Handler.Connect, before other goroutines can see the socket.
func (s *Socket) SetValue(v any) { s.value = v }

// Value returns what SetValue stored.
func (s *Socket) Value() any { return s.value }

// Emit sends an event with JSON-marshalled arguments; top-level []byte
// arguments travel as binary attachments.
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, args, 0, false)
}

func (s *Socket) emit(event string, args []any, id uint64, hasID bool) error {
	if !s.connected.Load() {
		return ErrNotConnected
	}
	text, attachments, err := AppendEvent([]byte{'4'}, s.nsp.name, id, hasID, event, args)
	if err != nil {
		return err
	}
	return s.send(text, attachments)
}

func (s *Socket) send(text []byte, attachments [][]byte) error {
	if len(attachments) == 0 {
		return s.conn.sess.Send(engineio.Message{Data: text})
	}
	msgs := make([]engineio.Message, 0, 1+len(attachments))
	msgs = append(msgs, engineio.Message{Data: text})
	for _, a := range attachments {
		msgs = append(msgs, engineio.Message{Data: a, Binary: true})
	}
	return s.conn.sess.Send(msgs...)
}

// SendPrepared queues a packet encoded once for many sockets.
func (s *Socket) SendPrepared(p *Prepared) error {
	if !s.connected.Load() {
		return ErrNotConnected
	}
	return s.conn.sess.Send(p.msgs...)
}

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx ends (ErrAckTimeout) or the socket disconnects (ErrNotConnected).
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	ch := make(chan Args, 1)
	s.mu.Lock()
	if s.acks == nil {
		s.acks = make(map[uint64]chan Args)
	}
	id := s.nextAckID
	s.nextAckID++
	s.acks[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
	}()
	if err := s.emit(event, args, id, true); err != nil {
		return Args{}, err
	}
	select {
	case a, ok := <-ch:
		if !ok {
			return Args{}, ErrNotConnected
		}
		return a, nil
	case <-ctx.Done():
		return Args{}, ErrAckTimeout
	}
}

// Ack answers an event whose sender asked for an acknowledgement; it does
// nothing when none was asked for.
func (s *Socket) Ack(e *ClientEvent, args ...any) error {
	if !e.hasAck {
		return nil
	}
	text, attachments, err := AppendAck([]byte{'4'}, s.nsp.name, e.ackID, args)
	if err != nil {
		return err
	}
	return s.send(text, attachments)
}

// AckArgs answers an event with raw arguments, attachments included, for
// passing a client's values back unchanged.
func (s *Socket) AckArgs(e *ClientEvent, a Args) error {
	if !e.hasAck {
		return nil
	}
	return s.sendRaw(Ack, e.ackID, true, nil, a)
}

// EmitArgs emits an event with raw arguments, attachments included.
func (s *Socket) EmitArgs(event string, a Args) error {
	name, _ := json.Marshal(event)
	return s.sendRaw(Event, 0, false, name, a)
}

func (s *Socket) sendRaw(t PacketType, id uint64, hasID bool, name []byte, a Args) error {
	if !s.connected.Load() {
		return ErrNotConnected
	}
	data := append(make([]byte, 0, 64), '[')
	data = append(data, name...)
	if name != nil && len(a.Raw) > 0 {
		data = append(data, ',')
	}
	data = append(a.appendRaw(data), ']')
	if len(a.Attachments) > 0 {
		t += BinaryEvent - Event // EVENT→BINARY_EVENT, ACK→BINARY_ACK
	}
	p := Packet{Type: t, Namespace: s.nsp.name, ID: id, HasID: hasID, Data: data, Attachments: a.Attachments}
	return s.send(AppendPacket([]byte{'4'}, &p), a.Attachments)
}

// Disconnect removes the socket from its namespace and tells the client,
// which then does not reconnect by itself. The connection stays open for
// the client's other namespaces.
func (s *Socket) Disconnect() { s.disconnect(ErrServerDisconnect, true) }

// DisconnectFor is Disconnect with the reason Handler.Disconnect receives,
// which wraps ErrServerDisconnect.
func (s *Socket) DisconnectFor(reason error) {
	s.disconnect(fmt.Errorf("%w: %w", ErrServerDisconnect, reason), true)
}

func (s *Socket) disconnect(reason error, notify bool) {
	if !s.conn.remove(s) {
		return
	}
	if notify {
		buf := append([]byte{'4'}, AppendPacket(nil, &Packet{Type: Disconnect, Namespace: s.nsp.name})...)
		_ = s.conn.sess.Send(engineio.Message{Data: buf})
	}
	s.left(reason)
}

// left runs once the socket is out of its connection's list.
func (s *Socket) left(reason error) {
	if !s.connected.CompareAndSwap(true, false) {
		return
	}
	s.ctx.cancel()
	s.mu.Lock()
	for id, ch := range s.acks {
		close(ch)
		delete(s.acks, id)
	}
	s.mu.Unlock()
	s.nsp.handler.Disconnect(s, reason)
}

func (s *Socket) onEvent(p *Packet) {
	name, raw, err := ParseEvent(p.Data)
	if err != nil {
		// The decoder has validated the payload; a numeric event name is
		// legal on the wire but has no handler here.
		return
	}
	e := ClientEvent{Name: name, Args: Args{Raw: raw, Attachments: p.Attachments}, ackID: p.ID, hasAck: p.HasID}
	s.nsp.handler.Event(s, &e)
}

func (s *Socket) onAck(p *Packet) {
	raw, err := SplitArray(p.Data)
	if err != nil {
		return
	}
	s.mu.Lock()
	ch := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if ch != nil {
		ch <- Args{Raw: raw, Attachments: p.Attachments}
	}
}

// Prepared is an event encoded once, ready to be queued on many sockets of
// one namespace without encoding it again.
type Prepared struct {
	msgs      []engineio.Message
	dataStart int // where the packet's data (the JSON array) starts in msgs[0].Data
}

// Prepare encodes an event for SendPrepared.
func Prepare(nsp, event string, args ...any) (*Prepared, error) {
	text, attachments, err := AppendEvent([]byte{'4'}, nsp, 0, false, event, args)
	if err != nil {
		return nil, err
	}
	msgs := make([]engineio.Message, 1, 1+len(attachments))
	msgs[0] = engineio.Message{Data: text}
	for _, a := range attachments {
		msgs = append(msgs, engineio.Message{Data: a, Binary: true})
	}
	// The header has no '[' (a namespace name in it is not JSON).
	return &Prepared{msgs: msgs, dataStart: bytes.IndexByte(text, '[')}, nil
}

// Data returns the packet's data: the JSON array [event, args...], with a
// binary argument as its placeholder {"_placeholder":true,"num":i}. The
// caller must not modify it.
func (p *Prepared) Data() []byte { return p.msgs[0].Data[p.dataStart:] }

// Attachments returns the binary arguments, in placeholder order. The
// caller must not modify them.
func (p *Prepared) Attachments() [][]byte {
	if len(p.msgs) == 1 {
		return nil
	}
	atts := make([][]byte, len(p.msgs)-1)
	for i := range atts {
		atts[i] = p.msgs[1+i].Data
	}
	return atts
}

// WithKey marks the event as an update of key, which a conflating session
// may replace with a newer update of the same key. Events with binary
// attachments are never conflated.
func (p *Prepared) WithKey(key uint64) *Prepared {
	if len(p.msgs) == 1 {
		p.msgs[0].Key = key
	}
	return p
}

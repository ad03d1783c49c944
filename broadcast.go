package realtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/tradewithai/realtime/internal/socketio"
)

// A broadcast's life: Emit (or a shorthand) encodes the event once into a
// Message, deliver queues that Message's bytes on every local client the
// Selector picks, and the adapter, if any, publishes it to the other
// instances, whose adapters hand it to their own deliver.

// Selector picks clients by room: the members of any of Rooms (every client
// when Rooms is empty), minus the members of any of Except. A name that is
// no room but a client's id picks that client, as in Socket.IO.
type Selector struct {
	Rooms  []string
	Except []string
}

// Message is an event encoded once: the bytes every recipient's connection
// receives, on this instance or, through an Adapter, on another. It is
// immutable and safe to share.
type Message struct {
	event string
	p     *socketio.Prepared
}

// NewMessage encodes an event with its arguments: each is marshalled with
// encoding/json, except a json.RawMessage, written as it is, and a
// top-level []byte, which travels as a binary attachment (the client
// receives a Buffer or ArrayBuffer). Adapters use it for what other
// instances publish; the gateway's own methods take one argument, the data.
func NewMessage(event string, args ...any) (*Message, error) {
	if event == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidEvent)
	}
	p, err := socketio.Prepare(mainNamespace, event, args...)
	if err != nil {
		if errors.Is(err, socketio.ErrReservedEvent) {
			return nil, sendError(err)
		}
		return nil, fmt.Errorf("realtime: encoding %q: %w", event, err)
	}
	return &Message{event: event, p: p}, nil
}

// Event returns the event's name.
func (m *Message) Event() string { return m.event }

// Data returns the event as Socket.IO encodes it: the JSON array
// [event, args...], where a binary argument is the placeholder
// {"_placeholder":true,"num":i} of attachment i. Do not modify it.
func (m *Message) Data() []byte { return m.p.Data() }

// Attachments returns the binary arguments in placeholder order. Do not
// modify them.
func (m *Message) Attachments() [][]byte { return m.p.Attachments() }

// emit encodes an event once, delivers it to the local clients sel picks
// and publishes it to the other instances. key, when not zero, marks it as
// an update a conflating client may replace (see SlowConsumerConflate).
func (g *Gateway) emit(ctx context.Context, sel Selector, event string, data any, key uint64) error {
	if g.closed.Load() {
		return ErrClosed
	}
	m, err := NewMessage(event, data)
	if err != nil {
		return err
	}
	if key != 0 {
		m.p.WithKey(key)
	}
	g.deliver(sel, m)
	if g.cfg.adapter == nil {
		return nil
	}
	if err := g.cfg.adapter.Publish(ctx, sel, m); err != nil {
		return fmt.Errorf("realtime: publishing to other instances: %w", err)
	}
	return nil
}

// deliver queues m on the local clients sel picks and returns how many
// took it. Every event sent to more than one client passes here, whether
// the host, a timer or another instance sent it.
func (g *Gateway) deliver(sel Selector, m *Message) int {
	n := 0
	g.forEachSelected(sel, func(c *Client) {
		if c.sock.SendPrepared(m.p) == nil {
			n++
		}
	})
	g.counters.eventsOut.Add(uint64(n))
	return n
}

// forEachSelected calls fn once for every local client sel picks, under the
// rooms' read locks: fn must not block or change room membership.
func (g *Gateway) forEachSelected(sel Selector, fn func(*Client)) {
	rooms := sel.Rooms
	if len(rooms) == 0 {
		rooms = []string{allRoom}
	}
	g.rooms.forEach(rooms, sel.Except, g.clientByID, fn)
}

// selected returns the local clients sel picks.
func (g *Gateway) selected(sel Selector) []*Client {
	var clients []*Client
	g.forEachSelected(sel, func(c *Client) { clients = append(clients, c) })
	return clients
}

// conflationKey identifies "the latest value of event for this symbol":
// FNV-1a over the three names, never zero.
func conflationKey(event, channel, symbol string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, s := range [...]string{event, channel, symbol} {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		h *= prime // separator
	}
	return max(h, 1)
}

package realtime

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tradewithai/realtime/internal/socketio"
)

// Selector picks clients by room: the members of any of Rooms (every client
// when Rooms is empty), minus the members of any of Except.
type Selector struct {
	Rooms  []string
	Except []string
}

// Broadcast is an event for the clients a Selector picks, as it travels
// between gateway instances.
type Broadcast struct {
	Selector
	Event string
	// Args are the event's arguments; the gateway's own broadcasts carry
	// one, the data passed to BroadcastToRoom and friends.
	Args []any
}

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
	// Broadcast sends b to the other instances.
	Broadcast(ctx context.Context, b *Broadcast) error
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
	Deliver(b *Broadcast) error
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

// WithAdapter connects this gateway to other instances. Default none.
func WithAdapter(a Adapter) Option {
	return func(c *config) error {
		if a == nil {
			return invalid("nil adapter")
		}
		c.adapter = a
		return nil
	}
}

// Emit sends an event to the clients sel picks, on every instance: each
// selected client receives it once, even when it is in several of the
// rooms. BroadcastToRoom, SendToUser, PublishToSymbol and Broadcast are
// shorthands for it.
func (g *Gateway) Emit(ctx context.Context, sel Selector, event string, data any) error {
	return g.emit(ctx, sel, event, data, 0)
}

// emit is Emit with a conflation key (see SlowConsumerConflate).
func (g *Gateway) emit(ctx context.Context, sel Selector, event string, data any, key uint64) error {
	p, err := g.prepare(event, data)
	if err != nil {
		return err
	}
	if key != 0 {
		p.WithKey(key)
	}
	g.deliver(sel, p)
	if g.cfg.adapter == nil {
		return nil
	}
	if err := g.cfg.adapter.Broadcast(ctx, &Broadcast{Selector: sel, Event: event, Args: []any{data}}); err != nil {
		return fmt.Errorf("realtime: publishing to other instances: %w", err)
	}
	return nil
}

// deliver queues an encoded event on the local clients sel picks. It is
// the one place every outbound room event passes through.
func (g *Gateway) deliver(sel Selector, p *socketio.Prepared) {
	var n uint64
	g.forEachSelected(sel, func(c *Client) {
		if c.sock.SendPrepared(p) == nil {
			n++
		}
	})
	g.counters.eventsOut.Add(n)
}

// forEachSelected calls fn once for every local client sel picks, under
// the rooms' read lock: fn must not block or change room membership. A
// client in several of the rooms is visited for the first of them only,
// found with the earlier rooms' indexes, so a selection takes no exclusive
// lock and allocates nothing however large it is. A name that is no room
// but a client's id selects that client, as in Socket.IO.
func (g *Gateway) forEachSelected(sel Selector, fn func(*Client)) {
	rooms := sel.Rooms
	if len(rooms) == 0 {
		rooms = []string{allRoom}
	}
	g.rooms.mu.RLock()
	defer g.rooms.mu.RUnlock()
	var skipRooms [8]*room
	var skipClients [4]*Client
	s := skipSet{rooms: skipRooms[:0], clients: skipClients[:0]} // excluded, then visited
	for _, name := range sel.Except {
		if rm := g.rooms.rooms[name]; rm != nil {
			s.rooms = append(s.rooms, rm)
		} else if c := g.clientByID(name); c != nil {
			s.clients = append(s.clients, c)
		}
	}
	for _, name := range rooms {
		rm := g.rooms.rooms[name]
		if rm == nil {
			if c := g.clientByID(name); c != nil && !s.has(c) {
				fn(c)
				s.clients = append(s.clients, c)
			}
			continue
		}
		if slices.Contains(s.rooms, rm) {
			continue
		}
		for _, c := range rm.members {
			if !s.has(c) {
				fn(c)
			}
		}
		s.rooms = append(s.rooms, rm)
	}
}

// skipSet holds the rooms and single clients a selection skips.
type skipSet struct {
	rooms   []*room
	clients []*Client
}

func (s *skipSet) has(c *Client) bool {
	for _, rm := range s.rooms {
		if _, in := rm.indexOf(c); in {
			return true
		}
	}
	return len(s.clients) > 0 && slices.Contains(s.clients, c)
}

func (g *Gateway) clientByID(id string) *Client {
	g.clientsMu.RLock()
	defer g.clientsMu.RUnlock()
	return g.clients[id]
}

// selected returns the local clients sel picks.
func (g *Gateway) selected(sel Selector) []*Client {
	var clients []*Client
	g.forEachSelected(sel, func(c *Client) { clients = append(clients, c) })
	return clients
}

// JoinRooms makes the clients sel picks, on every instance, join rooms.
func (g *Gateway) JoinRooms(ctx context.Context, sel Selector, rooms ...string) error {
	g.local().JoinRooms(sel, rooms)
	if g.cfg.adapter == nil {
		return nil
	}
	return g.cfg.adapter.JoinRooms(ctx, sel, rooms)
}

// LeaveRooms makes the clients sel picks, on every instance, leave rooms.
func (g *Gateway) LeaveRooms(ctx context.Context, sel Selector, rooms ...string) error {
	g.local().LeaveRooms(sel, rooms)
	if g.cfg.adapter == nil {
		return nil
	}
	return g.cfg.adapter.LeaveRooms(ctx, sel, rooms)
}

// DisconnectSockets disconnects the clients sel picks, on every instance.
func (g *Gateway) DisconnectSockets(ctx context.Context, sel Selector) error {
	g.local().DisconnectSockets(sel)
	if g.cfg.adapter == nil {
		return nil
	}
	return g.cfg.adapter.DisconnectSockets(ctx, sel)
}

// ClusterStats counts clients and instances across the cluster.
type ClusterStats struct {
	Instances int `json:"instances"`
	Clients   int `json:"clients"`
}

// ClusterStats returns the number of instances and of connected clients on
// all of them; without an adapter, this instance's.
func (g *Gateway) ClusterStats(ctx context.Context) (ClusterStats, error) {
	s := ClusterStats{Instances: 1, Clients: g.ConnectedClients()}
	if g.cfg.adapter == nil {
		return s, nil
	}
	remote, err := g.cfg.adapter.RemoteClientCount(ctx)
	if err != nil {
		return s, err
	}
	servers, err := g.cfg.adapter.ServerCount(ctx)
	if err != nil {
		return s, err
	}
	s.Clients += remote
	s.Instances = servers
	return s, nil
}

// localInstance implements Local for the gateway's adapter.
type localInstance struct{ g *Gateway }

func (g *Gateway) local() localInstance { return localInstance{g} }

func (l localInstance) Deliver(b *Broadcast) error {
	if b.Event == "" {
		return errors.New("realtime: broadcast without an event name")
	}
	p, err := socketio.Prepare(mainNamespace, b.Event, b.Args...)
	if err != nil {
		return fmt.Errorf("realtime: encoding %q: %w", b.Event, err)
	}
	l.g.deliver(b.Selector, p)
	return nil
}

func (l localInstance) JoinRooms(sel Selector, rooms []string) {
	for _, c := range l.g.selected(sel) {
		c.Join(rooms...)
	}
}

func (l localInstance) LeaveRooms(sel Selector, rooms []string) {
	for _, c := range l.g.selected(sel) {
		c.Leave(rooms...)
	}
}

func (l localInstance) DisconnectSockets(sel Selector) {
	for _, c := range l.g.selected(sel) {
		c.Disconnect()
	}
}

func (l localInstance) Clients(sel Selector) []ClientRooms {
	clients := l.g.selected(sel)
	out := make([]ClientRooms, 0, len(clients))
	for _, c := range clients {
		rooms := append(c.Subscriptions(), c.userRoom, c.ID())
		slices.Sort(rooms)
		out = append(out, ClientRooms{ID: c.ID(), Rooms: rooms})
	}
	return out
}

func (l localInstance) ClientCount() int { return l.g.ConnectedClients() }

func (l localInstance) HasRoom(name string) bool {
	return l.g.rooms.size(name) > 0 || l.g.clientByID(name) != nil
}

func (l localInstance) Rooms() []string {
	l.g.rooms.mu.RLock()
	defer l.g.rooms.mu.RUnlock()
	rooms := make([]string, 0, len(l.g.rooms.rooms))
	for name := range l.g.rooms.rooms {
		if name != allRoom {
			rooms = append(rooms, name)
		}
	}
	slices.Sort(rooms)
	return rooms
}

package realtime

import (
	"context"
	"slices"
)

// Operations on the clients a Selector picks, on every instance: this
// instance applies them to its own clients (localInstance, which is also
// what the adapter calls for operations from other instances), then the
// adapter publishes them.

// JoinRooms makes the clients sel picks, on every instance, join rooms.
func (g *Gateway) JoinRooms(ctx context.Context, sel Selector, rooms ...string) error {
	localInstance{g}.JoinRooms(sel, rooms)
	if g.cfg.adapter == nil {
		return nil
	}
	return g.cfg.adapter.JoinRooms(ctx, sel, rooms)
}

// LeaveRooms makes the clients sel picks, on every instance, leave rooms.
func (g *Gateway) LeaveRooms(ctx context.Context, sel Selector, rooms ...string) error {
	localInstance{g}.LeaveRooms(sel, rooms)
	if g.cfg.adapter == nil {
		return nil
	}
	return g.cfg.adapter.LeaveRooms(ctx, sel, rooms)
}

// DisconnectSockets disconnects the clients sel picks, on every instance.
func (g *Gateway) DisconnectSockets(ctx context.Context, sel Selector) error {
	localInstance{g}.DisconnectSockets(sel)
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

func (l localInstance) Deliver(sel Selector, m *Message) int { return l.g.deliver(sel, m) }

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

func (l localInstance) Rooms() []string { return l.g.rooms.names() }

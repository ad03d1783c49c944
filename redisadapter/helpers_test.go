package redisadapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/internal/redistest"
	"github.com/tradewithai/realtime/redisadapter"
)

// waitTimeout bounds every wait for something to arrive through Redis.
const waitTimeout = 10 * time.Second

// newClient returns a go-redis client for srv, closed when the test ends.
func newClient(t *testing.T, srv *redistest.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// startAdapter starts an adapter for local on srv, closed when the test
// ends.
func startAdapter(t *testing.T, srv *redistest.Server, local realtime.Local, opts ...redisadapter.Option) *redisadapter.Adapter {
	t.Helper()
	a := redisadapter.New(newClient(t, srv), opts...)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := a.Start(ctx, local); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// fakeLocal is an instance's clients, as the adapter sees them: it records
// what the adapter applies to them.
type fakeLocal struct {
	mu        sync.Mutex
	members   map[string][]string // room → client ids
	clients   []string
	delivered chan *delivery
	ops       chan op
}

// op is a room operation the adapter applied.
type op struct {
	kind  string // "join", "leave" or "disconnect"
	sel   realtime.Selector
	rooms []string
}

// newFakeLocal returns an instance whose clients are in the given rooms:
// client id → rooms.
func newFakeLocal(clients map[string][]string) *fakeLocal {
	l := &fakeLocal{
		members:   make(map[string][]string),
		delivered: make(chan *delivery, 100),
		ops:       make(chan op, 100),
	}
	for id, rooms := range clients {
		l.clients = append(l.clients, id)
		for _, r := range rooms {
			l.members[r] = append(l.members[r], id)
		}
	}
	slices.Sort(l.clients)
	return l
}

// delivery is a broadcast as a local client would see it: its selector,
// its event and its arguments (json.RawMessage, or []byte for a binary
// one).
type delivery struct {
	realtime.Selector
	Event string
	Args  []any
}

func (l *fakeLocal) Deliver(sel realtime.Selector, m *realtime.Message) int {
	var raw []json.RawMessage
	if err := json.Unmarshal(m.Data(), &raw); err != nil || len(raw) == 0 {
		panic(fmt.Sprintf("delivered a message whose data is not an event: %q", m.Data()))
	}
	d := &delivery{Selector: sel, Event: m.Event()}
	for _, r := range raw[1:] {
		var ph struct {
			Placeholder bool `json:"_placeholder"`
			Num         int  `json:"num"`
		}
		if json.Unmarshal(r, &ph) == nil && ph.Placeholder {
			d.Args = append(d.Args, m.Attachments()[ph.Num])
			continue
		}
		d.Args = append(d.Args, r)
	}
	l.delivered <- d
	return 1
}

func (l *fakeLocal) JoinRooms(sel realtime.Selector, rooms []string) {
	l.ops <- op{"join", sel, rooms}
}

func (l *fakeLocal) LeaveRooms(sel realtime.Selector, rooms []string) {
	l.ops <- op{"leave", sel, rooms}
}

func (l *fakeLocal) DisconnectSockets(sel realtime.Selector) {
	l.ops <- op{"disconnect", sel, nil}
}

func (l *fakeLocal) Clients(sel realtime.Selector) []realtime.ClientRooms {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []realtime.ClientRooms
	for _, id := range l.clients {
		if len(sel.Rooms) > 0 && !slices.ContainsFunc(sel.Rooms, func(r string) bool { return slices.Contains(l.members[r], id) }) {
			continue
		}
		var rooms []string
		for r, ids := range l.members {
			if slices.Contains(ids, id) {
				rooms = append(rooms, r)
			}
		}
		slices.Sort(rooms)
		out = append(out, realtime.ClientRooms{ID: id, Rooms: rooms})
	}
	return out
}

func (l *fakeLocal) ClientCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

func (l *fakeLocal) Rooms() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	rooms := make([]string, 0, len(l.members))
	for r := range l.members {
		rooms = append(rooms, r)
	}
	slices.Sort(rooms)
	return rooms
}

func (l *fakeLocal) HasRoom(room string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.members[room]) > 0
}

// nextDelivery waits for the next broadcast delivered to l.
func (l *fakeLocal) nextDelivery(t *testing.T) *delivery {
	t.Helper()
	select {
	case b := <-l.delivered:
		return b
	case <-time.After(waitTimeout):
		t.Fatal("no broadcast delivered")
		return nil
	}
}

// nextOp waits for the next room operation applied to l.
func (l *fakeLocal) nextOp(t *testing.T) op {
	t.Helper()
	select {
	case o := <-l.ops:
		return o
	case <-time.After(waitTimeout):
		t.Fatal("no room operation applied")
		return op{}
	}
}

// noDelivery fails if l received a broadcast. Broadcasts are handled in
// the order they were published, so calling it after awaiting a later
// one is conclusive.
func (l *fakeLocal) noDelivery(t *testing.T) {
	t.Helper()
	select {
	case b := <-l.delivered:
		t.Errorf("unexpected delivery of %q to %+v", b.Event, b.Selector)
	default:
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// argJSON returns a delivered argument as JSON text.
func argJSON(t *testing.T, arg any) string {
	t.Helper()
	raw, ok := arg.(json.RawMessage)
	if !ok {
		t.Fatalf("argument is %T, want json.RawMessage", arg)
	}
	return string(raw)
}

// publish encodes an event as a gateway does and publishes it through a.
func publish(ctx context.Context, a *redisadapter.Adapter, sel realtime.Selector, event string, args ...any) error {
	m, err := realtime.NewMessage(event, args...)
	if err != nil {
		return err
	}
	return a.Publish(ctx, sel, m)
}

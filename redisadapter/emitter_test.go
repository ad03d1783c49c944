package redisadapter_test

import (
	"errors"
	"net"
	"reflect"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/internal/redistest"
	"github.com/tradewithai/realtime/redisadapter"
)

func TestEmitterReachesEveryInstance(t *testing.T) {
	srv := redistest.Start(t)
	locals := []*fakeLocal{
		newFakeLocal(map[string][]string{"a1": {"user:u1", "trading", "market-data:BTC/USD"}}),
		newFakeLocal(map[string][]string{"b1": {"user:u1", "market-data"}}),
	}
	for _, l := range locals {
		startAdapter(t, srv, l)
	}
	em := redisadapter.NewEmitter(newClient(t, srv))
	ctx := t.Context()
	data := fill{OrderID: "o-7", Side: "sell", Quantity: 2, Price: 3012.5}
	tests := []struct {
		name string
		emit func() error
		sel  realtime.Selector
		to   []int // indexes of the instances with selected clients
	}{
		{"room", func() error { return em.BroadcastToRoom(ctx, "trading", "order:filled", data) },
			realtime.Selector{Rooms: []string{"trading"}}, []int{0}},
		{"user", func() error { return em.SendToUser(ctx, "u1", "order:filled", data) },
			realtime.Selector{Rooms: []string{"user:u1"}}, []int{0, 1}},
		{"symbol", func() error { return em.BroadcastToSymbol(ctx, "market-data", "BTC/USD", "order:filled", data) },
			realtime.Selector{Rooms: []string{"market-data", "market-data:BTC/USD"}}, []int{0, 1}},
		{"rooms", func() error {
			return em.Emit(ctx, realtime.Selector{Rooms: []string{"trading", "market-data"}}, "order:filled", data)
		}, realtime.Selector{Rooms: []string{"trading", "market-data"}}, []int{0, 1}},
		{"everyone", func() error { return em.Emit(ctx, realtime.Selector{}, "order:filled", data) },
			realtime.Selector{}, []int{0, 1}},
		{"exclusions", func() error {
			return em.Emit(ctx, realtime.Selector{Rooms: []string{"user:u1"}, Except: []string{"trading"}}, "order:filled", data)
		}, realtime.Selector{Rooms: []string{"user:u1"}, Except: []string{"trading"}}, []int{0, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.emit(); err != nil {
				t.Fatal(err)
			}
			if err := em.Emit(ctx, realtime.Selector{}, "marker", nil); err != nil {
				t.Fatal(err)
			}
			for i, l := range locals {
				if slices.Contains(tc.to, i) {
					b := l.nextDelivery(t)
					if b.Event != "order:filled" || !reflect.DeepEqual(b.Selector, tc.sel) {
						t.Fatalf("instance %d got %q for %+v, want order:filled for %+v", i, b.Event, b.Selector, tc.sel)
					}
					if got, want := argJSON(t, b.Args[0]), string(mustJSON(t, data)); got != want {
						t.Errorf("instance %d got %s, want %s", i, got, want)
					}
				}
				if m := l.nextDelivery(t); m.Event != "marker" {
					t.Fatalf("instance %d got %q, want the marker", i, m.Event)
				}
			}
		})
	}

	t.Run("room operations", func(t *testing.T) {
		sel := realtime.Selector{Rooms: []string{"user:u1"}}
		if err := em.JoinRooms(ctx, sel, "vip"); err != nil {
			t.Fatal(err)
		}
		if err := em.LeaveRooms(ctx, sel, "trading"); err != nil {
			t.Fatal(err)
		}
		if err := em.DisconnectSockets(ctx, sel); err != nil {
			t.Fatal(err)
		}
		for i, l := range locals {
			for _, want := range []op{{"join", sel, []string{"vip"}}, {"leave", sel, []string{"trading"}}, {"disconnect", sel, nil}} {
				got := l.nextOp(t)
				if got.kind != want.kind || !slices.Equal(got.sel.Rooms, want.sel.Rooms) || !slices.Equal(got.rooms, want.rooms) {
					t.Errorf("instance %d applied %+v, want %+v", i, got, want)
				}
			}
		}
	})
}

func TestEmitterCustomNamingAndKey(t *testing.T) {
	srv := redistest.Start(t)
	l := newFakeLocal(map[string][]string{"a1": {"u/42"}})
	startAdapter(t, srv, l, redisadapter.WithKey("trading"))
	naming := realtime.RoomNaming{
		User:   func(id string) string { return "u/" + id },
		Symbol: func(ch, s string) string { return ch + "/" + s },
	}
	em := redisadapter.NewEmitter(newClient(t, srv), redisadapter.WithKey("trading"), redisadapter.WithRoomNaming(naming))
	if err := em.SendToUser(t.Context(), "42", "balance:updated", map[string]int{"available": 10}); err != nil {
		t.Fatal(err)
	}
	if b := l.nextDelivery(t); !slices.Equal(b.Rooms, []string{"u/42"}) || argJSON(t, b.Args[0]) != `{"available":10}` {
		t.Errorf("delivered %+v %s", b.Selector, argJSON(t, b.Args[0]))
	}
}

func TestEmitterErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	em := redisadapter.NewEmitter(c)
	ctx := t.Context()
	for _, name := range []string{"", "connect", "disconnect", "connect_error"} {
		if err := em.Emit(ctx, realtime.Selector{}, name, nil); err == nil {
			t.Errorf("Emit(%q) succeeded, want an error", name)
		}
	}
	if err := em.Emit(ctx, realtime.Selector{}, "e", func() {}); err == nil {
		t.Error("Broadcast of an unencodable value succeeded")
	}
	var opErr *net.OpError
	if err := em.Emit(ctx, realtime.Selector{}, "e", 1); !errors.As(err, &opErr) {
		t.Errorf("Broadcast with Redis down = %v, want the dial error", err)
	}
}

func TestNewEmitterReportsBadArguments(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = c.Close() })
	ctx := t.Context()
	for name, em := range map[string]*redisadapter.Emitter{
		"nil client":     redisadapter.NewEmitter(nil),
		"nil option":     redisadapter.NewEmitter(c, nil),
		"empty key":      redisadapter.NewEmitter(c, redisadapter.WithKey("")),
		"partial naming": redisadapter.NewEmitter(c, redisadapter.WithRoomNaming(realtime.RoomNaming{})),
	} {
		if err := em.SendToUser(ctx, "u", "e", 1); !errors.Is(err, realtime.ErrInvalidOption) {
			t.Errorf("%s: SendToUser = %v, want ErrInvalidOption", name, err)
		}
		if err := em.DisconnectSockets(ctx, realtime.Selector{}); !errors.Is(err, realtime.ErrInvalidOption) {
			t.Errorf("%s: DisconnectSockets = %v, want ErrInvalidOption", name, err)
		}
	}
}

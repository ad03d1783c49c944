package redisadapter_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/internal/redistest"
	"github.com/tradewithai/realtime/redisadapter"
	"github.com/vmihailenco/msgpack/v5"
)

type fill struct {
	OrderID  string  `json:"orderId"`
	Side     string  `json:"side"`
	Quantity float64 `json:"quantity"`
	Price    float64 `json:"price"`
}

func TestBroadcastReachesOtherInstances(t *testing.T) {
	srv := redistest.Start(t)
	// B answers room lookups from its room list, C directly.
	local := map[string]*fakeLocal{
		"A": newFakeLocal(map[string][]string{"a1": {"trading"}}),
		"B": newFakeLocal(map[string][]string{"b1": {"trading", "market-data:BTC/USD"}, "b2": {"market-data"}}),
		"C": newFakeLocal(map[string][]string{"c1": {"vip"}}),
	}
	a := startAdapter(t, srv, local["A"])
	startAdapter(t, srv, local["B"])
	startAdapter(t, srv, local["C"])

	data := fill{OrderID: "o-1", Side: "buy", Quantity: 0.5, Price: 43250.25}
	tests := []struct {
		name string
		sel  realtime.Selector
		to   []string // instances with a selected client
	}{
		{"one room", realtime.Selector{Rooms: []string{"trading"}}, []string{"B"}},
		{"rooms with exclusions", realtime.Selector{Rooms: []string{"market-data", "vip"}, Except: []string{"market-data:BTC/USD"}}, []string{"B", "C"}},
		{"everyone", realtime.Selector{}, []string{"B", "C"}},
		{"nobody", realtime.Selector{Rooms: []string{"market-data:SOL/USD"}}, nil},
	}
	ctx := t.Context()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := publish(ctx, a, tc.sel, "order:filled", data); err != nil {
				t.Fatal(err)
			}
			// A marker to everyone follows: once it arrives, anything the
			// first broadcast was going to deliver has been delivered.
			if err := publish(ctx, a, realtime.Selector{}, "marker", tc.name); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"B", "C"} {
				l := local[name]
				if slices.Contains(tc.to, name) {
					b := l.nextDelivery(t)
					if b.Event != "order:filled" || !reflect.DeepEqual(b.Selector, tc.sel) || len(b.Args) != 1 {
						t.Fatalf("%s got %q for %+v with %d args, want order:filled for %+v", name, b.Event, b.Selector, len(b.Args), tc.sel)
					}
					want, _ := json.Marshal(data)
					if got := argJSON(t, b.Args[0]); got != string(want) {
						t.Errorf("%s got %s, want %s", name, got, want)
					}
				}
				if m := l.nextDelivery(t); m.Event != "marker" {
					t.Fatalf("%s got %q, want the marker", name, m.Event)
				}
			}
			local["A"].noDelivery(t)
		})
	}
}

func TestBinaryArgumentsCrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	lb := newFakeLocal(map[string][]string{"b1": {"feed"}})
	a := startAdapter(t, srv, newFakeLocal(nil))
	startAdapter(t, srv, lb)
	payload := []byte{0, 1, 2, 254, 255}
	if err := publish(t.Context(), a, realtime.Selector{Rooms: []string{"feed"}}, "snapshot", payload, "meta"); err != nil {
		t.Fatal(err)
	}
	b := lb.nextDelivery(t)
	if got, ok := b.Args[0].([]byte); !ok || !slices.Equal(got, payload) {
		t.Errorf("binary argument arrived as %#v, want %v", b.Args[0], payload)
	}
	if got := argJSON(t, b.Args[1]); got != `"meta"` {
		t.Errorf("second argument = %s", got)
	}
}

// TestSkipsBroadcastsWithoutLocalRecipients shows that a broadcast for
// rooms without local members is dropped before its packet is decoded:
// the same undecodable packet is counted as skipped when it selects nobody
// here, and as malformed only when it selects a local client.
func TestSkipsBroadcastsWithoutLocalRecipients(t *testing.T) {
	srv := redistest.Start(t)
	lb := newFakeLocal(map[string][]string{"b1": {"trading"}})
	b := startAdapter(t, srv, lb)
	pub := newClient(t, srv)

	publish := func(channel string, rooms []string, packet any) {
		t.Helper()
		msg, err := msgpack.Marshal([]any{"other-server", packet, map[string]any{"rooms": rooms, "except": []string{}, "flags": map[string]any{}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Publish(t.Context(), channel, msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	bad := "not a packet"
	good := map[string]any{"type": 2, "data": []any{"marker"}, "nsp": "/"}

	publish("socket.io#/#nobody#", []string{"nobody"}, bad)      // skipped from its channel
	publish("socket.io#/#", []string{"nobody", "neither"}, bad)  // skipped from its opts
	publish("socket.io#/#", []string{"neither", "trading"}, bad) // decoded: malformed
	publish("socket.io#/#trading#", []string{"trading"}, good)   // delivered
	if m := lb.nextDelivery(t); m.Event != "marker" {
		t.Fatalf("delivered %q, want the marker", m.Event)
	}
	// The adapter counts a delivery once Deliver has returned, just after
	// the fake has reported it.
	st := b.Stats()
	for deadline := time.Now().Add(5 * time.Second); st.Delivered == 0 && time.Now().Before(deadline); st = b.Stats() {
		runtime.Gosched()
	}
	if st.Skipped != 2 || st.Malformed != 1 || st.Delivered != 1 {
		t.Errorf("stats = %+v, want 2 skipped, 1 malformed, 1 delivered", st)
	}
}

func TestRoomOperationsReachOtherInstances(t *testing.T) {
	srv := redistest.Start(t)
	la := newFakeLocal(nil)
	lb := newFakeLocal(map[string][]string{"b1": {"trading"}})
	a := startAdapter(t, srv, la)
	startAdapter(t, srv, lb)
	ctx := t.Context()
	sel := realtime.Selector{Rooms: []string{"trading"}, Except: []string{"vip"}}

	if err := a.JoinRooms(ctx, sel, []string{"x", "y"}); err != nil {
		t.Fatal(err)
	}
	if err := a.LeaveRooms(ctx, sel, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if err := a.DisconnectSockets(ctx, realtime.Selector{Rooms: []string{"user:u1"}}); err != nil {
		t.Fatal(err)
	}
	want := []op{
		{"join", sel, []string{"x", "y"}},
		{"leave", sel, []string{"x"}},
		{"disconnect", realtime.Selector{Rooms: []string{"user:u1"}, Except: []string{}}, nil},
	}
	for _, w := range want {
		got := lb.nextOp(t)
		if got.kind != w.kind || !slices.Equal(got.sel.Rooms, w.sel.Rooms) || !slices.Equal(got.sel.Except, w.sel.Except) || !slices.Equal(got.rooms, w.rooms) {
			t.Errorf("applied %+v, want %+v", got, w)
		}
	}
	select {
	case o := <-la.ops:
		t.Errorf("the requesting instance applied its own request again: %+v", o)
	default:
	}
}

func TestClusterCounts(t *testing.T) {
	for _, specific := range []bool{false, true} {
		name := "shared response channel"
		if specific {
			name = "specific response channels"
		}
		t.Run(name, func(t *testing.T) {
			srv := redistest.Start(t)
			opt := redisadapter.WithSpecificResponseChannel(specific)
			a := startAdapter(t, srv, newFakeLocal(map[string][]string{"a1": nil}), opt)
			startAdapter(t, srv, newFakeLocal(map[string][]string{"b1": nil, "b2": nil}), opt)
			startAdapter(t, srv, newFakeLocal(map[string][]string{"c1": nil, "c2": nil, "c3": nil}), opt)
			ctx := t.Context()
			if n, err := a.ServerCount(ctx); err != nil || n != 3 {
				t.Errorf("ServerCount = %d, %v; want 3", n, err)
			}
			if n, err := a.RemoteClientCount(ctx); err != nil || n != 5 {
				t.Errorf("RemoteClientCount = %d, %v; want 5", n, err)
			}
		})
	}
}

func TestRemoteClientCountTimesOut(t *testing.T) {
	srv := redistest.Start(t)
	a := startAdapter(t, srv, newFakeLocal(nil), redisadapter.WithRequestTimeout(300*time.Millisecond))
	// A subscriber to the request channel that never answers, as a server
	// that died without unsubscribing would look for a moment.
	mute := newClient(t, srv).Subscribe(t.Context(), "socket.io-request#/#")
	t.Cleanup(func() { _ = mute.Close() })
	if _, err := mute.Receive(t.Context()); err != nil {
		t.Fatal(err)
	}
	n, err := a.RemoteClientCount(t.Context())
	if !errors.Is(err, redisadapter.ErrTimeout) || n != 0 {
		t.Errorf("RemoteClientCount = %d, %v; want 0 and ErrTimeout", n, err)
	}
}

// TestAnswersNodeRequests sends requests as a Node server writes them and
// checks the answers on the response channel.
func TestAnswersNodeRequests(t *testing.T) {
	srv := redistest.Start(t)
	startAdapter(t, srv, newFakeLocal(map[string][]string{"b1": {"trading"}, "b2": {"vip"}}))
	c := newClient(t, srv)
	ctx := t.Context()
	sub := c.Subscribe(ctx, "socket.io-response#/#")
	t.Cleanup(func() { _ = sub.Close() })
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	ackRequest, err := msgpack.Marshal(map[string]any{
		"uid": "node1", "requestId": "r4", "type": 7,
		"packet": map[string]any{"type": 2, "data": []any{"x"}, "nsp": "/"},
		"opts":   map[string]any{"rooms": []string{}, "except": []string{}, "flags": map[string]any{"timeout": 100}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		request any
		want    string
	}{
		{"sockets", `{"uid":"node1","requestId":"r1","type":0,"rooms":["trading"]}`,
			`{"requestId":"r1","sockets":["b1"]}`},
		{"all rooms", `{"uid":"node1","requestId":"r2","type":1}`,
			`{"requestId":"r2","rooms":["trading","vip","b1","b2"]}`},
		{"fetch sockets", `{"uid":"node1","requestId":"r3","type":5,"opts":{"rooms":["vip"],"except":[]}}`,
			`{"requestId":"r3","sockets":[{"id":"b2","handshake":{},"rooms":["vip"],"data":{}}]}`},
		{"broadcast with acknowledgements", ackRequest,
			`{"type":8,"requestId":"r4","clientCount":0}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Publish(ctx, "socket.io-request#/#", tc.request).Err(); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, waitTimeout)
			defer cancel()
			msg, err := sub.ReceiveMessage(wctx)
			if err != nil {
				t.Fatal(err)
			}
			if msg.Payload != tc.want {
				t.Errorf("answer = %s, want %s", msg.Payload, tc.want)
			}
		})
	}
}

func TestStartFailsWithoutRedis(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	a := redisadapter.New(c, redisadapter.WithStartTimeout(2*time.Second))
	start := time.Now()
	_, err = realtime.New(realtime.WithDevelopmentMode(true), realtime.WithLogger(quietLogger()), realtime.WithAdapter(a))
	if !errors.Is(err, redisadapter.ErrUnavailable) || !strings.Contains(err.Error(), addr) {
		t.Errorf("realtime.New = %v; want an error wrapping ErrUnavailable naming %s", err, addr)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("realtime.New took %v to fail, want at most the start timeout", d)
	}
	if err := publish(t.Context(), a, realtime.Selector{}, "x"); !errors.Is(err, redisadapter.ErrNotStarted) {
		t.Errorf("Broadcast on an adapter that failed to start = %v, want ErrNotStarted", err)
	}
}

// TestRedisRestart kills redis-server under two running adapters: the
// publisher must not block or fail hard while Redis is down, and delivery
// between them must come back by itself once Redis is back.
func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	lb := newFakeLocal(map[string][]string{"b1": {"trading"}})
	a := startAdapter(t, srv, newFakeLocal(nil), redisadapter.WithPublishTimeout(500*time.Millisecond), redisadapter.WithRetryInterval(200*time.Millisecond))
	b := startAdapter(t, srv, lb)
	ctx := t.Context()
	sel := realtime.Selector{Rooms: []string{"trading"}}
	send := func(n int) error {
		return publish(ctx, a, sel, "tick", n)
	}
	if err := send(0); err != nil {
		t.Fatal(err)
	}
	lb.nextDelivery(t)

	srv.Kill()
	// Publishing while Redis is down returns at once; once a publish has
	// failed, callers are told Redis is unavailable.
	deadline := time.Now().Add(waitTimeout)
	for n := 1; ; n++ {
		began := time.Now()
		err := send(n)
		if d := time.Since(began); d > 500*time.Millisecond {
			t.Fatalf("Broadcast blocked for %v while Redis was down", d)
		}
		if errors.Is(err, redisadapter.ErrUnavailable) {
			break
		}
		if err != nil && !errors.Is(err, redisadapter.ErrQueueFull) {
			t.Fatalf("Broadcast while Redis is down: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("Broadcast never reported Redis as unavailable")
		}
		time.Sleep(20 * time.Millisecond) // pacing a publisher, not synchronisation
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// Delivery resumes once both adapters have reconnected; keep
	// publishing until one arrives.
	deadline = time.Now().Add(waitTimeout)
	for n := 1000; ; n++ {
		_ = send(n)
		select {
		case got := <-lb.delivered:
			if got.Event != "tick" {
				t.Fatalf("delivered %q", got.Event)
			}
			if st := b.Stats(); st.Resubscriptions == 0 {
				t.Errorf("stats = %+v, want a resubscription counted", st)
			}
			if st := a.Stats(); st.Dropped == 0 {
				t.Errorf("stats = %+v, want the messages published during the outage counted as dropped", st)
			}
			if n, err := a.ServerCount(ctx); err != nil || n != 2 {
				t.Errorf("ServerCount after the restart = %d, %v; want 2", n, err)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("delivery between instances did not resume after Redis restarted")
		}
	}
}

func TestCloseFlushesQueuedMessages(t *testing.T) {
	srv := redistest.Start(t)
	lb := newFakeLocal(map[string][]string{"b1": nil})
	a := startAdapter(t, srv, newFakeLocal(nil))
	startAdapter(t, srv, lb)
	for i := range 50 {
		if err := publish(t.Context(), a, realtime.Selector{}, "e", i); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		b := lb.nextDelivery(t)
		if got := argJSON(t, b.Args[0]); got != strings.TrimSpace(string(mustJSON(t, i))) {
			t.Fatalf("message %d arrived as %s: order lost", i, got)
		}
	}
	if err := publish(t.Context(), a, realtime.Selector{}, "e"); !errors.Is(err, redisadapter.ErrClosed) {
		t.Errorf("Broadcast after Close = %v, want ErrClosed", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNewRejectsBadOptions checks that what is wrong with New's arguments
// makes realtime.New fail, before anything contacts Redis, and that the
// adapter refuses to be used.
func TestNewRejectsBadOptions(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = c.Close() })
	for name, opts := range map[string][]redisadapter.Option{
		"nil option":      {nil},
		"empty key":       {redisadapter.WithKey("")},
		"zero timeout":    {redisadapter.WithRequestTimeout(0)},
		"negative queue":  {redisadapter.WithQueueSize(-1)},
		"nil logger":      {redisadapter.WithLogger(nil)},
		"partial naming":  {redisadapter.WithRoomNaming(realtime.RoomNaming{})},
		"publish timeout": {redisadapter.WithPublishTimeout(-time.Second)},
		"start timeout":   {redisadapter.WithStartTimeout(0)},
		"retry interval":  {redisadapter.WithRetryInterval(0)},
	} {
		a := redisadapter.New(c, opts...)
		assertUnusable(t, name, a)
	}
	assertUnusable(t, "nil client", redisadapter.New(nil))
}

// assertUnusable checks that realtime.New refuses an adapter built from
// bad arguments with an ErrInvalidOption error, and that the adapter's
// methods report the same error.
func assertUnusable(t *testing.T, name string, a *redisadapter.Adapter) {
	t.Helper()
	gw, err := realtime.New(realtime.WithDevelopmentMode(true), realtime.WithAdapter(a))
	if !errors.Is(err, realtime.ErrInvalidOption) {
		if gw != nil {
			_ = gw.Shutdown(t.Context())
		}
		t.Errorf("%s: realtime.New = %v, want ErrInvalidOption", name, err)
	}
	if err := publish(t.Context(), a, realtime.Selector{}, "e"); !errors.Is(err, realtime.ErrInvalidOption) {
		t.Errorf("%s: Broadcast = %v, want ErrInvalidOption", name, err)
	}
	if _, err := a.ServerCount(t.Context()); !errors.Is(err, realtime.ErrInvalidOption) {
		t.Errorf("%s: ServerCount = %v, want ErrInvalidOption", name, err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("%s: Close = %v", name, err)
	}
}

// Healthy follows Redis: nil while it answers, ErrUnavailable while it is
// down, nil again once it is back.
func TestHealthyFollowsRedis(t *testing.T) {
	srv := redistest.Start(t)
	a := startAdapter(t, srv, newFakeLocal(nil))
	var _ realtime.HealthChecker = a
	if err := a.Healthy(t.Context()); err != nil {
		t.Fatalf("Healthy with Redis up: %v", err)
	}
	srv.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	err := a.Healthy(ctx)
	cancel()
	if !errors.Is(err, redisadapter.ErrUnavailable) {
		t.Fatalf("Healthy with Redis down: %v, want ErrUnavailable", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		err := a.Healthy(t.Context())
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Healthy after Redis came back: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // the clients reconnect on their own schedule
	}
}

package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tradewithai/realtime"
)

// TestAbuseConcurrentOperations drives every public operation at once from
// many goroutines over real connections: 50 clients subscribe, unsubscribe
// and join and leave rooms through a handler while the host publishes in
// every way, moves clients between rooms, reads Stats and disconnects
// clients. Run with -race. Afterwards every room is empty and the counters
// add up.
func TestAbuseConcurrentOperations(t *testing.T) {
	const (
		clients = 50
		rounds  = 6   // request rounds per client
		hostOps = 150 // operations per host goroutine
	)
	symbols := []string{"BTC/USD", "ETH/USD", "SOL/USD", "ADA/USD", "XRP/USD"}
	g := startAbuseGateway(t,
		realtime.WithAuthenticator(abuseAuthenticator(t)),
		realtime.WithLimiter(realtime.NoLimit()),
		realtime.WithHeartbeatInterval(10*time.Millisecond),
		realtime.WithConnectionCountInterval(10*time.Millisecond),
	)
	gw := g.gw
	room := func(req *realtime.Request) (string, error) {
		var p struct {
			Room string `json:"room"`
		}
		if err := req.Decode(&p); err != nil {
			return "", err
		}
		return p.Room, nil
	}
	handlers := map[string]realtime.HandlerFunc{
		"room:join": func(_ context.Context, req *realtime.Request) (any, error) {
			r, err := room(req)
			if err == nil {
				req.Client.Join(r)
				err = req.Client.Emit("room:joined", map[string]string{"room": r})
			}
			return nil, err
		},
		"room:leave": func(_ context.Context, req *realtime.Request) (any, error) {
			r, err := room(req)
			if err == nil {
				req.Client.Leave(r)
				err = req.Client.Emit("room:left", map[string]string{"room": r})
			}
			return nil, err
		},
		"bye": func(_ context.Context, req *realtime.Request) (any, error) {
			req.Client.Disconnect()
			return nil, nil
		},
	}
	for name, fn := range handlers {
		if err := gw.Handle(name, fn); err != nil {
			t.Fatal(err)
		}
	}

	// Three ways to leave: the client closes its connection, a handler
	// disconnects it, or the host disconnects its user's sockets.
	const (
		leaveByClose = iota
		leaveByHandler
		leaveByHost
	)
	user := func(i int) string {
		if i%3 == leaveByHost {
			return fmt.Sprintf("solo-%d", i)
		}
		return fmt.Sprintf("shared-%d", i%4)
	}

	conns := make([]*protoClient, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients*4)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialProto(t, g.url, hourToken(t, user(i)), protoOptions{})
			if err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			c.listen()
			conns[i] = c
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if n := gw.ConnectedClients(); n != clients {
		t.Fatalf("ConnectedClients = %d, want %d", n, clients)
	}

	// The host's goroutines run until the clients are done.
	stop := make(chan struct{})
	var host sync.WaitGroup
	pace := func(fn func(i int) error) {
		host.Add(1)
		go func() {
			defer host.Done()
			tk := time.NewTicker(2 * time.Millisecond)
			defer tk.Stop()
			for i := 0; i < hostOps; i++ {
				select {
				case <-stop:
					return
				case <-tk.C:
				}
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	ctx := t.Context()
	pace(func(i int) error {
		return gw.BroadcastToSymbol(realtime.ChannelMarketData, symbols[i%len(symbols)], "ticker:update", tickPayload{Symbol: symbols[i%len(symbols)], Seq: i})
	})
	pace(func(i int) error { return gw.Emit(t.Context(), realtime.Selector{}, "news", map[string]int{"i": i}) })
	pace(func(i int) error { return gw.BroadcastToRoom(realtime.ChannelTrading, "order", map[string]int{"i": i}) })
	pace(func(i int) error {
		return gw.Emit(ctx, realtime.Selector{Rooms: []string{realtime.ChannelTrading, "vip"}}, "deal", map[string]int{"i": i})
	})
	pace(func(i int) error { return gw.SendToUser(user(i%clients), "notice", map[string]int{"i": i}) })
	pace(func(i int) error {
		return gw.Emit(ctx, realtime.Selector{Rooms: []string{realtime.ChannelMarketData}, Except: []string{"vip"}}, "digest", i)
	})
	pace(func(i int) error {
		sel := realtime.Selector{Rooms: []string{realtime.ChannelTrading}}
		if i%2 == 0 {
			return gw.JoinRooms(ctx, sel, "host-room")
		}
		return gw.LeaveRooms(ctx, sel, "host-room")
	})
	pace(func(int) error {
		s := gw.Stats()
		if s.ConnectedClients != len(s.Clients) {
			return fmt.Errorf("Stats: ConnectedClients %d but %d clients listed", s.ConnectedClients, len(s.Clients))
		}
		total := 0
		for _, c := range s.Clients {
			if !slices.IsSorted(c.Subscriptions) {
				return fmt.Errorf("Stats: subscriptions of %s not sorted: %v", c.ID, c.Subscriptions)
			}
			total += len(c.Subscriptions)
		}
		if total != s.TotalSubscriptions {
			return fmt.Errorf("Stats: TotalSubscriptions %d, but the clients list %d", s.TotalSubscriptions, total)
		}
		_ = gw.RoomSize(realtime.ChannelTrading)
		_ = gw.ConnectedClients()
		return nil
	})

	// Each client: rounds of subscribe / join / unsubscribe / leave, each
	// request awaited, then it leaves in its own way.
	sent := make([]int, clients)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var steps []clientStep
			for r := range rounds {
				sym := symbols[(i+r)%len(symbols)]
				steps = append(steps,
					clientStep{"subscribe", map[string]any{"channel": realtime.ChannelMarketData, "symbols": []string{sym}}, "subscribed"},
					clientStep{"subscribe", map[string]any{"channel": realtime.ChannelTrading}, "subscribed"},
					clientStep{"subscribe", map[string]any{"channel": realtime.ChannelMarketData}, "subscribed"},
					clientStep{"room:join", map[string]string{"room": "vip"}, "room:joined"},
					clientStep{"get-subscriptions", nil, "subscriptions"},
					clientStep{"unsubscribe", map[string]any{"channel": realtime.ChannelMarketData}, "unsubscribed"},
					clientStep{"room:leave", map[string]string{"room": "vip"}, "room:left"},
				)
				if r%2 == 1 {
					steps = append(steps, clientStep{"unsubscribe", map[string]any{"channel": realtime.ChannelTrading}, "unsubscribed"})
				}
			}
			for _, s := range steps {
				if err := c.request(s.event, s.payload, s.reply); err != nil {
					errs <- fmt.Errorf("client %d: %w", i, err)
					return
				}
				sent[i]++
			}
			switch i % 3 {
			case leaveByClose:
				c.close()
			case leaveByHandler:
				if err := c.emit("bye"); err != nil {
					errs <- fmt.Errorf("client %d: bye: %w", i, err)
					return
				}
				sent[i]++
				if err := awaitServerDisconnect(c); err != nil {
					errs <- fmt.Errorf("client %d, disconnected by a handler: %w", i, err)
				}
				c.close()
			case leaveByHost:
				if err := gw.DisconnectSockets(ctx, realtime.Selector{Rooms: []string{"user:" + user(i)}}); err != nil {
					errs <- fmt.Errorf("client %d: DisconnectSockets: %w", i, err)
					return
				}
				if err := awaitServerDisconnect(c); err != nil {
					errs <- fmt.Errorf("client %d, disconnected by the host: %w", i, err)
				}
				c.close()
			}
		}()
	}
	wg.Wait()
	close(stop)
	host.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	pollUntil(t, "every client to be gone", func() bool { return gw.ConnectedClients() == 0 })
	rooms := []string{realtime.ChannelTrading, realtime.ChannelMarketData, "vip", "host-room"}
	for _, s := range symbols {
		rooms = append(rooms, realtime.ChannelMarketData+":"+s)
	}
	for i := range clients {
		rooms = append(rooms, "user:"+user(i))
	}
	for _, r := range rooms {
		if n := gw.RoomSize(r); n != 0 {
			t.Errorf("RoomSize(%q) = %d after every client left, want 0", r, n)
		}
	}
	s := gw.Stats()
	if s.ConnectedClients != 0 || len(s.Clients) != 0 || s.TotalSubscriptions != 0 {
		t.Errorf("Stats after every client left: %d connected, %d listed, %d subscriptions; want none",
			s.ConnectedClients, len(s.Clients), s.TotalSubscriptions)
	}
	total := 0
	for _, n := range sent {
		total += n
	}
	c := s.Counters
	if c.Connections != clients {
		t.Errorf("Counters.Connections = %d, want %d", c.Connections, clients)
	}
	if c.EventsIn != uint64(total) {
		t.Errorf("Counters.EventsIn = %d, want the %d events the clients sent", c.EventsIn, total)
	}
	if c.SlowConsumers != 0 || c.HandlerErrors != 0 || c.HandlerPanics != 0 || c.RateLimited != 0 {
		t.Errorf("Counters = %+v, want no slow consumer, handler error, panic or rate limiting", c)
	}
	if c.EventsOut == 0 {
		t.Error("Counters.EventsOut = 0: nothing was delivered")
	}
}

// clientStep is one client request and the event that answers it.
type clientStep struct {
	event   string
	payload any
	reply   string
}

// awaitServerDisconnect waits for the server's DISCONNECT, draining events.
func awaitServerDisconnect(c *protoClient) error {
	timeout := time.NewTimer(abuseWait)
	defer timeout.Stop()
	for {
		select {
		case <-c.events:
		case <-c.serverDis:
			return nil
		case <-c.done:
			return errors.New("connection ended without a DISCONNECT")
		case <-timeout.C:
			return fmt.Errorf("no DISCONNECT within %v", abuseWait)
		}
	}
}

package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tradewithai/realtime"
)

// Adapter connects gateway instances through Redis pub/sub, speaking the
// protocol of Node's @socket.io/redis-adapter 8.x (classic mode), so Go
// gateways and Node Socket.IO servers can share one cluster. Pass it to
// realtime.WithAdapter; the gateway starts it and closes it on Shutdown.
//
// An Adapter serves one gateway. Its methods are safe for concurrent use.
type Adapter struct {
	client redis.UniversalClient
	err    error // what was wrong with New's arguments; Start returns it
	cfg    *config
	log    *slog.Logger
	uid    string
	ch     channels
	// responseCh is the channel this instance's requests are answered on
	// when servers answer on specific channels.
	responseCh string

	started atomic.Bool
	closed  atomic.Bool
	local   realtime.Local
	ps      *redis.PubSub
	queue   chan outbound
	ctx     context.Context // canceled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	pub     publishState
	pending pendingRequests
	stats   counters
}

// New returns an Adapter that publishes and subscribes through client,
// which stays the caller's to close after the gateway has shut down. It
// does not contact Redis: the gateway's realtime.New does, through Start,
// so New can be written inline:
//
//	gw, err := realtime.New(realtime.WithAdapter(redisadapter.New(rdb)))
//
// A nil client or an invalid option is reported by Start (and so by
// realtime.New) with an error wrapping realtime.ErrInvalidOption.
func New(client redis.UniversalClient, opts ...Option) *Adapter {
	cfg, err := newConfig(client, opts)
	a := &Adapter{
		client: client,
		err:    err,
		cfg:    cfg,
		log:    cfg.logger,
		uid:    newID(),
		ch:     newChannels(cfg.key),
		queue:  make(chan outbound, cfg.queueSize),
	}
	a.responseCh = a.ch.specificResponse(a.uid)
	a.pending.init()
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a
}

// UID returns the id that marks this instance's messages, which it ignores
// when they come back from Redis.
func (a *Adapter) UID() string { return a.uid }

// Start connects to Redis and subscribes to the cluster's channels. It
// fails with an error wrapping ErrUnavailable when Redis does not answer
// within the start timeout (WithStartTimeout), so a gateway configured
// with an unreachable Redis does not start, and with an error wrapping
// realtime.ErrInvalidOption when New was given a nil client or an invalid
// option. realtime.New calls it.
func (a *Adapter) Start(ctx context.Context, local realtime.Local) error {
	if a.err != nil {
		return a.err
	}
	if local == nil {
		return errors.New("redisadapter: nil Local")
	}
	if a.closed.Load() {
		return ErrClosed
	}
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("redisadapter: adapter already started: an Adapter serves one gateway")
	}
	a.local = local
	ctx, cancel := context.WithTimeout(ctx, a.cfg.startTimeout)
	defer cancel()
	if err := a.client.Ping(ctx).Err(); err != nil {
		a.started.Store(false)
		return fmt.Errorf("%w: %s does not answer: %w", ErrUnavailable, describe(a.client), err)
	}
	ps := a.client.Subscribe(a.ctx)
	err := errors.Join(
		ps.PSubscribe(ctx, a.ch.broadcast+"*"),
		ps.Subscribe(ctx, a.ch.request, a.ch.response, a.responseCh),
	)
	if err != nil {
		_ = ps.Close()
		a.started.Store(false)
		return fmt.Errorf("%w: subscribing on %s: %w", ErrUnavailable, describe(a.client), err)
	}
	a.ps = ps
	msgs := ps.ChannelWithSubscriptions(redis.WithChannelSize(a.cfg.queueSize))
	r := newMsgReader()
	// Wait for Redis to confirm the four subscriptions, so that the gateway
	// counts as an instance and receives broadcasts once New returns.
	for confirmed := 0; confirmed < 4; {
		select {
		case msg := <-msgs:
			if _, ok := msg.(*redis.Subscription); ok {
				confirmed++
			} else {
				a.dispatch(r, msg)
			}
		case <-ctx.Done():
			_ = ps.Close()
			a.started.Store(false)
			return fmt.Errorf("%w: %s did not confirm the subscriptions: %w", ErrUnavailable, describe(a.client), ctx.Err())
		}
	}
	a.wg.Add(2)
	go a.receive(r, msgs)
	go a.publish()
	return nil
}

// Close stops the adapter: messages still queued are published (within
// the publish timeout) and the subscriptions end. The Redis client stays
// open. Gateway.Shutdown calls it.
func (a *Adapter) Close() error {
	if !a.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	a.cancel()
	var err error
	if a.ps != nil {
		err = a.ps.Close()
	}
	a.wg.Wait()
	return err
}

// Publish publishes m for the other instances' clients that sel picks. It
// does not wait for Redis: the message is encoded once and queued (see
// WithQueueSize).
func (a *Adapter) Publish(_ context.Context, sel realtime.Selector, m *realtime.Message) error {
	if err := a.usable(); err != nil {
		return err
	}
	args, err := messageArgs(m)
	if err != nil {
		return err
	}
	msg, err := encodeBroadcast(a.uid, sel, m.Event(), args)
	if err != nil {
		return err
	}
	return a.enqueue(a.ch.broadcastChannel(sel), msg)
}

// JoinRooms makes the selected clients of the other instances join rooms.
func (a *Adapter) JoinRooms(_ context.Context, sel realtime.Selector, rooms []string) error {
	return a.selectorRequest(reqRemoteJoin, sel, rooms)
}

// LeaveRooms makes the selected clients of the other instances leave
// rooms.
func (a *Adapter) LeaveRooms(_ context.Context, sel realtime.Selector, rooms []string) error {
	return a.selectorRequest(reqRemoteLeave, sel, rooms)
}

// DisconnectSockets disconnects the selected clients of the other
// instances.
func (a *Adapter) DisconnectSockets(_ context.Context, sel realtime.Selector) error {
	return a.selectorRequest(reqRemoteDisconnect, sel, nil)
}

func (a *Adapter) selectorRequest(typ int, sel realtime.Selector, rooms []string) error {
	if err := a.usable(); err != nil {
		return err
	}
	if typ != reqRemoteDisconnect && len(rooms) == 0 {
		return nil
	}
	msg, err := encodeSelectorRequest(a.uid, typ, sel, rooms)
	if err != nil {
		return err
	}
	return a.enqueue(a.ch.request, msg)
}

// ServerCount returns the number of servers subscribed to the namespace's
// request channel (PUBSUB NUMSUB), this one included, as the Node adapter
// counts them.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	if a.err != nil {
		return 1, a.err
	}
	var n int64
	if cc, ok := a.client.(*redis.ClusterClient); ok {
		// Each node counts its own subscribers.
		var mu sync.Mutex
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			res, err := c.PubSubNumSub(ctx, a.ch.request).Result()
			mu.Lock()
			n += res[a.ch.request]
			mu.Unlock()
			return err
		})
		if err != nil {
			return 1, fmt.Errorf("redisadapter: counting servers: %w", err)
		}
	} else {
		res, err := a.client.PubSubNumSub(ctx, a.ch.request).Result()
		if err != nil {
			return 1, fmt.Errorf("redisadapter: counting servers: %w", err)
		}
		n = res[a.ch.request]
	}
	// While its subscription is being restored, this instance still counts.
	return max(int(n), 1), nil
}

// RemoteClientCount asks every other server for its sockets (the Node
// adapter's SOCKETS request) and returns how many they have. When some
// servers do not answer within the request timeout, it returns the count
// of those that did with an error wrapping ErrTimeout.
func (a *Adapter) RemoteClientCount(ctx context.Context) (int, error) {
	if err := a.usable(); err != nil {
		return 0, err
	}
	servers, err := a.ServerCount(ctx)
	if err != nil {
		return 0, err
	}
	want := servers - 1
	if want <= 0 {
		return 0, nil
	}
	id := newID()
	answers := a.pending.add(id, want)
	defer a.pending.remove(id)
	msg, err := json.Marshal(socketsRequest{UID: a.uid, RequestID: id, Type: reqSockets, Rooms: []string{}})
	if err != nil {
		return 0, err
	}
	if err := a.enqueue(a.ch.request, msg); err != nil {
		return 0, err
	}
	timer := time.NewTimer(a.cfg.requestTimeout)
	defer timer.Stop()
	total := 0
	for got := 0; got < want; got++ {
		select {
		case n := <-answers:
			total += n
		case <-timer.C:
			return total, fmt.Errorf("%w: %d of %d servers answered", ErrTimeout, got, want)
		case <-ctx.Done():
			return total, fmt.Errorf("redisadapter: %d of %d servers answered: %w", got, want, ctx.Err())
		case <-a.ctx.Done():
			return total, ErrClosed
		}
	}
	return total, nil
}

// Stats counts what the adapter did since it started.
type Stats struct {
	// Published is the number of messages sent to Redis.
	Published uint64 `json:"published"`
	// Dropped is the number of messages that never reached Redis: the
	// queue was full, Redis was unavailable or the publish failed.
	Dropped uint64 `json:"dropped"`
	// Delivered is the number of broadcasts from other servers handed to
	// local clients.
	Delivered uint64 `json:"delivered"`
	// Skipped is the number of broadcasts from other servers that no local
	// client was selected for, dropped before their packet was decoded.
	Skipped uint64 `json:"skipped"`
	// Malformed is the number of messages that could not be decoded.
	Malformed uint64 `json:"malformed"`
	// Resubscriptions is the number of times the subscriptions were
	// restored after the connection to Redis was lost.
	Resubscriptions uint64 `json:"resubscriptions"`
}

// Healthy reports whether the adapter reaches Redis: it pings Redis on the
// publishing client and on the subscription's connection (which go-redis
// re-opens by itself after a loss), within ctx. realtime.Gateway's
// ReadyHandler calls it, so a gateway cut off from the other instances
// stops receiving new clients.
func (a *Adapter) Healthy(ctx context.Context) error {
	if err := a.usable(); err != nil {
		return err
	}
	if err := a.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := a.ps.Ping(ctx); err != nil {
		return fmt.Errorf("%w: subscription: %w", ErrUnavailable, err)
	}
	return nil
}

// Stats returns a snapshot of the adapter's counters.
func (a *Adapter) Stats() Stats {
	return Stats{
		Published:       a.stats.published.Load(),
		Dropped:         a.stats.dropped.Load(),
		Delivered:       a.stats.delivered.Load(),
		Skipped:         a.stats.skipped.Load(),
		Malformed:       a.stats.malformed.Load(),
		Resubscriptions: a.stats.resubscriptions.Load(),
	}
}

type counters struct {
	published, dropped, delivered, skipped, malformed, resubscriptions atomic.Uint64
}

func (a *Adapter) usable() error {
	if a.closed.Load() {
		return ErrClosed
	}
	if a.err != nil {
		return a.err
	}
	if !a.started.Load() {
		return ErrNotStarted
	}
	return nil
}

// selects reports whether sel may pick a local client, judging from room
// membership only (exclusions are left to delivery).
func (a *Adapter) selects(sel realtime.Selector) bool {
	if len(sel.Rooms) == 0 {
		return a.local.ClientCount() > 0
	}
	for _, r := range sel.Rooms {
		if a.local.HasRoom(r) {
			return true
		}
	}
	return false
}

// newID returns a random id for an instance or a request.
func newID() string { return rand.Text() }

// describe names the Redis server a client talks to, for error messages.
func describe(c redis.UniversalClient) string {
	switch c := c.(type) {
	case *redis.Client:
		return "redis at " + c.Options().Addr
	case *redis.ClusterClient:
		return fmt.Sprintf("redis cluster %v", c.Options().Addrs)
	default:
		return "redis"
	}
}

// pendingRequests tracks this instance's requests awaiting answers.
type pendingRequests struct {
	mu   sync.Mutex
	reqs map[string]chan int
}

func (p *pendingRequests) init() { p.reqs = make(map[string]chan int) }

// add registers a request expecting n answers, which arrive on the
// returned channel.
func (p *pendingRequests) add(id string, n int) <-chan int {
	ch := make(chan int, n)
	p.mu.Lock()
	p.reqs[id] = ch
	p.mu.Unlock()
	return ch
}

func (p *pendingRequests) remove(id string) {
	p.mu.Lock()
	delete(p.reqs, id)
	p.mu.Unlock()
}

func (p *pendingRequests) has(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.reqs[id]
	return ok
}

// answer records one server's answer; answers beyond those expected are
// dropped.
func (p *pendingRequests) answer(id string, count int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch, ok := p.reqs[id]; ok {
		select {
		case ch <- count:
		default:
		}
	}
}

package realtime

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/tradewithai/realtime/internal/socketio"
)

// Client-to-server events the gateway answers itself.
const (
	EventSubscribe        = "subscribe"
	EventUnsubscribe      = "unsubscribe"
	EventPing             = "ping"
	EventGetSubscriptions = "get-subscriptions"
)

var builtinEvents = []string{EventSubscribe, EventUnsubscribe, EventPing, EventGetSubscriptions, EventRefreshToken}

// Payloads of server-to-client events, as in the reference deployment.
type (
	connectedPayload struct {
		Message   string `json:"message"`
		ClientID  string `json:"clientId"`
		UserID    string `json:"userId"`
		Timestamp string `json:"timestamp"`
	}
	subscriptionPayload struct {
		Channel   string   `json:"channel"`
		Symbols   []string `json:"symbols"`
		Room      string   `json:"room"`
		Rooms     []string `json:"rooms,omitempty"`
		Timestamp string   `json:"timestamp"`
	}
	timestampPayload struct {
		Timestamp string `json:"timestamp"`
	}
	countPayload struct {
		Count     int    `json:"count"`
		Timestamp string `json:"timestamp"`
	}
	subscriptionsPayload struct {
		Subscriptions []string `json:"subscriptions"`
		Count         int      `json:"count"`
		Timestamp     string   `json:"timestamp"`
	}
	// subscriptionRequest is the payload of subscribe and unsubscribe.
	subscriptionRequest struct {
		Channel string   `json:"channel"`
		Symbols []string `json:"symbols"`
	}
)

// HandlerFunc handles a client event registered with Gateway.Handle. What it
// returns is the client's acknowledgement (when the client passed a
// callback); an error becomes an `error` event instead (see Error). It runs
// on the client's read goroutine: move long work (streaming a reply) to a
// goroutine bound to ctx, which ends when the client disconnects.
type HandlerFunc func(ctx context.Context, req *Request) (any, error)

// Request is a client event delivered to a HandlerFunc.
type Request struct {
	Client *Client
	Event  string
	args   socketio.Args
}

// NumArgs returns the number of arguments the client sent.
func (r *Request) NumArgs() int { return r.args.Len() }

// Decode unmarshals the first argument into v: the usual single payload.
func (r *Request) Decode(v any) error { return r.Arg(0, v) }

// Arg unmarshals argument i into v; a binary argument (a Buffer, a Blob,
// an ArrayBuffer) decodes into a *[]byte.
func (r *Request) Arg(i int, v any) error {
	if err := r.args.Decode(i, v); err != nil {
		return &Error{Code: CodeInvalidPayload, Message: fmt.Sprintf("%s: argument %d has the wrong shape", r.Event, i), Err: err}
	}
	return nil
}

// Handle registers fn for client events named event. It returns an error for
// the built-in events (subscribe, unsubscribe, ping, get-subscriptions,
// auth:refresh) and for Socket.IO's reserved names. Registering an event again replaces its
// handler.
func (g *Gateway) Handle(event string, fn HandlerFunc) error {
	if fn == nil {
		return invalid("nil handler for %q", event)
	}
	if event == "" || slices.Contains(builtinEvents, event) || socketio.IsReservedEvent(event) {
		return invalid("event %q is reserved", event)
	}
	g.handlersMu.Lock()
	g.handlers[event] = fn
	g.handlersMu.Unlock()
	return nil
}

// dispatch handles one client event: rate limit, then a built-in or a
// registered handler. Nothing here disconnects the client.
func (g *Gateway) dispatch(c *Client, e *socketio.ClientEvent) {
	g.counters.eventsIn.Add(1)
	// Host code runs below (handlers, the limiter, the channel authorizer,
	// room naming): a panic in any of it is the client's error event, not
	// the server's end.
	defer func() {
		if r := recover(); r != nil {
			g.counters.handlerPanics.Add(1)
			g.cfg.logger.Error("realtime: panic while handling an event", "event", e.Name, "client", c.ID(), "panic", r, "stack", string(debug.Stack()))
			c.fail(e, NewError(CodeInternal, "internal error"))
		}
	}()
	if !c.limiter.Allow(e.Name) {
		g.counters.rateLimited.Add(1)
		c.fail(e, NewError(CodeRateLimited, "rate limit exceeded; event dropped"))
		return
	}
	switch e.Name {
	case EventSubscribe:
		c.answer(e, "subscribed", func() (any, error) { return g.subscribe(c, e) })
	case EventUnsubscribe:
		c.answer(e, "unsubscribed", func() (any, error) { return g.unsubscribe(c, e) })
	case EventPing:
		c.answer(e, "pong", func() (any, error) { return timestampPayload{Timestamp: Timestamp(time.Now())}, nil })
	case EventGetSubscriptions:
		c.answer(e, "subscriptions", func() (any, error) {
			subs := c.Subscriptions()
			return subscriptionsPayload{Subscriptions: subs, Count: len(subs), Timestamp: Timestamp(time.Now())}, nil
		})
	case EventRefreshToken:
		c.answer(e, "auth:refreshed", func() (any, error) { return g.refreshToken(c, e) })
	default:
		g.handlersMu.RLock()
		fn := g.handlers[e.Name]
		g.handlersMu.RUnlock()
		if fn == nil {
			c.fail(e, NewError(CodeUnknownEvent, fmt.Sprintf("unknown event %q", e.Name)))
			return
		}
		g.runHandler(c, e, fn)
	}
}

// answer runs a built-in event: its reply goes out as the reply event and,
// when the client passed a callback, as the acknowledgement too.
func (c *Client) answer(e *socketio.ClientEvent, reply string, run func() (any, error)) {
	payload, err := run()
	if err != nil {
		c.fail(e, err)
		return
	}
	_ = c.Emit(reply, payload)
	_ = c.sock.Ack(e, payload)
}

// fail tells the client about an error: an `error` event, and the
// acknowledgement when one was asked for.
func (c *Client) fail(e *socketio.ClientEvent, err error) {
	var ce *Error
	if !errors.As(err, &ce) {
		ce = NewError(CodeInternal, "internal error")
	}
	p := ce.payload(time.Now())
	_ = c.Emit("error", p)
	_ = c.sock.Ack(e, p)
}

func (g *Gateway) runHandler(c *Client, e *socketio.ClientEvent, fn HandlerFunc) {
	result, err := fn(c.Context(), &Request{Client: c, Event: e.Name, args: e.Args})
	if err != nil {
		g.counters.handlerErrors.Add(1)
		var ce *Error
		if !errors.As(err, &ce) {
			g.cfg.logger.Error("realtime: handler failed", "event", e.Name, "client", c.ID(), "err", err)
		}
		c.fail(e, err)
		return
	}
	if !e.WantsAck() {
		return
	}
	if result == nil {
		_ = c.sock.Ack(e)
		return
	}
	_ = c.sock.Ack(e, result)
}

func (g *Gateway) decodeSubscription(e *socketio.ClientEvent) (subscriptionRequest, *Error) {
	var req subscriptionRequest
	if e.Args.Len() == 0 || e.Args.Decode(0, &req) != nil || req.Channel == "" {
		return req, NewError(CodeInvalidPayload, fmt.Sprintf("%s expects {channel, symbols?}", e.Name))
	}
	// The reference deployment names symbol rooms "market-data:BTC/USD,ETH/USD":
	// a channel written that way means the channel with those symbols.
	if prefix, list, ok := strings.Cut(req.Channel, ":"); ok && len(req.Symbols) == 0 {
		if ch, known := g.cfg.channels[prefix]; known && ch.Symbols {
			req.Channel, req.Symbols = prefix, strings.Split(list, ",")
		}
	}
	tooMany := NewError(CodeTooManySymbols, fmt.Sprintf("at most %d symbols per request", g.cfg.maxSymbols))
	if len(req.Symbols) > 4*g.cfg.maxSymbols {
		return req, tooMany // not worth deduplicating
	}
	symbols := make([]string, 0, len(req.Symbols))
	for _, s := range req.Symbols {
		if !validSymbol(s) {
			return req, NewError(CodeInvalidSymbol, fmt.Sprintf("invalid symbol %q: want 1 to %d characters of A-Z a-z 0-9 / . _ -", s, maxSymbolLen))
		}
		if !slices.Contains(symbols, s) {
			symbols = append(symbols, s)
		}
	}
	if len(symbols) > g.cfg.maxSymbols {
		return req, tooMany
	}
	req.Symbols = symbols
	return req, nil
}

// channel resolves a subscription request to its channel and rooms.
func (g *Gateway) channelRooms(c *Client, req subscriptionRequest) (Channel, []string, *Error) {
	ch, ok := g.cfg.channels[req.Channel]
	if !ok {
		if req.Channel == c.userRoom && len(req.Symbols) == 0 {
			return Channel{Name: req.Channel}, nil, nil
		}
		if g.isUserRoom(req.Channel) {
			return ch, nil, NewError(CodeForbidden, "a user room is private to its user")
		}
		return ch, nil, NewError(CodeUnknownChannel, fmt.Sprintf("unknown channel %q", req.Channel))
	}
	if len(req.Symbols) == 0 {
		return ch, []string{ch.Name}, nil
	}
	if !ch.Symbols {
		return ch, nil, NewError(CodeInvalidPayload, fmt.Sprintf("channel %q does not take symbols", ch.Name))
	}
	rooms := make([]string, len(req.Symbols))
	for i, s := range req.Symbols {
		rooms[i] = g.cfg.naming.Symbol(ch.Name, s)
		if g.isUserRoom(rooms[i]) {
			return ch, nil, NewError(CodeForbidden, "a user room is private to its user")
		}
	}
	return ch, rooms, nil
}

func (g *Gateway) subscribe(c *Client, e *socketio.ClientEvent) (any, error) {
	req, err := g.decodeSubscription(e)
	if err != nil {
		return nil, err
	}
	_, rooms, err := g.channelRooms(c, req)
	if err != nil {
		return nil, err
	}
	if rooms == nil { // the client's own user room: joined at connect
		return subscriptionReply(req, []string{c.userRoom}), nil
	}
	if g.cfg.authorizer != nil {
		if aerr := g.cfg.authorizer(c.Context(), c, req.Channel, req.Symbols); aerr != nil {
			var ce *Error
			if !errors.As(aerr, &ce) {
				ce = NewError(CodeForbidden, fmt.Sprintf("subscription to %q refused", req.Channel))
			}
			return nil, ce
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, NewError(CodeForbidden, "disconnected")
	}
	added := 0
	for _, r := range rooms {
		if !c.subs.has(r) {
			added++
		}
	}
	if c.subs.len()+added > g.cfg.maxSubscriptions {
		return nil, NewError(CodeTooManySubscriptions, fmt.Sprintf("at most %d subscriptions per connection", g.cfg.maxSubscriptions))
	}
	for _, r := range rooms {
		c.subs.set(r, req.Channel)
	}
	g.rooms.join(c, rooms...)
	return subscriptionReply(req, rooms), nil
}

func (g *Gateway) unsubscribe(c *Client, e *socketio.ClientEvent) (any, error) {
	req, err := g.decodeSubscription(e)
	if err != nil {
		return nil, err
	}
	ch, rooms, err := g.channelRooms(c, req)
	if err != nil {
		return nil, err
	}
	if rooms == nil {
		return nil, NewError(CodeForbidden, "the user room cannot be left")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(req.Symbols) == 0 && ch.Symbols {
		// The whole channel: its own room and every symbol room.
		for r, owner := range c.subs.all() {
			if owner == ch.Name && r != ch.Name {
				rooms = append(rooms, r)
			}
		}
		slices.Sort(rooms[1:])
	}
	for _, r := range rooms {
		c.subs.delete(r)
	}
	g.rooms.leave(c, rooms...)
	return subscriptionReply(req, rooms), nil
}

func subscriptionReply(req subscriptionRequest, rooms []string) subscriptionPayload {
	p := subscriptionPayload{Channel: req.Channel, Symbols: req.Symbols, Room: rooms[0], Timestamp: Timestamp(time.Now())}
	if len(rooms) > 1 {
		p.Rooms = rooms
	}
	return p
}

func (h namespaceHandler) Event(s *socketio.Socket, e *socketio.ClientEvent) {
	c := s.Value().(*Client)
	h.g.dispatch(c, e)
}

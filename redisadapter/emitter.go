package redisadapter

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"github.com/tradewithai/realtime"
)

// emitterUID marks messages published by emitters, as Node's
// @socket.io/redis-emitter marks them: no server ignores them as its own.
const emitterUID = "emitter"

// reservedEvents are the event names socket.io-client keeps for itself;
// Node's emitter refuses them too.
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}

// Emitter publishes events to the clients of every gateway instance (and
// Node Socket.IO server) of a cluster, from a process that hosts no
// sockets: an order engine, a market-data feed. It speaks the protocol of
// Node's @socket.io/redis-emitter 5.x.
//
// Each call is one PUBLISH (or, for room operations, one request), bounded
// by ctx. An Emitter is safe for concurrent use and holds no resources of
// its own: the Redis client stays the caller's.
type Emitter struct {
	client redis.UniversalClient
	err    error // what was wrong with NewEmitter's arguments; every method returns it
	ch     channels
	naming realtime.RoomNaming
}

// NewEmitter returns an Emitter publishing through client. Of the options,
// WithKey and WithRoomNaming apply. Like redis.NewClient, it cannot fail:
// a nil client or an invalid option is reported, with an error wrapping
// realtime.ErrInvalidOption, by every method that publishes.
func NewEmitter(client redis.UniversalClient, opts ...Option) *Emitter {
	cfg, err := newConfig(client, opts)
	return &Emitter{client: client, err: err, ch: newChannels(cfg.key), naming: cfg.naming}
}

// Emit sends an event to the clients sel picks on every instance: the
// members of any of sel.Rooms (everyone when it is empty) except the
// members of any of sel.Except. data is what the gateway's methods take:
// a JSON-encodable value, or a []byte that clients receive as binary.
func (e *Emitter) Emit(ctx context.Context, sel realtime.Selector, event string, data any) error {
	if e.err != nil {
		return e.err
	}
	if event == "" {
		return errors.New("redisadapter: empty event name")
	}
	if reservedEvents[event] {
		return fmt.Errorf("redisadapter: %q is a reserved event name", event)
	}
	msg, err := encodeBroadcast(emitterUID, sel, event, []any{data})
	if err != nil {
		return err
	}
	channel := e.ch.broadcastChannel(sel)
	if err := e.client.Publish(ctx, channel, msg).Err(); err != nil {
		return fmt.Errorf("redisadapter: publishing %q to %s: %w", event, channel, err)
	}
	return nil
}

// BroadcastToRoom sends an event to every client in room, on every
// instance.
func (e *Emitter) BroadcastToRoom(ctx context.Context, room, event string, data any) error {
	return e.Emit(ctx, realtime.Selector{Rooms: []string{room}}, event, data)
}

// SendToUser sends an event to every connection of a user, on every
// instance (the user's room, named by WithRoomNaming).
func (e *Emitter) SendToUser(ctx context.Context, userID, event string, data any) error {
	return e.BroadcastToRoom(ctx, e.naming.User(userID), event, data)
}

// BroadcastToSymbol sends an update about one symbol of a channel to the
// subscribers of the channel and of that symbol's room, each client once,
// as Gateway.BroadcastToSymbol does.
func (e *Emitter) BroadcastToSymbol(ctx context.Context, channel, symbol, event string, data any) error {
	return e.Emit(ctx, realtime.Selector{Rooms: []string{channel, e.naming.Symbol(channel, symbol)}}, event, data)
}

// JoinRooms makes the clients sel picks, on every instance, join rooms.
func (e *Emitter) JoinRooms(ctx context.Context, sel realtime.Selector, rooms ...string) error {
	if len(rooms) == 0 {
		return nil
	}
	return e.request(ctx, reqRemoteJoin, sel, rooms)
}

// LeaveRooms makes the clients sel picks, on every instance, leave rooms.
func (e *Emitter) LeaveRooms(ctx context.Context, sel realtime.Selector, rooms ...string) error {
	if len(rooms) == 0 {
		return nil
	}
	return e.request(ctx, reqRemoteLeave, sel, rooms)
}

// DisconnectSockets disconnects the clients sel picks, on every instance.
func (e *Emitter) DisconnectSockets(ctx context.Context, sel realtime.Selector) error {
	return e.request(ctx, reqRemoteDisconnect, sel, nil)
}

func (e *Emitter) request(ctx context.Context, typ int, sel realtime.Selector, rooms []string) error {
	if e.err != nil {
		return e.err
	}
	msg, err := encodeSelectorRequest("", typ, sel, rooms)
	if err != nil {
		return err
	}
	if err := e.client.Publish(ctx, e.ch.request, msg).Err(); err != nil {
		return fmt.Errorf("redisadapter: publishing a request: %w", err)
	}
	return nil
}

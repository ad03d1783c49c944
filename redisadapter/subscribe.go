package redisadapter

import (
	"encoding/json"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/tradewithai/realtime"
)

// The subscription runs on its own connection, which go-redis re-opens and
// re-subscribes by itself when Redis goes away (it also pings an idle
// connection to notice a dead one). Every message is handled on one
// goroutine, in the order Redis sent them.

// receive handles messages until the subscription is closed.
func (a *Adapter) receive(r *msgReader, msgs <-chan any) {
	defer a.wg.Done()
	for msg := range msgs {
		if s, ok := msg.(*redis.Subscription); ok {
			// Redis confirms each subscription again after a reconnection.
			if s.Kind == "psubscribe" {
				a.stats.resubscriptions.Add(1)
				a.log.Info("redisadapter: subscriptions restored after a lost connection to redis")
			}
			continue
		}
		a.dispatch(r, msg)
	}
}

func (a *Adapter) dispatch(r *msgReader, msg any) {
	m, ok := msg.(*redis.Message)
	if !ok {
		return
	}
	switch {
	case strings.HasPrefix(m.Channel, a.ch.broadcast):
		a.onBroadcast(r, m.Channel, m.Payload)
	case m.Channel == a.ch.request:
		a.onRequest(r, m.Payload)
	case m.Channel == a.ch.response || m.Channel == a.responseCh:
		a.onResponse(m.Payload)
	}
}

// onBroadcast delivers another server's broadcast to the local clients it
// selects. What it costs when it selects none is the point: a one-room
// broadcast is dropped from its channel name, any other once its opts are
// read; the packet, the bulk of the message, is only decoded for delivery.
func (a *Adapter) onBroadcast(r *msgReader, channel, payload string) {
	if room := channel[len(a.ch.broadcast):]; room != "" {
		room = room[:len(room)-1] // the trailing '#'
		if !a.local.HasRoom(room) {
			a.stats.skipped.Add(1)
			return
		}
	}
	uid, packet, err := r.header(payload)
	if err != nil {
		a.malformed("broadcast", err)
		return
	}
	if uid == a.uid {
		return
	}
	sel, err := r.selector()
	if err != nil {
		a.malformed("broadcast options", err)
		return
	}
	if !a.selects(sel) {
		a.stats.skipped.Add(1)
		return
	}
	ev, ok, err := r.packet(packet)
	if err != nil {
		a.malformed("broadcast packet", err)
		return
	}
	if !ok {
		return
	}
	m, err := realtime.NewMessage(ev.name, ev.args...)
	if err != nil {
		a.malformed("broadcast event", err)
		return
	}
	a.local.Deliver(sel, m)
	a.stats.delivered.Add(1)
}

func (a *Adapter) malformed(what string, err error) {
	a.stats.malformed.Add(1)
	a.log.Debug("redisadapter: dropping a malformed "+what, "err", err)
}

// onRequest serves another server's request.
func (a *Adapter) onRequest(r *msgReader, payload string) {
	req, err := r.decodeRequest(payload)
	if err != nil {
		a.malformed("request", err)
		return
	}
	if req.UID == a.uid || (req.RequestID != "" && a.pending.has(req.RequestID)) {
		return
	}
	switch *req.Type {
	case reqSockets:
		clients := a.local.Clients(realtime.Selector{Rooms: req.Rooms})
		ids := make([]string, len(clients))
		for i, c := range clients {
			ids[i] = c.ID
		}
		a.respond(req, socketsResponse{RequestID: req.RequestID, Sockets: ids})
	case reqAllRooms:
		rooms := a.local.Rooms()
		// Socket.IO lists each socket's own room too.
		for _, c := range a.local.Clients(realtime.Selector{}) {
			rooms = append(rooms, c.ID)
		}
		a.respond(req, roomsResponse{RequestID: req.RequestID, Rooms: rooms})
	case reqRemoteJoin, reqRemoteLeave, reqRemoteDisconnect:
		// The older per-socket form (sid, room) is not sent by 8.x
		// servers or emitters.
		if req.Opts == nil {
			return
		}
		sel := req.Opts.selector()
		switch *req.Type {
		case reqRemoteJoin:
			a.local.JoinRooms(sel, req.Rooms)
		case reqRemoteLeave:
			a.local.LeaveRooms(sel, req.Rooms)
		default:
			a.local.DisconnectSockets(sel)
		}
	case reqRemoteFetch:
		sel := realtime.Selector{}
		if req.Opts != nil {
			sel = req.Opts.selector()
		}
		clients := a.local.Clients(sel)
		sockets := make([]fetchedSocket, len(clients))
		for i, c := range clients {
			rooms := c.Rooms
			if rooms == nil {
				rooms = []string{}
			}
			sockets[i] = fetchedSocket{ID: c.ID, Handshake: map[string]any{}, Rooms: rooms, Data: map[string]any{}}
		}
		a.respond(req, fetchResponse{RequestID: req.RequestID, Sockets: sockets})
	case reqBroadcast:
		// Broadcasts with acknowledgements are not delivered to the
		// gateway's clients; answering "no clients" lets the requester
		// complete with the acknowledgements of its other servers instead
		// of timing out.
		a.respond(req, countResponse{Type: reqBroadcastCount, RequestID: req.RequestID})
	}
	// reqServerSideEmit: the gateway has no server-side events.
}

// respond publishes the answer to req where the requester listens.
func (a *Adapter) respond(req *inRequest, resp any) {
	if req.RequestID == "" {
		return
	}
	msg, err := json.Marshal(resp)
	if err != nil {
		a.log.Error("redisadapter: encoding a response", "err", err)
		return
	}
	channel := a.ch.response
	if a.cfg.specificResponse && req.UID != "" {
		channel = a.ch.specificResponse(req.UID)
	}
	if err := a.enqueue(channel, msg); err != nil {
		a.log.Debug("redisadapter: response not sent", "err", err)
	}
}

// onResponse records an answer to one of this instance's requests;
// answers to other servers' requests are recognised by their first field
// and ignored unparsed.
func (a *Adapter) onResponse(payload string) {
	id, ok := responseID(payload)
	if !ok || !a.pending.has(id) {
		return
	}
	var resp struct {
		Sockets []json.RawMessage `json:"sockets"`
	}
	if err := json.Unmarshal([]byte(payload), &resp); err != nil {
		a.malformed("response", err)
		return
	}
	a.pending.answer(id, len(resp.Sockets))
}

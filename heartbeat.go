package realtime

import (
	"context"
	"time"
)

// The gateway sends heartbeats and connection counts from one goroutine for
// all clients: each is encoded once and queued on every connection, rather
// than one timer per connection.

// runTicker sends heartbeats and coalesced connection counts, and forgets
// idle handshake-rate buckets.
func (g *Gateway) runTicker() {
	defer close(g.done)
	var heartbeat, count <-chan time.Time
	if g.cfg.heartbeat > 0 {
		t := time.NewTicker(g.cfg.heartbeat)
		defer t.Stop()
		heartbeat = t.C
	}
	if g.cfg.countInterval > 0 {
		t := time.NewTicker(g.cfg.countInterval)
		defer t.Stop()
		count = t.C
	}
	var sweep <-chan time.Time
	if g.cfg.handshakes != nil {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		sweep = t.C
	}
	for {
		select {
		case <-g.ctx.Done():
			return
		case now := <-sweep:
			g.cfg.handshakes.sweep(now)
		case now := <-heartbeat:
			g.broadcastLocal("heartbeat", timestampPayload{Timestamp: Timestamp(now)})
		case now := <-count:
			if g.countDirty.Swap(false) {
				g.broadcastLocal("connection-count", countPayload{Count: g.clusterClientCount(), Timestamp: Timestamp(now)})
			}
		}
	}
}

// broadcastLocal sends an event to this instance's clients: every instance
// sends its own heartbeats and counts.
func (g *Gateway) broadcastLocal(event string, data any) {
	if m, err := NewMessage(event, data); err == nil {
		g.deliver(Selector{}, m)
	}
}

// clusterClientCount is the number of clients on every instance, or on
// this one when the other instances cannot be asked.
func (g *Gateway) clusterClientCount() int {
	if g.cfg.adapter == nil {
		return g.ConnectedClients()
	}
	ctx, cancel := context.WithTimeout(g.ctx, time.Second)
	defer cancel()
	s, err := g.ClusterStats(ctx)
	if err != nil {
		g.cfg.logger.Debug("realtime: cluster client count unavailable", "err", err)
	}
	return s.Clients
}

package realtime

import "time"

// The gateway sends heartbeats and connection counts from one goroutine for
// all clients: each is encoded once and queued on every connection, rather
// than one timer per connection.

// runTicker sends heartbeats and coalesced connection counts.
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
	for {
		select {
		case <-g.ctx.Done():
			return
		case now := <-heartbeat:
			_ = g.Broadcast("heartbeat", timestampPayload{Timestamp: Timestamp(now)})
		case now := <-count:
			if g.countDirty.Swap(false) {
				_ = g.Broadcast("connection-count", countPayload{Count: g.ConnectedClients(), Timestamp: Timestamp(now)})
			}
		}
	}
}

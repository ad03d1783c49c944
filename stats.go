package realtime

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of the gateway. It marshals to the reference
// deployment's JSON shape ({connectedClients, totalSubscriptions, clients})
// plus transport and connect time per client and counters.
type Stats struct {
	ConnectedClients   int           `json:"connectedClients"`
	TotalSubscriptions int           `json:"totalSubscriptions"`
	Clients            []ClientStats `json:"clients"`
	Counters           Counters      `json:"counters"`
}

// ClientStats describes one connected client.
type ClientStats struct {
	ID            string    `json:"id"`
	UserID        string    `json:"userId"`
	Email         string    `json:"email,omitempty"`
	Subscriptions []string  `json:"subscriptions"`
	Transport     Transport `json:"transport"`
	ConnectedAt   string    `json:"connectedAt"` // ISO-8601 UTC with milliseconds
}

// Reasons counted in Counters.Refused besides the connect_error codes
// (CodeUnauthorized, CodeInvalidToken, CodeTokenExpired,
// CodeTooManyConnections): no client receives these as codes.
const (
	// RefusedPayloadTooLarge counts connections closed because the client
	// sent more than the maximum payload in one message or request
	// (WebSocket close 1009, or HTTP 413 for long-polling).
	RefusedPayloadTooLarge = "PAYLOAD_TOO_LARGE"
	// RefusedHandshakeRateLimited counts handshakes refused because their
	// address opened sessions too fast; the client receives HTTP 503 with
	// Retry-After (see WithHandshakeRate).
	RefusedHandshakeRateLimited = "HANDSHAKE_RATE_LIMITED"
)

// Counters count what happened since the gateway started.
type Counters struct {
	Connections   uint64            `json:"connections"`   // connections accepted
	Refused       map[string]uint64 `json:"refused"`       // connections refused, by code
	EventsIn      uint64            `json:"eventsIn"`      // events received from clients
	EventsOut     uint64            `json:"eventsOut"`     // events queued to clients (a broadcast counts once per recipient)
	RateLimited   uint64            `json:"rateLimited"`   // client events dropped by the limiter
	HandlerErrors uint64            `json:"handlerErrors"` // handler calls that returned an error
	HandlerPanics uint64            `json:"handlerPanics"` // handler calls that panicked
	SlowConsumers uint64            `json:"slowConsumers"` // clients disconnected because they did not read fast enough
	TokensExpired uint64            `json:"tokensExpired"` // clients disconnected because their token expired
}

type counters struct {
	connections   atomic.Uint64
	eventsIn      atomic.Uint64
	eventsOut     atomic.Uint64
	rateLimited   atomic.Uint64
	handlerErrors atomic.Uint64
	handlerPanics atomic.Uint64
	slowConsumers atomic.Uint64
	expired       atomic.Uint64

	refusedMu sync.Mutex
	refused   map[string]*atomic.Uint64
}

func (c *counters) refuse(code string) {
	c.refusedMu.Lock()
	n := c.refused[code]
	if n == nil {
		n = new(atomic.Uint64)
		c.refused[code] = n
	}
	c.refusedMu.Unlock()
	n.Add(1)
}

func (c *counters) snapshot() Counters {
	s := Counters{
		Connections:   c.connections.Load(),
		EventsIn:      c.eventsIn.Load(),
		EventsOut:     c.eventsOut.Load(),
		RateLimited:   c.rateLimited.Load(),
		HandlerErrors: c.handlerErrors.Load(),
		HandlerPanics: c.handlerPanics.Load(),
		SlowConsumers: c.slowConsumers.Load(),
		TokensExpired: c.expired.Load(),
		Refused:       make(map[string]uint64),
	}
	c.refusedMu.Lock()
	for code, n := range c.refused {
		s.Refused[code] = n.Load()
	}
	c.refusedMu.Unlock()
	return s
}

// Stats returns a snapshot of the connected clients and the counters. It
// holds no lock while it builds the snapshot, only each client's own
// briefly, so it can be called at any rate without stalling delivery.
func (g *Gateway) Stats() Stats {
	g.clientsMu.RLock()
	clients := make([]*Client, 0, len(g.clients))
	for _, c := range g.clients {
		clients = append(clients, c)
	}
	g.clientsMu.RUnlock()

	s := Stats{ConnectedClients: len(clients), Clients: make([]ClientStats, 0, len(clients))}
	for _, c := range clients {
		subs := c.Subscriptions()
		s.TotalSubscriptions += len(subs)
		s.Clients = append(s.Clients, ClientStats{
			ID:            c.ID(),
			UserID:        c.userID,
			Email:         c.Identity().Email,
			Subscriptions: subs,
			Transport:     c.Transport(),
			ConnectedAt:   Timestamp(c.connectedAt),
		})
	}
	slices.SortFunc(s.Clients, func(a, b ClientStats) int {
		if d := strings.Compare(a.ConnectedAt, b.ConnectedAt); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	s.Counters = g.counters.snapshot()
	return s
}

// Counters returns the counters alone: unlike Stats it visits no client, so
// it costs the same however many are connected (a metrics scrape, say).
func (g *Gateway) Counters() Counters { return g.counters.snapshot() }

package realtime

import (
	"time"

	"golang.org/x/time/rate"
)

// Defaults of the reference deployment: 60 client events per minute.
const (
	// DefaultRateLimitEvents is how many events a client may send per
	// DefaultRateLimitWindow.
	DefaultRateLimitEvents = 60
	// DefaultRateLimitWindow is the window DefaultRateLimitEvents applies to.
	DefaultRateLimitWindow = time.Minute
)

// Limiter admits or refuses client events. The gateway calls NewConn once
// per connection, concurrently for different connections.
type Limiter interface {
	NewConn(connID string, id *Identity) ConnLimiter
}

// ConnLimiter admits or refuses the events of one connection. The gateway
// calls Allow for each event the client sends, from that connection's read
// goroutine, so implementations need not be safe for concurrent use unless
// they share state between connections. A refused event is dropped and the
// client is told so; the connection stays open.
type ConnLimiter interface {
	Allow(event string) bool
}

// newRateLimiter returns the token bucket WithRateLimit configures.
func newRateLimiter(events int, per time.Duration, now func() time.Time) (*rateLimiter, error) {
	if events < 1 {
		return nil, invalid("rate limit of %d events: want at least 1", events)
	}
	if per <= 0 {
		return nil, invalid("rate limit window %v: want a positive duration", per)
	}
	return &rateLimiter{
		limit: rate.Limit(float64(events) / per.Seconds()),
		burst: events,
		now:   now,
	}, nil
}

type rateLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time // time.Now except in tests, which step time by hand
}

func (l *rateLimiter) NewConn(string, *Identity) ConnLimiter {
	return &connRateLimiter{bucket: rate.NewLimiter(l.limit, l.burst), now: l.now}
}

type connRateLimiter struct {
	bucket *rate.Limiter
	now    func() time.Time
}

func (c *connRateLimiter) Allow(string) bool {
	return c.bucket.AllowN(c.now(), 1)
}

// NoLimit returns a Limiter that admits every event:
// WithLimiter(NoLimit()) turns rate limiting off.
func NoLimit() Limiter { return noLimit{} }

type noLimit struct{}

func (noLimit) NewConn(string, *Identity) ConnLimiter { return noLimit{} }

func (noLimit) Allow(string) bool { return true }

package realtime

import (
	"fmt"
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

// RateLimit returns a Limiter that admits events events per per for each
// connection, counting every event alike. It is a token bucket holding events
// tokens: a client may send a burst of events at once, the next one inside
// the window is refused, and capacity returns steadily (one event every
// per/events) rather than all at once when a window ends, so a client cannot
// double its rate by straddling a window boundary.
//
// RateLimit returns an error wrapping ErrInvalidOption when events < 1 or
// per <= 0.
func RateLimit(events int, per time.Duration) (Limiter, error) {
	l, err := newRateLimiter(events, per, time.Now)
	if err != nil {
		return nil, err
	}
	return l, nil
}

func newRateLimiter(events int, per time.Duration, now func() time.Time) (*rateLimiter, error) {
	if events < 1 {
		return nil, fmt.Errorf("%w: RateLimit: events %d, need at least 1", ErrInvalidOption, events)
	}
	if per <= 0 {
		return nil, fmt.Errorf("%w: RateLimit: window %v, need a positive duration", ErrInvalidOption, per)
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

// NoLimit returns a Limiter that admits every event.
func NoLimit() Limiter { return noLimit{} }

type noLimit struct{}

func (noLimit) NewConn(string, *Identity) ConnLimiter { return noLimit{} }

func (noLimit) Allow(string) bool { return true }

package realtime

import (
	"errors"
	"testing"
	"time"
)

// manualClock is a clock that moves only when the test says so.
type manualClock struct{ t time.Time }

func (c *manualClock) now() time.Time          { return c.t }
func (c *manualClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newManualRateLimiter(t *testing.T, events int, per time.Duration) (*rateLimiter, *manualClock) {
	t.Helper()
	clock := &manualClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	l, err := newRateLimiter(events, per, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	return l, clock
}

// admitted sends n events and counts how many were allowed.
func admitted(c ConnLimiter, n int) int {
	ok := 0
	for range n {
		if c.Allow("subscribe") {
			ok++
		}
	}
	return ok
}

func TestRateLimitDefaultSixtyPerMinute(t *testing.T) {
	l, clock := newManualRateLimiter(t, DefaultRateLimitEvents, DefaultRateLimitWindow)
	c := l.NewConn("conn-1", &Identity{UserID: "u"})

	if got := admitted(c, 60); got != 60 {
		t.Fatalf("admitted %d of the first 60 events, want all", got)
	}
	if c.Allow("ping") {
		t.Fatal("61st event inside the minute was admitted")
	}

	clock.advance(999 * time.Millisecond)
	if c.Allow("ping") {
		t.Fatal("event admitted before a token had returned")
	}
	clock.advance(time.Millisecond)
	if !c.Allow("ping") {
		t.Fatal("event refused one second later; tokens must return steadily")
	}
	if c.Allow("ping") {
		t.Fatal("two events admitted for one second of refill")
	}

	clock.advance(30 * time.Second)
	if got := admitted(c, 60); got != 30 {
		t.Fatalf("admitted %d events after 30 s, want 30", got)
	}

	// After a quiet minute the full burst is back, and no more than that.
	clock.advance(10 * time.Minute)
	if got := admitted(c, 100); got != 60 {
		t.Fatalf("admitted %d events after a long pause, want 60", got)
	}
}

func TestRateLimitCustomRate(t *testing.T) {
	l, clock := newManualRateLimiter(t, 10, time.Second)
	c := l.NewConn("c", nil)
	if got := admitted(c, 20); got != 10 {
		t.Fatalf("admitted %d, want 10", got)
	}
	clock.advance(100 * time.Millisecond)
	if got := admitted(c, 5); got != 1 {
		t.Fatalf("admitted %d after 100 ms, want 1", got)
	}
}

func TestRateLimitConnectionsAreIndependent(t *testing.T) {
	l, _ := newManualRateLimiter(t, DefaultRateLimitEvents, DefaultRateLimitWindow)
	a := l.NewConn("a", &Identity{UserID: "same-user"})
	b := l.NewConn("b", &Identity{UserID: "same-user"})

	if got := admitted(a, 100); got != 60 {
		t.Fatalf("connection a admitted %d, want 60", got)
	}
	if got := admitted(b, 100); got != 60 {
		t.Fatalf("connection b admitted %d after a was exhausted, want 60", got)
	}
}

// limiterOf returns the limiter New would configure with opts.
func limiterOf(t *testing.T, opts ...Option) Limiter {
	t.Helper()
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(cfg); err != nil {
			t.Fatal(err)
		}
	}
	return cfg.limiter
}

func TestWithRateLimitConfiguresTheBucket(t *testing.T) {
	if got := admitted(limiterOf(t).NewConn("c", nil), 100); got != DefaultRateLimitEvents {
		t.Fatalf("the default limiter admitted %d of a burst of 100, want %d", got, DefaultRateLimitEvents)
	}
	// An hour-long window keeps refill negligible however slow the machine.
	c := limiterOf(t, WithRateLimit(3, time.Hour)).NewConn("c", nil)
	if got := admitted(c, 10); got != 3 {
		t.Fatalf("WithRateLimit(3, time.Hour) admitted %d, want 3", got)
	}
	// The last of WithRateLimit and WithLimiter applies.
	c = limiterOf(t, WithRateLimit(3, time.Hour), WithLimiter(NoLimit())).NewConn("c", nil)
	if got := admitted(c, 10); got != 10 {
		t.Fatalf("WithLimiter(NoLimit()) after WithRateLimit admitted %d, want 10", got)
	}
	c = limiterOf(t, WithLimiter(NoLimit()), WithRateLimit(3, time.Hour)).NewConn("c", nil)
	if got := admitted(c, 10); got != 3 {
		t.Fatalf("WithRateLimit after WithLimiter(NoLimit()) admitted %d, want 3", got)
	}
}

func TestWithRateLimitRejectsBadInput(t *testing.T) {
	for _, tt := range []struct {
		events int
		per    time.Duration
	}{
		{0, time.Minute},
		{-1, time.Minute},
		{60, 0},
		{60, -time.Second},
	} {
		_, err := New(WithDevelopmentMode(true), WithRateLimit(tt.events, tt.per))
		if !errors.Is(err, ErrInvalidOption) {
			t.Errorf("New(WithRateLimit(%d, %v)) = %v; want an ErrInvalidOption error", tt.events, tt.per, err)
		}
	}
	if _, err := New(WithDevelopmentMode(true), WithLimiter(nil)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("New(WithLimiter(nil)) = %v; want an ErrInvalidOption error", err)
	}
}

func TestNoLimitAdmitsEverything(t *testing.T) {
	c := NoLimit().NewConn("c", nil)
	if got := admitted(c, 10000); got != 10000 {
		t.Fatalf("admitted %d of 10000", got)
	}
}

func TestRateLimitPerConnectionCost(t *testing.T) {
	l := limiterOf(t)
	var c ConnLimiter
	if allocs := testing.AllocsPerRun(100, func() { c = l.NewConn("c", nil) }); allocs > 2 {
		t.Errorf("NewConn allocates %v times, want at most 2", allocs)
	}
	if allocs := testing.AllocsPerRun(100, func() { c.Allow("ping") }); allocs != 0 {
		t.Errorf("Allow allocates %v times, want 0", allocs)
	}
	if allocs := testing.AllocsPerRun(100, func() { NoLimit().NewConn("c", nil).Allow("ping") }); allocs != 0 {
		t.Errorf("NoLimit allocates %v times per connection, want 0", allocs)
	}
}

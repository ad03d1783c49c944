package realtime

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
	"golang.org/x/time/rate"
)

// connectionLimits counts connections by address and by user and refuses
// those over the configured limits. Zero limits are off.
type connectionLimits struct {
	maxTotal, maxPerAddr, maxPerUser int

	mu     sync.Mutex
	total  int
	byAddr map[string]int
	byUser map[string]int
}

func (l *connectionLimits) enabled() bool {
	return l.maxTotal > 0 || l.maxPerAddr > 0 || l.maxPerUser > 0
}

// acquire reserves a connection for addr and user, or explains the refusal.
func (l *connectionLimits) acquire(addr, user string) error {
	if !l.enabled() {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.maxTotal > 0 && l.total >= l.maxTotal:
		return fmt.Errorf("the server is at its connection limit (%d)", l.maxTotal)
	case l.maxPerAddr > 0 && l.byAddr[addr] >= l.maxPerAddr:
		return fmt.Errorf("too many connections from this address (limit %d)", l.maxPerAddr)
	case l.maxPerUser > 0 && l.byUser[user] >= l.maxPerUser:
		return fmt.Errorf("too many connections for this user (limit %d)", l.maxPerUser)
	}
	if l.byAddr == nil {
		l.byAddr, l.byUser = make(map[string]int), make(map[string]int)
	}
	l.total++
	l.byAddr[addr]++
	l.byUser[user]++
	return nil
}

func (l *connectionLimits) release(addr, user string) {
	if !l.enabled() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
		delete(l.byAddr, addr)
	}
	if l.byUser[user]--; l.byUser[user] <= 0 {
		delete(l.byUser, user)
	}
}

// handshakeLimiter is a token bucket per client address for new sessions:
// the cheapest place to stop a flood, before any session state exists.
type handshakeLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// maxHandshakeBuckets bounds the addresses tracked at once: past it, idle
// buckets are swept at once, and a new address is refused while the map is
// still full (a flood from that many addresses is refused until it ebbs).
const maxHandshakeBuckets = 1 << 16

func (h *handshakeLimiter) allow(addr string, now time.Time) bool {
	h.mu.Lock()
	b := h.buckets[addr]
	if b == nil {
		if h.buckets == nil {
			h.buckets = make(map[string]*rate.Limiter)
		}
		if len(h.buckets) >= maxHandshakeBuckets {
			h.sweepLocked(now)
			if len(h.buckets) >= maxHandshakeBuckets {
				h.mu.Unlock()
				return false
			}
		}
		b = rate.NewLimiter(h.limit, h.burst)
		h.buckets[addr] = b
	}
	h.mu.Unlock()
	return b.AllowN(now, 1)
}

// sweep forgets addresses whose bucket is full again, so the map holds only
// recently active ones.
func (h *handshakeLimiter) sweep(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweepLocked(now)
}

func (h *handshakeLimiter) sweepLocked(now time.Time) {
	for addr, b := range h.buckets {
		if b.TokensAt(now) >= float64(h.burst) {
			delete(h.buckets, addr)
		}
	}
}

// allowRequest is the Engine.IO handshake hook.
func (g *Gateway) allowRequest(r *http.Request) error {
	addr := g.cfg.clientAddress(r.RemoteAddr, r.Header)
	if g.cfg.handshakes.allow(addr, time.Now()) {
		return nil
	}
	g.counters.refuse(RefusedHandshakeRateLimited)
	// The time one token takes to return: a client that waits that long
	// is admitted.
	retry := time.Duration(math.Ceil(1/float64(g.cfg.handshakes.limit))) * time.Second
	return &engineio.RefusedError{Status: http.StatusServiceUnavailable, RetryAfter: max(retry, time.Second), Reason: "too many handshakes from this address"}
}

// hostOnly is the default client address: the peer's IP without its port,
// and for IPv6 its /64 network, since one host commonly holds a whole /64
// and could otherwise use a new address for every connection.
func hostOnly(remoteAddr string, _ http.Header) string {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	prefix, _ := ip.Prefix(64)
	return prefix.String()
}

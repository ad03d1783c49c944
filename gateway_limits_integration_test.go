package realtime_test

import (
	"testing"
	"time"

	"github.com/tradewithai/realtime"
)

func TestGatewayRateLimit(t *testing.T) {
	def := startGateway(t, realtime.WithAuthenticator(hsAuthenticator(t)))
	fast := startGateway(t, realtime.WithAuthenticator(hsAuthenticator(t)), realtime.WithRateLimit(5, 500*time.Millisecond))
	r := nodeScript{
		name:   "gateway-ratelimit.mjs",
		url:    def.url,
		tokens: map[string]string{"t": userToken(t, "limited", nil)},
		urls:   map[string]string{"fast": fast.url},
	}.run(t,
		"default-60-answered-61st-refused", "refused-event-not-processed",
		"limited-connection-still-receives", "served-again-after-refill",
	)
	if got := def.gw.Stats().Counters.RateLimited; got != 1 {
		t.Errorf("default gateway: Counters.RateLimited = %d, want 1", got)
	}
	if _, ok := r.Check("served-again-after-refill"); ok {
		limited, _ := checkDetail(t, r, "served-again-after-refill")["limited"].(float64)
		if got := fast.gw.Stats().Counters.RateLimited; got != uint64(limited) {
			t.Errorf("WithRateLimit(5, 500ms) gateway: Counters.RateLimited = %d, want the %v refusals the client saw", got, limited)
		}
	}
}

func TestGatewayHeartbeat(t *testing.T) {
	g := startGateway(t,
		realtime.WithAuthenticator(hsAuthenticator(t)),
		realtime.WithHeartbeatInterval(100*time.Millisecond),
	)
	nodeScript{
		name:   "gateway-heartbeat.mjs",
		url:    g.url,
		tokens: map[string]string{"t": userToken(t, "beat", nil)},
	}.run(t, "heartbeats")
}

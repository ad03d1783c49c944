package realtime_test

import (
	"testing"

	"github.com/tradewithai/realtime"
)

// A client that sends thousands of events at once and reads everything is
// told RATE_LIMITED for each event over the limit, and keeps its
// connection: the answers it earns never overflow its queue, and it is not
// counted as a slow consumer.
func TestRateLimitBurstKeepsTheConnection(t *testing.T) {
	eachTransport(t, func(t *testing.T, transport string) {
		g := startGateway(t, realtime.WithAuthenticator(hsAuthenticator(t)))
		nodeScript{
			name:      "ratelimit-burst.mjs",
			url:       g.url,
			transport: transport,
			tokens:    map[string]string{"t": userToken(t, "burst", nil)},
		}.run(t, "burst-answered-connection-stays")
		c := g.gw.Stats().Counters
		if c.SlowConsumers != 0 {
			t.Errorf("Counters.SlowConsumers = %d, want 0: the client read everything", c.SlowConsumers)
		}
		if c.RateLimited != 5000-60+1 {
			t.Errorf("Counters.RateLimited = %d, want %d", c.RateLimited, 5000-60+1)
		}
	})
}

package realtime_test

import (
	"testing"
	"time"

	"github.com/tradewithai/realtime"
)

func TestGatewayUserRooms(t *testing.T) {
	eachTransport(t, func(t *testing.T, transport string) {
		g := startGateway(t, realtime.WithAuthenticator(hsAuthenticator(t)))
		nodeScript{
			name:      "gateway-users.mjs",
			url:       g.url,
			transport: transport,
			tokens: map[string]string{
				"a1": userToken(t, "A", nil),
				"a2": userToken(t, "A", nil),
				"b":  userToken(t, "B", nil),
			},
		}.run(t,
			"connect", "send-to-user-reaches-every-connection", "send-to-other-user",
			"cannot-subscribe-to-another-users-room", "cannot-leave-own-user-room",
			"disconnected-connection-leaves-user-room",
		)
	})
}

func TestGatewayBroadcast(t *testing.T) {
	g := startGateway(t, realtime.WithAuthenticator(hsAuthenticator(t)))
	nodeScript{
		name:   "gateway-broadcast.mjs",
		url:    g.url,
		tokens: map[string]string{"t": userToken(t, "fan", nil)},
	}.run(t,
		"connect-and-subscribe", "broadcast-to-room", "broadcast-to-symbol-room", "broadcast-to-everyone",
		"publish-to-symbol", "broadcast-to-rooms-dedupes", "payload-intact",
	)
	// Publishing to a room nobody is in is not an error.
	if err := g.gw.BroadcastToRoom("market-data:NOBODY", "ticker:update", map[string]int{"n": 1}); err != nil {
		t.Errorf("BroadcastToRoom to an empty room: %v", err)
	}
}

func TestGatewayConnectionCountCoalescing(t *testing.T) {
	const clients = 200
	g := startGateway(t,
		realtime.WithAuthenticator(hsAuthenticator(t)),
		realtime.WithConnectionCountInterval(200*time.Millisecond),
	)
	r := nodeScript{
		name:   "gateway-count.mjs",
		url:    g.url,
		tokens: map[string]string{"t": userToken(t, "crowd", nil)},
	}.run(t, "connect-all", "final-count-reaches-everyone", "coalesced", "count-after-departures")
	if line, ok := r.Check("coalesced"); ok {
		t.Logf("%d clients: connection-count events received %v", clients, line["detail"])
	}
}

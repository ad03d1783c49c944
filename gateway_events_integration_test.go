package realtime_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tradewithai/realtime"
)

func TestGatewayEvents(t *testing.T) {
	eachTransport(t, func(t *testing.T, transport string) {
		g := startGateway(t,
			realtime.WithAuthenticator(hsAuthenticator(t)),
			// The script sends well over the default 60 events a minute;
			// rate limiting has its own test.
			realtime.WithLimiter(realtime.NoLimit()),
			realtime.WithMaxSymbols(3),
			realtime.WithMaxSubscriptions(4),
			realtime.WithChannelAuthorizer(func(_ context.Context, c *realtime.Client, channel string, _ []string) error {
				if channel == realtime.ChannelLLM && c.UserID() == "u-events" {
					return errors.New("llm is not part of this user's plan")
				}
				return nil
			}),
		)
		nodeScript{
			name:      "gateway-events.mjs",
			url:       g.url,
			transport: transport,
			tokens: map[string]string{
				"events": userToken(t, "u-events", nil),
				"other":  userToken(t, "u-other", nil),
			},
		}.run(t,
			"connect", "subscribe-trading", "subscribe-twice-delivers-once", "subscribe-market-data-symbols", "ping-pong", "get-subscriptions",
			"unsubscribe-symbol", "unsubscribe-whole-channel", "subscribe-own-user-room",
			"error-unknown-channel", "error-unknown-channel-unsubscribe", "error-invalid-symbol",
			"error-too-many-symbols", "error-too-many-subscriptions", "error-forbidden-by-authorizer",
			"error-forbidden-user-room", "error-invalid-payload", "subscriptions-kept-after-errors",
		)
	})
}

package realtime_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tradewithai/realtime"
)

func TestGatewayHandlers(t *testing.T) {
	g := startGateway(t, realtime.WithAuthenticator(hsAuthenticator(t)))
	prompt := func(_ context.Context, req *realtime.Request) (any, error) {
		var p struct {
			Prompt string `json:"prompt"`
		}
		if err := req.Decode(&p); err != nil {
			return nil, err
		}
		switch p.Prompt {
		case "":
			return nil, realtime.NewError("BAD_PROMPT", "prompt must not be empty")
		case "panic":
			panic("boom")
		case "db":
			return nil, errors.New("pq: connection refused to 10.0.0.5:5432")
		}
		return map[string]string{
			"answer":   strings.ToUpper(p.Prompt),
			"userId":   req.Client.UserID(),
			"clientId": req.Client.ID(),
		}, nil
	}
	if err := g.gw.Handle("llm:prompt", prompt); err != nil {
		t.Fatal(err)
	}
	if err := g.gw.Handle("llm:cancel", func(context.Context, *realtime.Request) (any, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	upload := func(_ context.Context, req *realtime.Request) (any, error) {
		var b []byte
		if err := req.Arg(0, &b); err != nil {
			return nil, err
		}
		slices.Reverse(b)
		return b, nil
	}
	if err := g.gw.Handle("llm:upload", upload); err != nil {
		t.Fatal(err)
	}
	// llm:stream answers at once and streams chunks from a goroutine bound
	// to the client's context, as the Handle documentation recommends.
	streamDone := make(chan struct{})
	stream := func(ctx context.Context, req *realtime.Request) (any, error) {
		c := req.Client
		go func() {
			defer close(streamDone)
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					_ = c.Emit("llm:stream", map[string]int{"chunk": i})
				}
			}
		}()
		return map[string]bool{"streaming": true}, nil
	}
	if err := g.gw.Handle("llm:stream", stream); err != nil {
		t.Fatal(err)
	}
	nodeScript{
		name: "gateway-handlers.mjs",
		url:  g.url,
		tokens: map[string]string{
			"t":        userToken(t, "llm-user", nil),
			"other":    userToken(t, "bystander", nil),
			"streamer": userToken(t, "streamer", nil),
		},
	}.run(t,
		"connect", "handler-value-reaches-ack", "handler-error-code", "handler-error-without-ack",
		"handler-decode-error", "handler-internal-error-hidden", "handler-panic", "handler-without-result",
		"handler-binary", "unknown-event", "streaming-handler",
	)
	// The script has disconnected the streaming client: its context must
	// end the goroutine well before the gateway shuts down.
	select {
	case <-streamDone:
	case <-time.After(3 * time.Second):
		t.Error("the streaming goroutine still runs after its client disconnected: Client.Context was not canceled")
	}
	c := g.gw.Stats().Counters
	if c.HandlerPanics != 1 {
		t.Errorf("Counters.HandlerPanics = %d, want 1", c.HandlerPanics)
	}
	// BAD_PROMPT twice, the undecodable payload, the plain error.
	if c.HandlerErrors != 4 {
		t.Errorf("Counters.HandlerErrors = %d, want 4", c.HandlerErrors)
	}
}

func TestGatewayStats(t *testing.T) {
	g := startGateway(t,
		realtime.WithAuthenticator(hsAuthenticator(t)),
		realtime.WithConnectionCountInterval(0),
	)
	nodeScript{
		name: "gateway-stats.mjs",
		url:  g.url,
		tokens: map[string]string{
			"alice": userToken(t, "alice", jwt.MapClaims{"email": "alice@example.com"}),
			"bob":   userToken(t, "bob", nil),
			"carol": userToken(t, "carol", jwt.MapClaims{"email": "carol@example.com"}),
			"bad":   signToken(t, jwt.SigningMethodHS256, []byte("not-the-secret-0123456789abcdefgh"), userClaims("mallory", nil)),
		},
	}.run(t, "connect-and-subscribe", "stats-shape-and-values", "stats-after-disconnect")
}

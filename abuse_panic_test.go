package realtime_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tradewithai/realtime"
)

// abuseChildEnv names the scenario a re-executed test binary runs.
const abuseChildEnv = "REALTIME_ABUSE_CHILD"

// TestAbuseHookPanics: a panic in host code that runs for a client's input,
// the Authenticator (for a crafted token) or the ChannelAuthorizer (for a
// crafted subscription), must cost that client its request, as a panic in
// an event handler does, and be counted, not take the whole process and
// every other client with it. The scenario runs in a child process, so
// that a crash shows as a failure here instead of ending the test binary.
func TestAbuseHookPanics(t *testing.T) {
	if os.Getenv(abuseChildEnv) == "hook-panics" {
		hookPanicsScenario(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAbuseHookPanics$", "-test.count=1", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), abuseChildEnv+"=hook-panics")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	text := string(out)
	if i := strings.Index(text, "panic: "); i >= 0 {
		end := min(len(text), i+1500)
		t.Fatalf("a panicking hook crashed the whole process, disconnecting every client:\n%s", text[i:end])
	}
	t.Fatalf("scenario failed (%v):\n%s", err, text)
}

// hookPanicsScenario runs in the child process.
func hookPanicsScenario(t *testing.T) {
	jwtAuth := abuseAuthenticator(t)
	auth := realtime.AuthenticatorFunc(func(ctx context.Context, h *realtime.Handshake) (*realtime.Identity, error) {
		if tok, _ := h.Auth["token"].(string); tok == "crafted" {
			var claims map[string]any
			_ = claims["kid"].(string) // a key lookup that trusts its input
		}
		return jwtAuth.Authenticate(ctx, h)
	})
	g := startAbuseGateway(t,
		realtime.WithAuthenticator(auth),
		realtime.WithChannelAuthorizer(func(_ context.Context, _ *realtime.Client, channel string, symbols []string) error {
			if channel == realtime.ChannelMarketData && len(symbols) > 0 && symbols[0] == "CRAFTED" {
				var limits []int
				_ = limits[len(symbols)] // an index that trusts its input
			}
			return nil
		}),
	)
	bystander := mustDial(t, g.url, hourToken(t, "bystander"), protoOptions{})
	bystander.listen()

	t.Run("authenticator", func(t *testing.T) {
		_, err := dialProto(t, g.url, "crafted", protoOptions{})
		var ce *connectError
		if !errors.As(err, &ce) || ce.Data.Code != realtime.CodeUnauthorized {
			t.Fatalf("connecting with the crafted token: %v, want a connect_error %s", err, realtime.CodeUnauthorized)
		}
		if err := bystander.request("ping", nil, "pong"); err != nil {
			t.Errorf("bystander after the authenticator panicked: %v", err)
		}
	})
	t.Run("authorizer", func(t *testing.T) {
		c := mustDial(t, g.url, hourToken(t, "crafter"), protoOptions{})
		c.listen()
		err := c.request("subscribe", map[string]any{"channel": realtime.ChannelMarketData, "symbols": []string{"CRAFTED"}}, "subscribed")
		if err == nil || !strings.Contains(err.Error(), realtime.CodeInternal) {
			t.Errorf("subscribe that makes the authorizer panic: %v, want an error event %s", err, realtime.CodeInternal)
		}
		if err := c.request("ping", nil, "pong"); err != nil {
			t.Errorf("the crafter's connection after the authorizer panicked: %v", err)
		}
		if err := bystander.request("ping", nil, "pong"); err != nil {
			t.Errorf("bystander after the authorizer panicked: %v", err)
		}
	})
	if n := g.gw.Stats().Counters.HandlerPanics; n != 2 {
		t.Errorf("Counters.HandlerPanics = %d, want 2 (the authenticator's and the authorizer's)", n)
	}
}

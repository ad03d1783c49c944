package realtime_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/internal/nodetest"
	"github.com/tradewithai/realtime/jwtauth"
)

// TestAbuseTokenExpiry runs abuse-expiry.mjs with tokens that expire in
// three to four seconds (exp has a one-second resolution), which leaves
// Node time to start on a loaded machine.
func TestAbuseTokenExpiry(t *testing.T) {
	t.Parallel() // mostly waiting for exp to pass
	g := startAbuseGateway(t,
		realtime.WithAuthenticator(abuseAuthenticator(t)),
		realtime.WithLimiter(realtime.NoLimit()),
	)
	exp := time.Now().Add(4 * time.Second).Truncate(time.Second)
	badSig, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "carol", "exp": exp.Add(time.Hour).Unix()}).
		SignedString([]byte("not-the-gateway-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{
		"alice":       abuseToken(t, "alice", exp),
		"bob":         abuseToken(t, "bob", exp),
		"bobFresh":    hourToken(t, "bob"),
		"carol":       abuseToken(t, "carol", exp),
		"carolBadSig": badSig,
		"mallory":     hourToken(t, "mallory"),
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p := startAbuseScript(t, ctx, "abuse-expiry.mjs", g.url, tokens, "EXPIRES_AT="+strconv.FormatInt(exp.Unix(), 10))
	r := p.Wait()
	nodetest.RequireChecks(t, r, "expires-without-refresh", "refresh-before-expiry", "refused-refresh-keeps-old-expiry")
	if testing.Verbose() {
		for _, l := range r.Checks() {
			t.Logf("%v", l)
		}
	}
	c := g.gw.Stats().Counters
	if c.TokensExpired != 2 {
		t.Errorf("Counters.TokensExpired = %d, want 2 (alice and carol)", c.TokensExpired)
	}
}

// TestAbuseTokenExpiryHonoursLeeway: a token the authenticator accepts
// within its clock-skew leeway must not be expired by the gateway the
// moment the connection is established. The authenticator accepts the
// token until exp+leeway, so the connection must last until then too.
func TestAbuseTokenExpiryHonoursLeeway(t *testing.T) {
	a, err := jwtauth.New(jwtauth.WithHMACSecret(abuseSecret), jwtauth.WithLeeway(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	g := startAbuseGateway(t, realtime.WithAuthenticator(a))
	// Expired two seconds ago: inside the minute of leeway.
	token := abuseToken(t, "skewed", time.Now().Add(-2*time.Second))
	c := mustDial(t, g.url, token, protoOptions{})
	c.listen()
	if err := c.emit("ping"); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(abuseWait)
	for {
		select {
		case e := <-c.events:
			switch e.Name {
			case "pong":
				if n := g.gw.Stats().Counters.TokensExpired; n != 0 {
					t.Errorf("Counters.TokensExpired = %d, want 0", n)
				}
				return
			case "error":
				t.Fatalf("a connection accepted within the leeway was expired at once: error %s", e.Args)
			}
		case <-c.serverDis:
			t.Fatal("a connection accepted within the leeway was disconnected at once")
		case <-c.done:
			t.Fatalf("connection ended: %v", c.err)
		case <-timeout:
			t.Fatal("no pong")
		}
	}
}

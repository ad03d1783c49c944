package realtime_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"maps"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/jwtauth"
)

func TestGatewayAuthentication(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	rsAuth, err := jwtauth.New(jwtauth.WithRSAPublicKey(&rsaKey.PublicKey))
	if err != nil {
		t.Fatal(err)
	}

	eachTransport(t, func(t *testing.T, transport string) {
		main := startGateway(t, realtime.WithAuthenticator(hsAuthenticator(t)))
		rs := startGateway(t, realtime.WithAuthenticator(rsAuth))
		query := startGateway(t, realtime.WithAuthenticator(hsAuthenticator(t, jwtauth.WithQueryToken(true))))
		dev := startGateway(t, realtime.WithDevelopmentMode(true), realtime.WithAuthenticator(hsAuthenticator(t)))

		now := time.Now()
		tokens := map[string]string{
			"valid": userToken(t, "user-1", jwt.MapClaims{"email": "user-1@example.com"}),
			"expired": signToken(t, jwt.SigningMethodHS256, integrationSecret,
				jwt.MapClaims{"sub": "user-1", "iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix()}),
			"notYet": signToken(t, jwt.SigningMethodHS256, integrationSecret,
				userClaims("user-1", jwt.MapClaims{"nbf": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()})),
			"wrongSecret":  signToken(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdefgh"), userClaims("user-1", nil)),
			"none":         signToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, userClaims("user-1", nil)),
			"rsaConfusion": signToken(t, jwt.SigningMethodHS256, publicPEM, userClaims("rs-user", nil)),
			"rsValid":      signToken(t, jwt.SigningMethodRS256, rsaKey, userClaims("rs-user", nil)),
			"header":       userToken(t, "header-user", nil),
			"query":        userToken(t, "query-user", nil),
		}
		nodeScript{
			name:      "gateway-auth.mjs",
			url:       main.url,
			transport: transport,
			tokens:    tokens,
			urls:      map[string]string{"rs": rs.url, "query": query.url, "dev": dev.url},
		}.run(t,
			"valid-token", "auth-token-with-bearer-prefix", "expired-token", "not-yet-valid-token", "wrong-secret", "alg-none",
			"rs256-valid-token", "hs256-keyed-with-rsa-public-key", "no-token",
			"bearer-header-websocket", "bearer-header-polling",
			"query-token-ignored-by-default", "query-token-with-option",
			"development-mode-without-token", "development-mode-with-token", "development-mode-bad-token",
		)

		// Every refusal is counted once, under the code the client saw;
		// the counters are final because each refusal is counted before
		// the client is told.
		tests := []struct {
			name        string
			gw          *servedGateway
			connections uint64
			refused     map[string]uint64
		}{
			{"main", main, 4, map[string]uint64{
				realtime.CodeTokenExpired: 1,
				realtime.CodeInvalidToken: 3, // not yet valid, wrong secret, alg none
				realtime.CodeUnauthorized: 2, // no token, query token not allowed
			}},
			{"rs256", rs, 1, map[string]uint64{realtime.CodeInvalidToken: 1}},
			{"query", query, 1, map[string]uint64{}},
			{"development", dev, 2, map[string]uint64{realtime.CodeInvalidToken: 1}},
		}
		for _, tc := range tests {
			c := tc.gw.gw.Stats().Counters
			if !maps.Equal(c.Refused, tc.refused) {
				t.Errorf("%s gateway: Counters.Refused = %v, want %v", tc.name, c.Refused, tc.refused)
			}
			if c.Connections != tc.connections {
				t.Errorf("%s gateway: Counters.Connections = %d, want %d", tc.name, c.Connections, tc.connections)
			}
		}
	})
}

package bench_test

import (
	"testing"
	"time"

	"github.com/tradewithai/realtime/bench"
	"github.com/tradewithai/realtime/jwtauth"
)

// TestMintTokenVerifies checks the load tool's tokens against
// jwtauth's verifier, the one bench/goserver uses.
func TestMintTokenVerifies(t *testing.T) {
	secret := []byte("bench-secret")
	auth, err := jwtauth.New(jwtauth.WithHMACSecret(secret))
	if err != nil {
		t.Fatal(err)
	}
	id, err := auth.Verify(bench.MintToken(secret, "user-7", time.Now()))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.UserID != "user-7" || id.ExpiresAt.Before(time.Now().Add(50*time.Minute)) {
		t.Errorf("identity %+v: want user-7, expiring in an hour", id)
	}
	if _, err := auth.Verify(bench.MintToken([]byte("other"), "user-7", time.Now())); err == nil {
		t.Error("a token signed with another secret verified")
	}
}

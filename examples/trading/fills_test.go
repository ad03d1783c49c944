package main

import (
	"encoding/json"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestFillsReachOnlyTheirUser: with two users connected and both
// subscribed to the shared "trading" channel, the demo user receives their
// fill, position and balance, and the other user receives none of them.
func TestFillsReachOnlyTheirUser(t *testing.T) {
	url := startDemo(t, config{secret: testSecret, demoUser: "alice"})
	bob := connect(t, url, sign(t, jwt.MapClaims{"sub": "bob"}))
	bob.emit(t, "subscribe", map[string]string{"channel": "trading"})
	bob.await(t, "subscribed")
	alice := connect(t, url, sign(t, jwt.MapClaims{"sub": "alice"}))

	fill, _ := alice.await(t, "order:filled")
	position, _ := alice.await(t, "position:updated")
	balance, _ := alice.await(t, "balance:updated")
	for _, e := range []event{fill, position, balance} {
		var p struct {
			UserID string `json:"userId"`
		}
		if err := json.Unmarshal(e.Data, &p); err != nil || p.UserID != "alice" {
			t.Errorf("alice's %s = %s, want userId alice", e.Name, e.Data)
		}
	}

	// Whatever was queued for bob when alice's events were published comes
	// before the answer to a ping sent now.
	bob.emit(t, "ping", nil)
	_, before := bob.await(t, "pong")
	for _, e := range before {
		switch e.Name {
		case "order:filled", "position:updated", "balance:updated":
			t.Errorf("bob received alice's %s: %s", e.Name, e.Data)
		}
	}
}

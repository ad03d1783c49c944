package main

import (
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestStatsListsClientsOnlyToOperators: with JWT_SECRET set, /api/stats
// names connected users and their e-mails only to a bearer token whose
// role is operator; anyone else gets the counts.
func TestStatsListsClientsOnlyToOperators(t *testing.T) {
	url := startDemo(t, config{secret: testSecret})
	connect(t, url, sign(t, jwt.MapClaims{"sub": "bob", "email": "bob@example.com"}))

	operator := sign(t, jwt.MapClaims{"sub": "ops", "role": "operator"})
	tests := []struct {
		name   string
		token  string
		listed bool
	}{
		{"no token", "", false},
		{"user token", sign(t, jwt.MapClaims{"sub": "bob"}), false},
		{"operator role in a token signed with another secret", forged(t), false},
		{"operator token", operator, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stats, body := getJSON(t, url+"/api/stats", tc.token)
			if stats["connectedClients"] != 1.0 {
				t.Errorf("connectedClients = %v, want 1: %s", stats["connectedClients"], body)
			}
			if _, ok := stats["counters"]; !ok {
				t.Errorf("no counters: %s", body)
			}
			_, hasClients := stats["clients"]
			named := strings.Contains(body, "bob@example.com") && strings.Contains(body, `"userId":"bob"`)
			if tc.listed && (!hasClients || !named) {
				t.Errorf("an operator does not see the client list: %s", body)
			}
			if !tc.listed && (hasClients || strings.Contains(body, "bob")) {
				t.Errorf("a caller who is not an operator sees who is connected: %s", body)
			}
		})
	}
}

// forged is an operator token signed with a secret other than the demo's.
func forged(t *testing.T) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ops", "role": "operator", "exp": 4102444800}).
		SignedString([]byte("another-secret-of-at-least-32-bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStatsInDevelopmentMode: without JWT_SECRET the dashboard's stats
// panel gets the client list without a token.
func TestStatsInDevelopmentMode(t *testing.T) {
	url := startDemo(t, config{})
	connect(t, url, "")
	stats, body := getJSON(t, url+"/api/stats", "")
	clients, _ := stats["clients"].([]any)
	if len(clients) != 1 || !strings.Contains(body, `"userId":"test-user-id"`) {
		t.Errorf("development-mode stats = %s, want the one test-user-id client listed", body)
	}
}

package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestOriginMustMatchSchemeAndHost: with CLIENT_URL=https://app.example, a
// page on that origin may open a session over either transport; a page on
// the same host over plain http, or on another host, may not.
func TestOriginMustMatchSchemeAndHost(t *testing.T) {
	url := startDemo(t, config{clientURL: "https://app.example/"})
	tests := []struct {
		origin string
		want   bool
	}{
		{"https://app.example", true},
		{"http://app.example", false},
		{"https://app.example:8443", false},
		{"http://evil.example", false},
		{"https://evil.example", false},
		{"https://app.example.evil.example", false},
		{"null", false},
	}
	for _, tc := range tests {
		t.Run(tc.origin, func(t *testing.T) {
			h := http.Header{"Origin": {tc.origin}}
			ws := "ws" + strings.TrimPrefix(url, "http") + "/socket.io/?EIO=4&transport=websocket"
			conn, resp, err := websocket.DefaultDialer.Dial(ws, h)
			if err == nil {
				_ = conn.Close()
			}
			if opened := err == nil; opened != tc.want {
				status := 0
				if resp != nil {
					status = resp.StatusCode
				}
				t.Errorf("websocket from Origin %s: opened = %v (HTTP %d), want %v", tc.origin, opened, status, tc.want)
			}

			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/socket.io/?EIO=4&transport=polling", nil)
			req.Header = h
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			allowed := res.StatusCode == http.StatusOK && res.Header.Get("Access-Control-Allow-Origin") == tc.origin
			if allowed != tc.want {
				t.Errorf("long-polling handshake from Origin %s: HTTP %d, Access-Control-Allow-Origin %q; want allowed = %v",
					tc.origin, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), tc.want)
			}
		})
	}
}

func TestClientURLMustBeAnOrigin(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://app.example.com", "https://app.example.com"},
		{"https://app.example.com/", "https://app.example.com"},
		{"http://localhost:5173", "http://localhost:5173"},
		{"app.example.com", ""},
		{"//app.example.com", ""},
		{"ftp://app.example.com", ""},
		{"https://app.example.com/dashboard", ""},
		{"https://app.example.com?x=1", ""},
		{"https://user@app.example.com", ""},
	}
	for _, tc := range tests {
		got, err := parseOrigin(tc.in)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("parseOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

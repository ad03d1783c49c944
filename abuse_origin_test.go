package realtime_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/tradewithai/realtime"
)

// TestAbuseCrossSiteWebSocket: a page on another site cannot open a
// websocket to the gateway in its visitor's name (cross-site websocket
// hijacking). By default only same-origin pages and clients that send no
// Origin (Node, native apps) get in; WithAllowedOrigins lists others.
func TestAbuseCrossSiteWebSocket(t *testing.T) {
	def := startAbuseGateway(t, realtime.WithAuthenticator(abuseAuthenticator(t)))
	listed := startAbuseGateway(t,
		realtime.WithAuthenticator(abuseAuthenticator(t)),
		realtime.WithAllowedOrigins("https://app.example"),
	)
	dial := func(base, origin string) (int, error) {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		u := "ws" + strings.TrimPrefix(base, "http") + "/socket.io/?EIO=4&transport=websocket"
		c, resp, err := websocket.DefaultDialer.Dial(u, h)
		if err == nil {
			_ = c.Close()
			return http.StatusSwitchingProtocols, nil
		}
		if resp != nil {
			return resp.StatusCode, nil
		}
		return 0, err
	}
	tests := []struct {
		name   string
		base   string
		origin string
		want   int
	}{
		{"default: another site", def.url, "https://evil.example", http.StatusForbidden},
		{"default: same origin", def.url, def.url, http.StatusSwitchingProtocols},
		{"default: no Origin (non-browser client)", def.url, "", http.StatusSwitchingProtocols},
		{"listed origin", listed.url, "https://app.example", http.StatusSwitchingProtocols},
		{"unlisted origin", listed.url, "https://evil.example", http.StatusForbidden},
		{"listed host, other scheme", listed.url, "http://app.example", http.StatusForbidden},
		{"null origin", listed.url, "null", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dial(tt.base, tt.origin)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("websocket handshake with Origin %q: HTTP %d, want %d", tt.origin, got, tt.want)
			}
		})
	}
	if n := def.gw.Stats().Counters.Connections + listed.gw.Stats().Counters.Connections; n != 0 {
		t.Errorf("Counters.Connections = %d: a refused handshake reached the namespace", n)
	}
}

// TestAbuseNoAuthenticatorNoGateway: a gateway without an authenticator is
// refused unless development mode is on, and development mode says so in
// the log.
func TestAbuseNoAuthenticatorNoGateway(t *testing.T) {
	if _, err := realtime.New(); !errors.Is(err, realtime.ErrInvalidOption) {
		t.Fatalf("New() without an authenticator = %v, want ErrInvalidOption", err)
	}
	var log bytes.Buffer
	g := startAbuseGateway(t, realtime.WithDevelopmentMode(true),
		realtime.WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if !strings.Contains(log.String(), "development mode") {
		t.Errorf("development mode logged %q, want a warning", log.String())
	}
	c := mustDial(t, g.url, "", protoOptions{})
	c.listen()
	e := c.next(t, "connected")
	var p struct {
		UserID string `json:"userId"`
	}
	if err := e.decode(0, &p); err != nil || p.UserID != realtime.DevelopmentUserID {
		t.Errorf("development mode welcome %s (err %v), want userId %q", e.Args, err, realtime.DevelopmentUserID)
	}
}

package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/nodetest"
)

// TestSpecTestSuiteBehaviour runs the socket.io-client checks that need only
// what the specifications' test-suite configuration provides.
func TestSpecTestSuiteBehaviour(t *testing.T) {
	nodetest.EnsureNodeModules(t)
	srv, err := newServer()
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		ts.Close()
	})
	for _, transport := range nodetest.Transports() {
		t.Run(transport, func(t *testing.T) {
			r := nodetest.Run(t, context.Background(), nodetest.ConformanceScript, nil,
				"--url", ts.URL, "--transport", transport,
				"--only", "connect-auth,json-both-ways,binary-both-ways,ack-client-to-server,custom-namespace,ping-pong")
			nodetest.RequireChecks(t, r, "connect-auth", "json-both-ways", "binary-both-ways", "ack-client-to-server", "custom-namespace", "ping-pong")
		})
	}
}

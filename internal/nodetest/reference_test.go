package nodetest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/nodetest"
)

// TestReferenceServerConformance runs conformance.mjs against the npm
// socket.io server in reference-server.mjs over every transport mode. It
// proves the conformance checks themselves are right, so a failure against
// our server points at the server, not the script.
func TestReferenceServerConformance(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	srv := nodetest.Start(t, ctx, "reference-server.mjs", nil)
	port, err := srv.WaitReady(ctx)
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	// Sequential on purpose: the checks use 200-300 ms heartbeat and ack
	// timeouts, which parallel clients on a two-core machine could starve.
	for _, transport := range nodetest.Transports() {
		t.Run(transport, func(t *testing.T) {
			r := nodetest.RunConformance(t, ctx, url, transport)
			if line, _ := r.Check("payload-too-large"); line != nil {
				t.Logf("payload-too-large disconnect: %v", line["detail"])
			}
		})
	}
}

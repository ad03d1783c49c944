package nodetest_test

import (
	"context"
	"fmt"
	"net"
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

// TestConformanceReportsFailure makes sure a broken server cannot pass: with
// nothing listening, the selected check fails, the summary counts it and the
// script exits non-zero.
func TestConformanceReportsFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()

	rec := &recorder{TB: t}
	r := nodetest.Run(rec, t.Context(), nodetest.ConformanceScript, nil,
		"--url", url, "--transport", "websocket", "--only", "json-both-ways")
	if r.ExitCode != 1 {
		t.Errorf("ExitCode = %d, want 1", r.ExitCode)
	}
	if line, ok := r.Check("json-both-ways"); line == nil || ok {
		t.Errorf("json-both-ways = %v, want a failed check", line)
	}
	if len(r.Lines) != 2 || r.Lines[1]["summary"] != true || r.Lines[1]["failed"] != 1.0 || r.Lines[1]["passed"] != 0.0 {
		t.Errorf("lines = %v, want the check and a summary with one failure", r.Lines)
	}
	nodetest.RequireChecks(rec, r, "json-both-ways")
	if len(rec.Errors()) == 0 {
		t.Error("RequireChecks accepted a failed conformance check")
	}
}

package nodetest

import (
	"context"
	"testing"
)

// ConformanceScript is the socket.io-client conformance script under
// test/client/.
const ConformanceScript = "conformance.mjs"

// Transports returns the transport modes conformance.mjs accepts:
// "websocket" (websocket only), "polling" (long-polling only) and "upgrade"
// (polling upgraded to websocket, the client default).
func Transports() []string {
	return []string{"websocket", "polling", "upgrade"}
}

// ConformanceChecks returns the check names conformance.mjs reports for a
// transport mode; "upgrade" mode adds the "upgrade" check.
func ConformanceChecks(transport string) []string {
	checks := []string{
		"connect-auth",
		"connect-error",
		"json-both-ways",
		"binary-both-ways",
		"ack-client-to-server",
		"ack-client-timeout",
		"ack-server-to-client",
		"ack-server-timeout",
		"custom-namespace",
		"multiplex",
		"server-disconnect",
		"reconnect-after-drop",
		"payload-too-large",
		"ping-pong",
	}
	if transport == "upgrade" {
		checks = append(checks, "upgrade")
	}
	return checks
}

// RunConformance runs conformance.mjs against the server at url (for example
// "http://127.0.0.1:8080", Socket.IO mounted at /socket.io/) over one
// transport mode and requires every conformance check to pass. The server
// must behave like test/client/reference-server.mjs.
func RunConformance(t testing.TB, ctx context.Context, url, transport string) *Result {
	t.Helper()
	r := Run(t, ctx, ConformanceScript, nil, "--url", url, "--transport", transport)
	RequireChecks(t, r, ConformanceChecks(transport)...)
	if _, ok := r.summary(); !ok {
		t.Errorf("conformance.mjs printed no summary line (exit code %d)", r.ExitCode)
	}
	return r
}

// summary returns the {"summary": true, ...} line.
func (r *Result) summary() (map[string]any, bool) {
	for _, line := range r.Lines {
		if line["summary"] == true {
			return line, true
		}
	}
	return nil, false
}

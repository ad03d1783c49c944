// Package nodetest lets Go tests drive Node.js scripts under test/client/,
// chiefly the stock npm socket.io-client, so the gateway is checked against
// the real client rather than against our own understanding of the protocol.
//
// Scripts report results as one JSON object per stdout line; a check line
// looks like {"check":"connect-auth","ok":true,"detail":...}. Run executes a
// script to completion and returns those lines as a Result; Start launches a
// long-running script (a reference server, a client that must run alongside
// Go code) as a Process whose lines can be awaited while it runs.
//
// A minimal conformance test against a server listening on url:
//
//	func TestConformance(t *testing.T) {
//		for _, tr := range nodetest.Transports() {
//			t.Run(tr, func(t *testing.T) {
//				nodetest.RunConformance(t, t.Context(), url, tr)
//			})
//		}
//	}
//
// Node.js and npm must be installed; the npm packages are installed from
// package-lock.json on first use (see EnsureNodeModules). Tests fail rather
// than skip when they are missing, so a machine without Node cannot pass
// silently.
package nodetest

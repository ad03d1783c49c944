package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestHandshakeFloodIsRefused: one address opening sessions as fast as it
// can is admitted for the burst, then answered 503 with Retry-After.
func TestHandshakeFloodIsRefused(t *testing.T) {
	url := startDemo(t, config{})
	admitted := 0
	for i := range 3 * handshakeBurst {
		res, err := http.Get(url + "/socket.io/?EIO=4&transport=polling")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable {
			if res.Header.Get("Retry-After") == "" {
				t.Error("a refused handshake has no Retry-After")
			}
			break
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("handshake %d: HTTP %d", i, res.StatusCode)
		}
		admitted++
	}
	// The bucket refills at handshakesPerSecond while the loop runs.
	if admitted < handshakeBurst || admitted >= 3*handshakeBurst {
		t.Errorf("%d handshakes admitted before the first refusal, want the burst of %d (plus what refills meanwhile)", admitted, handshakeBurst)
	}
}

// TestConnectionsPerUserAreLimited: a user's connection past the per-user
// limit is refused with TOO_MANY_CONNECTIONS, which socket.io-client
// reports as connect_error err.data.code.
func TestConnectionsPerUserAreLimited(t *testing.T) {
	url := startDemo(t, config{})
	for range maxPerUser {
		connect(t, url, "")
	}
	_, reply := dialWS(t, url, "")
	if !strings.HasPrefix(reply, "44") || !strings.Contains(reply, `"TOO_MANY_CONNECTIONS"`) {
		t.Errorf("connection %d of one user: %s, want a CONNECT_ERROR with code TOO_MANY_CONNECTIONS", maxPerUser+1, reply)
	}
}

package realtime_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tradewithai/realtime"
)

// fuzzAuthValue shapes the auth.token a fuzzed client sends: clients can send
// any JSON value there.
func fuzzAuthValue(kind uint8, s string) map[string]any {
	switch kind % 6 {
	case 0:
		return nil
	case 1:
		return map[string]any{"token": s}
	case 2:
		return map[string]any{"token": float64(len(s))}
	case 3:
		return map[string]any{"token": map[string]any{"token": s}}
	case 4:
		return map[string]any{"token": []any{s}}
	default:
		return map[string]any{"jwt": s}
	}
}

func FuzzTokenFromHandshake(f *testing.F) {
	f.Add(uint8(1), "abc", "", "", false)
	f.Add(uint8(1), " Bearer  abc\t", "Bearer def", "ghi", true)
	f.Add(uint8(0), "", "bearer\tdef ", "", false)
	f.Add(uint8(0), "", "Basic Zm9vOmJhcg==", " q ", true)
	f.Add(uint8(2), "x", "Bearer", "Bearer ", true)
	f.Add(uint8(1), "\u00a0Bearer\u2028x\u0085", "BEARER \xff", "\x00", true)
	f.Add(uint8(3), "abc", "Bearerabc", "", true)

	f.Fuzz(func(t *testing.T, kind uint8, auth, header, query string, allowQuery bool) {
		h := &realtime.Handshake{
			Auth:   fuzzAuthValue(kind, auth),
			Header: http.Header{"Authorization": {header}},
			Query:  url.Values{"token": {query}},
		}
		token, ok := realtime.TokenFromHandshake(h, allowQuery)
		if !ok {
			if token != "" {
				t.Fatalf("not ok but token %q", token)
			}
			return
		}
		if token == "" {
			t.Fatal("ok with an empty token")
		}
		if token != strings.TrimSpace(token) {
			t.Fatalf("token %q has surrounding whitespace", token)
		}
		fromAuth := kind%6 == 1 && strings.Contains(auth, token)
		fromHeader := strings.Contains(header, token)
		fromQuery := allowQuery && strings.Contains(query, token)
		if !fromAuth && !fromHeader && !fromQuery {
			t.Fatalf("token %q comes from none of the allowed sources", token)
		}
		if !allowQuery {
			h.Query = nil
			if again, _ := realtime.TokenFromHandshake(h, false); again != token {
				t.Fatalf("query parameter changed the result while disallowed: %q vs %q", token, again)
			}
		}
	})
}

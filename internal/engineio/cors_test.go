package engineio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tradewithai/realtime/internal/engineio"
)

const appOrigin = "https://app.example"

func TestCORSAllowedOrigin(t *testing.T) {
	h := newHarness(t, engineio.Config{AllowedOrigins: []string{appOrigin}})
	hdr := http.Header{"Origin": {appOrigin}}

	r := h.mustRequest(http.MethodGet, "EIO=4&transport=polling", nil, hdr)
	if r.status != http.StatusOK {
		t.Fatalf("handshake: status %d body %q, want 200", r.status, r.body)
	}
	expectCORS(t, r.header, appOrigin, true)
	o := parseOpen(t, r.body)

	r = h.mustRequest(http.MethodPost, pollQuery(o.SID), strings.NewReader("4hi"), hdr)
	if r.status != http.StatusOK {
		t.Fatalf("POST: status %d body %q, want 200", r.status, r.body)
	}
	expectCORS(t, r.header, appOrigin, true)
	h.recorder(o.SID).expectText(t, "hi")

	c, _, err := h.dial("EIO=4&transport=websocket", hdr)
	if err != nil {
		t.Fatalf("WebSocket from an allowed origin: %v", err)
	}
	parseOpen(t, []byte(readText(t, c)))
}

func TestCORSPreflight(t *testing.T) {
	h := newHarness(t, engineio.Config{AllowedOrigins: []string{appOrigin}})
	r := h.mustRequest(http.MethodOptions, "EIO=4&transport=polling", nil, http.Header{
		"Origin":                         {appOrigin},
		"Access-Control-Request-Method":  {"POST"},
		"Access-Control-Request-Headers": {"content-type"},
	})
	if r.status != http.StatusNoContent {
		t.Fatalf("preflight: status %d body %q, want 204", r.status, r.body)
	}
	methods := r.header.Get("Access-Control-Allow-Methods")
	if !strings.Contains(methods, "GET") || !strings.Contains(methods, "POST") {
		t.Errorf("Access-Control-Allow-Methods %q, want GET and POST", methods)
	}
	if got := r.header.Get("Access-Control-Allow-Headers"); !strings.EqualFold(got, "content-type") {
		t.Errorf("Access-Control-Allow-Headers %q, want content-type", got)
	}
	expectCORS(t, r.header, appOrigin, true)
	if n := h.srv.Len(); n != 0 {
		t.Errorf("preflight opened a session: Len() = %d", n)
	}
}

func TestCORSRefusedOrigins(t *testing.T) {
	h := newHarness(t, engineio.Config{AllowedOrigins: []string{appOrigin}})
	o, _ := h.openPolling()
	foreign := []string{
		"https://evil.example",
		"http://app.example",               // another scheme
		"https://app.example:8443",         // another port
		"https://app.example.evil.com",     // a suffix
		"https://evil.example/app.example", // a path
		"null",
	}
	for _, origin := range foreign {
		t.Run(origin, func(t *testing.T) {
			hdr := http.Header{"Origin": {origin}}
			expectError(t, h.mustRequest(http.MethodGet, "EIO=4&transport=polling", nil, hdr), 403, 4, "Forbidden")
			expectError(t, h.mustRequest(http.MethodPost, pollQuery(o.SID), strings.NewReader("4x"), hdr), 403, 4, "Forbidden")
			expectError(t, h.mustRequest(http.MethodOptions, "EIO=4&transport=polling", nil, hdr), 403, 4, "Forbidden")
			_, resp, err := h.dial("EIO=4&transport=websocket", hdr)
			expectDialError(t, resp, err, 403, 4, "Forbidden")
			_, resp, err = h.dial(upgradeQuery(o.SID), hdr)
			expectDialError(t, resp, err, 403, 4, "Forbidden")
		})
	}
	if n := h.srv.Len(); n != 1 {
		t.Errorf("Len() = %d, want only the session opened without Origin", n)
	}
}

func TestCORSSameOriginAndNoOrigin(t *testing.T) {
	for _, allowed := range [][]string{nil, {appOrigin}} {
		t.Run(strings.Join(allowed, ","), func(t *testing.T) {
			h := newHarness(t, engineio.Config{AllowedOrigins: allowed})
			self := h.ts.URL // http://127.0.0.1:port, the page's own origin
			for _, hdr := range []http.Header{{"Origin": {self}}, nil} {
				r := h.mustRequest(http.MethodGet, "EIO=4&transport=polling", nil, hdr)
				if r.status != http.StatusOK {
					t.Fatalf("handshake with Origin %q: status %d body %q, want 200", hdr.Get("Origin"), r.status, r.body)
				}
				if hdr == nil {
					if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
						t.Errorf("Access-Control-Allow-Origin %q without an Origin, want none", got)
					}
				}
				c, _, err := h.dial("EIO=4&transport=websocket", hdr)
				if err != nil {
					t.Fatalf("WebSocket with Origin %q: %v", hdr.Get("Origin"), err)
				}
				parseOpen(t, []byte(readText(t, c)))
			}
			if allowed == nil {
				r := h.mustRequest(http.MethodGet, "EIO=4&transport=polling", nil, http.Header{"Origin": {appOrigin}})
				expectError(t, r, 403, 4, "Forbidden")
			}
		})
	}
}

func TestCORSAnyOrigin(t *testing.T) {
	h := newHarness(t, engineio.Config{AllowedOrigins: []string{"*"}})
	hdr := http.Header{"Origin": {"https://anywhere.example"}}
	r := h.mustRequest(http.MethodGet, "EIO=4&transport=polling", nil, hdr)
	if r.status != http.StatusOK {
		t.Fatalf("handshake: status %d body %q, want 200", r.status, r.body)
	}
	expectCORS(t, r.header, "*", false)
	c, _, err := h.dial("EIO=4&transport=websocket", hdr)
	if err != nil {
		t.Fatalf("WebSocket from any origin: %v", err)
	}
	parseOpen(t, []byte(readText(t, c)))
}

func expectCORS(t testing.TB, h http.Header, origin string, credentials bool) {
	t.Helper()
	if got := h.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("Access-Control-Allow-Origin %q, want %q", got, origin)
	}
	wantCred := ""
	if credentials {
		wantCred = "true"
	}
	if got := h.Get("Access-Control-Allow-Credentials"); got != wantCred {
		t.Errorf("Access-Control-Allow-Credentials %q, want %q", got, wantCred)
	}
	if credentials && !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
		t.Errorf("Vary %q, want Origin: the answer depends on it", h.Values("Vary"))
	}
}

// Over TLS, the same host on plain http is another origin.
func TestCORSSameOriginComparesSchemeOverTLS(t *testing.T) {
	srv, err := engineio.NewServer(engineio.Config{}, func(s *engineio.Session) engineio.Receiver { return newRecorder(s) })
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
		ts.Close()
	})
	host := strings.TrimPrefix(ts.URL, "https://")
	for origin, want := range map[string]int{"https://" + host: 200, "http://" + host: 403} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/socket.io/?EIO=4&transport=polling", nil)
		req.Header.Set("Origin", origin)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Origin %s: status %d, want %d", origin, resp.StatusCode, want)
		}
	}
}

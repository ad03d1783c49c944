package engineio

import (
	"net/http"
	"net/url"
	"strings"
)

// originPolicy decides which browser origins may use the server and writes
// the CORS headers for long-polling. WebSocket upgrades are checked against
// the same policy, which is what stops a page on a foreign origin from
// opening a socket with the user's cookies (cross-site WebSocket hijacking).
type originPolicy struct {
	any     bool
	origins map[string]struct{}
}

func newOriginPolicy(origins []string) originPolicy {
	p := originPolicy{origins: make(map[string]struct{}, len(origins))}
	for _, o := range origins {
		if o == "*" {
			p.any = true
			continue
		}
		p.origins[normalizeOrigin(o)] = struct{}{}
	}
	return p
}

func normalizeOrigin(o string) string {
	return strings.TrimSuffix(strings.ToLower(o), "/")
}

func (p originPolicy) allowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || p.any {
		return true
	}
	if _, ok := p.origins[normalizeOrigin(origin)]; ok {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || !strings.EqualFold(u.Host, r.Host) {
		return false
	}
	// Served over TLS, only an https page is of the same origin: a page
	// injected into the site's plain-http twin must not reach it. Without
	// TLS here the scheme cannot be told (a proxy in front may terminate
	// TLS), so the host decides.
	return r.TLS == nil || strings.EqualFold(u.Scheme, "https")
}

func (p originPolicy) setCORSHeaders(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	h := w.Header()
	if p.any {
		h.Set("Access-Control-Allow-Origin", "*")
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
}

func (p originPolicy) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET,POST")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

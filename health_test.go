package realtime_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tradewithai/realtime"
)

// unhealthyAdapter is an Adapter whose Healthy reports what the test sets.
type unhealthyAdapter struct {
	realtime.Adapter
	err error
}

func (a *unhealthyAdapter) Start(context.Context, realtime.Local) error { return nil }
func (a *unhealthyAdapter) Close() error                                { return nil }
func (a *unhealthyAdapter) Healthy(context.Context) error               { return a.err }

func probe(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, strings.TrimSpace(string(b))
}

// Ready while serving; not ready while the adapter cannot reach the other
// instances or once Shutdown has begun; alive throughout.
func TestHealthProbes(t *testing.T) {
	a := &unhealthyAdapter{}
	gw, err := realtime.New(realtime.WithDevelopmentMode(true), realtime.WithAdapter(a))
	if err != nil {
		t.Fatal(err)
	}
	if code, body := probe(t, gw.ReadyHandler()); code != 200 || body != "ready" {
		t.Errorf("ready probe: %d %q, want 200 ready", code, body)
	}
	a.err = errors.New("redis unreachable")
	if code, body := probe(t, gw.ReadyHandler()); code != 503 || !strings.Contains(body, "redis unreachable") {
		t.Errorf("ready probe with the adapter down: %d %q, want 503 naming the cause", code, body)
	}
	a.err = nil
	if err := gw.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if code, _ := probe(t, gw.ReadyHandler()); code != 503 {
		t.Errorf("ready probe after Shutdown: %d, want 503", code)
	}
	if code, body := probe(t, gw.LiveHandler()); code != 200 || body != "ok" {
		t.Errorf("live probe after Shutdown: %d %q, want 200 ok", code, body)
	}
}

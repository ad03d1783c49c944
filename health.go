package realtime

import (
	"context"
	"net/http"
	"time"
)

// HealthChecker is an Adapter that can tell whether it reaches the other
// instances. ReadyHandler reports the gateway not ready while Healthy
// returns an error.
type HealthChecker interface {
	Healthy(ctx context.Context) error
}

// readyTimeout bounds one readiness check of the adapter, well inside the
// timeouts of a Kubernetes probe (1 s by default).
const readyTimeout = 500 * time.Millisecond

// LiveHandler answers liveness probes: 200 "ok" as long as the process
// serves HTTP. A gateway that is shutting down is still alive (it is
// draining its connections); restarting it would only cut that short.
func (g *Gateway) LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProbe(w, http.StatusOK, "ok")
	})
}

// ReadyHandler answers readiness probes: 200 "ready" while the gateway
// accepts connections, 503 with the reason while it is shutting down or
// while its adapter (when it implements HealthChecker, as redisadapter's
// does) cannot reach the other instances, so that a load balancer sends
// new clients elsewhere.
func (g *Gateway) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.Ready(r.Context()); err != nil {
			writeProbe(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		writeProbe(w, http.StatusOK, "ready")
	})
}

// Ready reports why the gateway should not receive new clients, or nil:
// ErrClosed once Shutdown has begun, or the adapter's health error.
func (g *Gateway) Ready(ctx context.Context) error {
	if g.closed.Load() {
		return ErrClosed
	}
	hc, ok := g.cfg.adapter.(HealthChecker)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	return hc.Healthy(ctx)
}

func writeProbe(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body + "\n"))
}

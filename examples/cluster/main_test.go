package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tradewithai/realtime/internal/nodetest"
	"github.com/tradewithai/realtime/internal/redistest"
	"github.com/tradewithai/realtime/redisadapter"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startInstance serves one cluster instance on a loopback port.
func startInstance(t *testing.T, cfg config) string {
	t.Helper()
	inst, err := newInstance(slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(inst.mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := inst.close(ctx); err != nil {
			t.Errorf("instance shutdown: %v", err)
		}
		ts.Close()
	})
	return ts.URL
}

// TestTwoInstancesShareRedis runs the README's walkthrough: two instances
// on one Redis, a client on each; a publish through either instance, and
// one through the Emitter, reach both clients.
func TestTwoInstancesShareRedis(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config{redisURL: srv.URL()}
	a := startInstance(t, cfg)
	b := startInstance(t, cfg)
	p := nodetest.Start(t, t.Context(), "redis-cluster-client.mjs", nil, "--urls", a+","+b, "--wait-emit")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := p.WaitLine(ctx, func(l map[string]any) bool { return l["waiting"] == "emit" }); err != nil {
		t.Fatal(err)
	}
	if err := emit(ctx, cfg, []string{"-room", "trading", "-event", "cluster:emit", "-data", `{"id":1}`}); err != nil {
		t.Fatal(err)
	}
	r := p.Wait()
	nodetest.RequireChecks(t, r,
		"connect-and-subscribe",
		"publish-via-instance-1-reaches-all",
		"publish-via-instance-2-reaches-all",
		"emitter-reaches-every-instance",
		"cluster-stats",
	)
}

func TestUnreachableRedisIsAClearError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	_, err = newInstance(slog.New(slog.NewTextHandler(io.Discard, nil)), config{redisURL: "redis://" + addr + "/0"})
	if !errors.Is(err, redisadapter.ErrUnavailable) || !strings.Contains(err.Error(), addr) {
		t.Errorf("newInstance = %v; want an error wrapping ErrUnavailable naming %s", err, addr)
	}
	if _, err := newInstance(slog.New(slog.NewTextHandler(io.Discard, nil)), config{redisURL: "mysql://x"}); err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("newInstance with a bad REDIS_URL = %v", err)
	}
}

func TestPublishNeedsAnOperatorTokenWithASecret(t *testing.T) {
	srv := redistest.Start(t)
	const secret = "a-test-secret-of-at-least-32-bytes!!"
	url := startInstance(t, config{redisURL: srv.URL(), secret: secret})
	sign := func(claims jwt.MapClaims) string {
		claims["exp"] = time.Now().Add(time.Hour).Unix()
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name   string
		token  string
		body   string
		status int
	}{
		{"no token", "", `{"room":"trading","event":"e","data":1}`, http.StatusUnauthorized},
		{"user token", sign(jwt.MapClaims{"sub": "u1"}), `{"room":"trading","event":"e","data":1}`, http.StatusUnauthorized},
		{"forged operator token", "x" + sign(jwt.MapClaims{"sub": "ops", "role": "operator"}), `{"event":"e"}`, http.StatusUnauthorized},
		{"operator token", sign(jwt.MapClaims{"sub": "ops", "role": "operator"}), `{"room":"trading","event":"e","data":{"a":1}}`, http.StatusOK},
		{"no event", sign(jwt.MapClaims{"sub": "ops", "role": "operator"}), `{"room":"trading"}`, http.StatusBadRequest},
		{"not JSON", sign(jwt.MapClaims{"sub": "ops", "role": "operator"}), `room=trading`, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/publish", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Errorf("POST /publish = %d %s, want %d", res.StatusCode, body, tc.status)
			}
		})
	}
}

func TestProductionNeedsASecret(t *testing.T) {
	srv := redistest.Start(t)
	if _, err := newInstance(slog.New(slog.NewTextHandler(io.Discard, nil)), config{redisURL: srv.URL(), nodeEnv: "production"}); err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Errorf("newInstance in production without a secret = %v", err)
	}
}

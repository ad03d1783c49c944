package redisadapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/nodetest"
	"github.com/tradewithai/realtime/internal/redistest"
	"github.com/tradewithai/realtime/redisadapter"
)

// startNodeServer runs test/client/redis-node-server.mjs, a Node socket.io
// server with @socket.io/redis-adapter, on srv's cluster and returns its
// URL.
func startNodeServer(t *testing.T, srv *redistest.Server) string {
	t.Helper()
	p := nodetest.Start(t, t.Context(), "redis-node-server.mjs", nil, "--redis", srv.URL())
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	port, err := p.WaitReady(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

func gatewayURLs(t *testing.T, urls map[string]string) string {
	t.Helper()
	b, err := json.Marshal(urls)
	if err != nil {
		t.Fatal(err)
	}
	return "GATEWAY_URLS=" + string(b)
}

// TestNodeInterop runs a mixed cluster on one Redis: two Go gateways, a
// Node Socket.IO 4.8 server with @socket.io/redis-adapter 8.x and a Node
// @socket.io/redis-emitter 5.x, with stock socket.io-client connections on
// each server (test/client/redis-interop.mjs).
func TestNodeInterop(t *testing.T) {
	srv := redistest.Start(t)
	go1 := startGateway(t, srv, nil)
	go2 := startGateway(t, srv, nil)
	node := startNodeServer(t, srv)
	r := nodetest.Run(t, t.Context(), "redis-interop.mjs",
		[]string{gatewayURLs(t, map[string]string{"go2": go2.url, "node": node}), "REDIS_URL=" + srv.URL()},
		"--url", go1.url)
	nodetest.RequireChecks(t, r,
		"connect",
		"go-room-broadcast-reaches-go-and-node",
		"node-room-broadcast-reaches-go",
		"multi-room-broadcasts-with-exclusions",
		"binary-arguments-both-ways",
		"node-emitter-by-room-user-and-everyone",
		"go-emitter-by-room-and-user",
		"cluster-counts",
		"sockets-join-across-servers",
		"node-broadcast-with-ack-completes",
		"disconnect-sockets-across-servers",
	)
	for _, g := range []*testGateway{go1, go2} {
		if st := g.adapter.Stats(); st.Malformed != 0 || st.Dropped != 0 {
			t.Errorf("adapter stats = %+v, want nothing malformed or dropped", st)
		}
	}
}

// TestGatewaysSurviveRedisRestart kills redis-server under two gateways
// with clients (test/client/redis-failover.mjs): local delivery and new
// connections go on while it is down, and delivery between the gateways
// comes back by itself after it restarts.
func TestGatewaysSurviveRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	control := map[string]func() any{
		"redis-kill": func() any {
			srv.Kill()
			return map[string]any{"ok": true}
		},
		"redis-restart": func() any {
			if err := srv.Restart(); err != nil {
				return map[string]any{"ok": false, "error": err.Error()}
			}
			return map[string]any{"ok": true}
		},
	}
	fast := []redisadapter.Option{redisadapter.WithPublishTimeout(500 * time.Millisecond), redisadapter.WithRequestTimeout(time.Second)}
	go1 := startGateway(t, srv, control, fast...)
	go2 := startGateway(t, srv, nil, fast...)
	r := nodetest.Run(t, t.Context(), "redis-failover.mjs",
		[]string{gatewayURLs(t, map[string]string{"go2": go2.url})},
		"--url", go1.url)
	nodetest.RequireChecks(t, r,
		"connect",
		"cross-instance-delivery",
		"local-delivery-while-redis-is-down",
		"cross-instance-delivery-resumes-after-restart",
		"cluster-stats-after-restart",
	)
	if line, ok := r.Check("local-delivery-while-redis-is-down"); ok {
		t.Logf("publishing while Redis was down: %v", line["detail"])
	}
	if line, ok := r.Check("cross-instance-delivery-resumes-after-restart"); ok {
		t.Logf("delivery resumed %v after the restart", line["detail"])
	}
}

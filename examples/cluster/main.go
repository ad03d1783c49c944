// Command cluster runs one gateway instance of a cluster whose instances
// share one Redis (package redisadapter): start one process per port,
// connect clients to any of them, and a publish through any instance
// reaches the clients of all of them. Node Socket.IO servers using
// @socket.io/redis-adapter on the same Redis join the same cluster.
//
//	PORT=3001 go run ./examples/cluster &
//	PORT=3002 go run ./examples/cluster &
//	curl -d '{"room":"trading","event":"order:filled","data":{"id":1}}' localhost:3001/publish
//
// Environment:
//
//	PORT        listen port (default 3000)
//	REDIS_URL   the cluster's Redis (default redis://127.0.0.1:6379/0)
//	JWT_SECRET  HS256 secret clients' tokens are signed with
//	NODE_ENV    "production" refuses to start without JWT_SECRET
//
// Without JWT_SECRET outside production the instance runs in development
// mode: clients without a token connect as "test-user-id", and anyone may
// POST /publish. With it, /publish needs a bearer token signed with the
// same secret whose "role" claim is "operator".
//
// Routes:
//
//	/socket.io/    the gateway
//	POST /publish  {room, event, data}: BroadcastToRoom on every instance
//	               (every client when room is empty); {"accepted":true}
//	               means this instance's clients have it and the copy for
//	               the other instances is queued for Redis (503 when Redis
//	               is known to be down)
//	GET  /stats    this instance's and the cluster's counts
//
// `cluster emit -room R -event E -data JSON` publishes once through Redis
// with the Emitter, as a process without sockets would, and exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/jwtauth"
	"github.com/tradewithai/realtime/redisadapter"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var err error
	if len(os.Args) > 1 && os.Args[1] == "emit" {
		err = emit(context.Background(), configFromEnv(), os.Args[2:])
	} else {
		err = serve(logger, configFromEnv())
	}
	if err != nil {
		logger.Error("cluster instance failed", "err", err)
		os.Exit(1)
	}
}

// config is the instance's environment.
type config struct {
	port     string
	redisURL string
	secret   string
	nodeEnv  string
}

func configFromEnv() config {
	c := config{
		port:     os.Getenv("PORT"),
		redisURL: os.Getenv("REDIS_URL"),
		secret:   os.Getenv("JWT_SECRET"),
		nodeEnv:  os.Getenv("NODE_ENV"),
	}
	if c.port == "" {
		c.port = "3000"
	}
	if c.redisURL == "" {
		c.redisURL = "redis://127.0.0.1:6379/0"
	}
	return c
}

func serve(logger *slog.Logger, cfg config) error {
	inst, err := newInstance(logger, cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: ":" + cfg.port, Handler: inst.mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("cluster instance listening", "url", "http://localhost:"+cfg.port, "redis", cfg.redisURL, "instance", inst.adapter.UID())

	select {
	case err := <-errc:
		_ = inst.close(context.Background())
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The gateway first, so clients are told to reconnect (to another
	// instance) while the HTTP server still answers.
	gwErr := inst.close(shutdownCtx)
	return errors.Join(srv.Shutdown(shutdownCtx), gwErr)
}

// instance is one gateway of the cluster and its routes.
type instance struct {
	gw      *realtime.Gateway
	adapter *redisadapter.Adapter
	rdb     *redis.Client
	mux     *http.ServeMux
	// operator verifies /publish tokens; nil in development mode.
	operator *jwtauth.Authenticator
}

// newInstance connects to Redis and starts the gateway; it fails when
// Redis does not answer.
func newInstance(logger *slog.Logger, cfg config) (*instance, error) {
	opts, err := redis.ParseURL(cfg.redisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(opts)
	adapter := redisadapter.New(rdb, redisadapter.WithLogger(logger))
	gwOpts := []realtime.Option{realtime.WithLogger(logger), realtime.WithAdapter(adapter)}
	inst := &instance{adapter: adapter, rdb: rdb}
	switch {
	case cfg.secret != "":
		auth, err := jwtauth.New(jwtauth.WithHMACSecret([]byte(cfg.secret)))
		if err != nil {
			_ = rdb.Close()
			return nil, err
		}
		gwOpts = append(gwOpts, realtime.WithAuthenticator(auth))
		inst.operator = auth
	case cfg.nodeEnv == "production":
		_ = rdb.Close()
		return nil, errors.New("JWT_SECRET is required when NODE_ENV=production")
	default:
		fmt.Fprint(os.Stderr, "\n  *** DEVELOPMENT MODE: no JWT_SECRET set; clients without a token connect as test-user-id, and anyone may POST /publish ***\n\n")
		gwOpts = append(gwOpts, realtime.WithDevelopmentMode(true))
	}
	gw, err := realtime.New(gwOpts...)
	if err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("starting the gateway with Redis at %s: %w", opts.Addr, err)
	}
	inst.gw = gw
	inst.mux = http.NewServeMux()
	inst.mux.Handle("/socket.io/", gw)
	inst.mux.HandleFunc("POST /publish", inst.publish)
	inst.mux.HandleFunc("GET /stats", inst.stats)
	return inst, nil
}

// close shuts the gateway down (which closes the adapter), then the Redis
// client.
func (inst *instance) close(ctx context.Context) error {
	return errors.Join(inst.gw.Shutdown(ctx), inst.rdb.Close())
}

// publishRequest is the body of POST /publish.
type publishRequest struct {
	Room  string          `json:"room"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// maxPublishBody bounds a /publish request.
const maxPublishBody = 1 << 20

func (inst *instance) publish(w http.ResponseWriter, r *http.Request) {
	if !inst.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a bearer token with role operator is required"})
		return
	}
	var req publishRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPublishBody)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON {room, event, data}: " + err.Error()})
		return
	}
	if req.Event == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "event is required"})
		return
	}
	var err error
	if req.Room == "" {
		err = inst.gw.Emit(r.Context(), realtime.Selector{}, req.Event, req.Data)
	} else {
		err = inst.gw.BroadcastToRoom(req.Room, req.Event, req.Data)
	}
	switch {
	case errors.Is(err, redisadapter.ErrUnavailable) || errors.Is(err, redisadapter.ErrQueueFull):
		// The local clients have it; the other instances do not.
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": err.Error(), "localOnly": true})
	case err != nil:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"accepted": true, "room": req.Room, "event": req.Event, "instance": inst.adapter.UID()})
	}
}

// authorized lets anyone publish in development mode, and otherwise only
// operators.
func (inst *instance) authorized(r *http.Request) bool {
	if inst.operator == nil {
		return true
	}
	token, ok := realtime.TokenFromHandshake(&realtime.Handshake{Header: r.Header}, false)
	if !ok {
		return false
	}
	id, err := inst.operator.Verify(token)
	return err == nil && id.Claims["role"] == "operator"
}

func (inst *instance) stats(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	cluster, err := inst.gw.ClusterStats(ctx)
	answer := map[string]any{
		"instance":     inst.adapter.UID(),
		"localClients": inst.gw.ConnectedClients(),
		"cluster":      cluster,
		"adapter":      inst.adapter.Stats(),
	}
	if err != nil {
		answer["clusterError"] = err.Error()
	}
	writeJSON(w, http.StatusOK, answer)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// emit publishes one event through Redis with the Emitter.
func emit(ctx context.Context, cfg config, args []string) error {
	fs := flag.NewFlagSet("emit", flag.ContinueOnError)
	room := fs.String("room", "", "room to publish to (default: every client)")
	user := fs.String("user", "", "user to publish to (their room user:<id>), instead of -room")
	event := fs.String("event", "", "event name (required)")
	data := fs.String("data", "null", "event data, as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *event == "" {
		return errors.New("emit: -event is required")
	}
	if !json.Valid([]byte(*data)) {
		return errors.New("emit: -data is not valid JSON")
	}
	opts, err := redis.ParseURL(cfg.redisURL)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	em := redisadapter.NewEmitter(rdb)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	payload := json.RawMessage(*data)
	switch {
	case *user != "":
		return em.SendToUser(ctx, *user, *event, payload)
	case *room != "":
		return em.BroadcastToRoom(ctx, *room, *event, payload)
	default:
		return em.Emit(ctx, realtime.Selector{}, *event, payload)
	}
}

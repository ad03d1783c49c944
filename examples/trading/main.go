// Command trading is the realtime demo: a trading service that mounts the
// gateway on a plain http.ServeMux, feeds it from a simulated exchange and
// an LLM stand-in, and serves the dashboard.
//
//	./scripts/demo                      # builds the dashboard and the server, then runs it
//	npm ci && npm run build:dashboard   # or by hand: once, builds web/dist
//	go run ./examples/trading           # http://localhost:3000
//
// Environment, as in the reference deployment:
//
//	PORT          listen port (default 3000)
//	CLIENT_URL    browser origin allowed besides same-origin pages, such as
//	              https://app.example.com (scheme, host and port must match)
//	JWT_SECRET    HS256 secret clients' tokens are signed with
//	NODE_ENV      "production" refuses to start without JWT_SECRET
//	DEMO_USER_ID  the user the simulated exchange trades for (default
//	              test-user-id, the development-mode user)
//
// Without JWT_SECRET outside production the demo runs in development mode:
// clients without a token connect as "test-user-id".
//
// The demo user's fills, positions and balance go to that user's room
// only (Gateway.SendToUser), as do the answers to their LLM prompts; public
// market data goes to the per-symbol rooms of the market-data channel.
//
// Limits, as a deployment would start (tune them to your traffic; behind a
// proxy, add realtime.WithClientAddress so that clients are not all counted
// as the proxy):
//
//	handshakes    5 new sessions a second per client address, in bursts of
//	              20 (users behind one NAT reconnecting at once); past that
//	              HTTP 503 with Retry-After, and socket.io-client retries
//	              with its backoff
//	connections   10,000 per instance, 100 per client address, 10 per user
//	              (tabs and devices); in development mode every client is
//	              test-user-id, so at most 10 connect at once
//	client events 60 a minute per connection (the gateway's default)
//
// Routes:
//
//	/socket.io/     the gateway
//	GET /api/stats  the gateway's counts for anyone; the client list (user
//	                ids, e-mails, rooms) only with an operator token, a
//	                bearer JWT signed with JWT_SECRET whose "role" claim is
//	                "operator" (anyone in development mode)
//	/               the dashboard (web/dist)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/jwtauth"
)

// Limits the demo starts from; see the package comment.
const (
	handshakesPerSecond = 5
	handshakeBurst      = 20
	maxConnections      = 10_000
	maxPerAddress       = 100
	maxPerUser          = 10
)

func main() {
	webDir := flag.String("web", "", "directory of the built dashboard (default: examples/trading/web/dist or web/dist)")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg := configFromEnv()
	cfg.webDir = *webDir
	if err := run(logger, cfg); err != nil {
		logger.Error("trading demo failed", "err", err)
		os.Exit(1)
	}
}

// config is the demo's environment.
type config struct {
	port      string
	clientURL string
	secret    string
	nodeEnv   string
	demoUser  string
	webDir    string
}

func configFromEnv() config {
	c := config{
		port:      os.Getenv("PORT"),
		clientURL: os.Getenv("CLIENT_URL"),
		secret:    os.Getenv("JWT_SECRET"),
		nodeEnv:   os.Getenv("NODE_ENV"),
		demoUser:  os.Getenv("DEMO_USER_ID"),
	}
	if c.port == "" {
		c.port = "3000"
	}
	if c.demoUser == "" {
		c.demoUser = realtime.DevelopmentUserID
	}
	return c
}

func run(logger *slog.Logger, cfg config) error {
	// Bind first: "listening" is logged only once clients can connect, and
	// a busy port stops the demo before anything else starts.
	ln, err := net.Listen("tcp", ":"+cfg.port)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("port %s is in use: %w", cfg.port, err)
	} else if err != nil {
		return err
	}
	app, err := newApp(logger, cfg)
	if err != nil {
		_ = ln.Close()
		return err
	}
	srv := &http.Server{Handler: app.mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	exchangeDone := make(chan struct{})
	go func() {
		defer close(exchangeDone)
		app.exchange.run(ctx)
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("trading demo listening", "url", fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port))

	select {
	case err = <-errc: // Serve failed
	case <-ctx.Done():
		logger.Info("shutting down")
	}
	stop()
	<-exchangeDone
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The gateway first, so clients are told to reconnect while the HTTP
	// server still answers.
	gwErr := app.gw.Shutdown(shutdownCtx)
	return errors.Join(err, srv.Shutdown(shutdownCtx), gwErr)
}

// app is the demo service: the gateway, the routes and the simulated
// exchange that feeds them.
type app struct {
	gw       *realtime.Gateway
	mux      *http.ServeMux
	exchange *exchange
	// operator verifies /api/stats tokens; nil in development mode.
	operator *jwtauth.Authenticator
}

func newApp(logger *slog.Logger, cfg config) (*app, error) {
	opts := []realtime.Option{
		realtime.WithLogger(logger),
		realtime.WithHandshakeRate(handshakesPerSecond, handshakeBurst),
		realtime.WithConnectionLimits(maxConnections, maxPerAddress, maxPerUser),
	}
	if cfg.clientURL != "" {
		origin, err := parseOrigin(cfg.clientURL)
		if err != nil {
			return nil, err
		}
		opts = append(opts, realtime.WithAllowedOrigins(origin))
	}
	a := &app{}
	switch {
	case cfg.secret != "":
		auth, err := jwtauth.New(jwtauth.WithHMACSecret([]byte(cfg.secret)))
		if err != nil {
			return nil, err
		}
		opts = append(opts, realtime.WithAuthenticator(auth))
		a.operator = auth
	case cfg.nodeEnv == "production":
		return nil, errors.New("JWT_SECRET is required when NODE_ENV=production")
	default:
		fmt.Fprint(os.Stderr, "\n  *** DEVELOPMENT MODE: no JWT_SECRET set; clients without a token connect as test-user-id, and anyone may read the client list at /api/stats ***\n\n")
		opts = append(opts, realtime.WithDevelopmentMode(true))
	}
	gw, err := realtime.New(opts...)
	if err != nil {
		return nil, err
	}
	if err := gw.Handle("llm:prompt", llmPrompt(gw)); err != nil {
		_ = gw.Shutdown(context.Background())
		return nil, err
	}
	a.gw = gw
	a.exchange = newExchange(gw, cfg.demoUser)
	a.mux = http.NewServeMux()
	a.mux.Handle("/socket.io/", gw)
	a.mux.HandleFunc("GET /api/stats", a.stats)
	a.mux.Handle("/", dashboard(cfg.webDir, logger))
	return a, nil
}

// parseOrigin checks that CLIENT_URL is an origin, scheme://host[:port],
// and returns it without a trailing slash. The gateway compares origins
// whole, scheme included: http://app.example.com is not
// https://app.example.com.
func parseOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("CLIENT_URL %q: want an origin such as https://app.example.com", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// publicStats is what /api/stats shows callers who are not operators:
// counts, no user ids, e-mails or rooms.
type publicStats struct {
	ConnectedClients   int               `json:"connectedClients"`
	TotalSubscriptions int               `json:"totalSubscriptions"`
	Counters           realtime.Counters `json:"counters"`
}

func (a *app) stats(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	s := a.gw.Stats()
	if a.isOperator(r) {
		_ = json.NewEncoder(w).Encode(s)
		return
	}
	_ = json.NewEncoder(w).Encode(publicStats{
		ConnectedClients:   s.ConnectedClients,
		TotalSubscriptions: s.TotalSubscriptions,
		Counters:           s.Counters,
	})
}

// isOperator is true in development mode, and otherwise for requests with a
// bearer token signed with JWT_SECRET whose "role" claim is "operator".
func (a *app) isOperator(r *http.Request) bool {
	if a.operator == nil {
		return true
	}
	token, ok := realtime.TokenFromHandshake(&realtime.Handshake{Header: r.Header}, false)
	if !ok {
		return false
	}
	id, err := a.operator.Verify(token)
	return err == nil && id.Claims["role"] == "operator"
}

// dashboard serves the built front end, or a page that says how to build it.
func dashboard(dir string, logger *slog.Logger) http.Handler {
	if dir == "" {
		for _, candidate := range []string{"examples/trading/web/dist", "web/dist"} {
			if _, err := os.Stat(filepath.Join(candidate, "index.html")); err == nil {
				dir = candidate
				break
			}
		}
	}
	if dir == "" {
		logger.Warn("dashboard not built: run `npm ci && npm run build:dashboard` in the repository root")
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>realtime demo</title><p>The dashboard is not built. Run <code>npm ci &amp;&amp; npm run build:dashboard</code> in the repository root, or start the demo with <code>./scripts/demo</code>.</p>`)
		})
	}
	logger.Info("serving dashboard", "dir", dir)
	return http.FileServer(http.Dir(dir))
}

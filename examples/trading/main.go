// Command trading is the realtime demo: a trading service that mounts the
// gateway on a plain http.ServeMux, feeds every channel from a simulated
// exchange and serves the dashboard.
//
//	npm ci && npm run build:dashboard   # once: builds web/dist
//	go run ./examples/trading           # http://localhost:3000
//
// Environment, as in the reference deployment:
//
//	PORT        listen port (default 3000)
//	CLIENT_URL  browser origin allowed by CORS, besides same-origin pages
//	JWT_SECRET  HS256 secret clients' tokens are signed with
//	NODE_ENV    "production" refuses to start without JWT_SECRET
//
// Without JWT_SECRET outside production the demo runs in development mode:
// clients without a token connect as "test-user-id".
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
	"path/filepath"
	"syscall"
	"time"

	"github.com/tradewithai/realtime"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(logger); err != nil {
		logger.Error("trading demo failed", "err", err)
		os.Exit(1)
	}
}

func run(logger *slog.Logger) error {
	webDir := flag.String("web", "", "directory of the built dashboard (default: examples/trading/web/dist or web/dist)")
	flag.Parse()

	app, err := newApp(logger, *webDir)
	if err != nil {
		return err
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	srv := &http.Server{Addr: ":" + port, Handler: app.mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	exchangeDone := make(chan struct{})
	go func() {
		defer close(exchangeDone)
		app.exchange.run(ctx)
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("trading demo listening", "url", "http://localhost:"+port)

	select {
	case err := <-errc:
		stop()
		<-exchangeDone
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	<-exchangeDone
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The gateway first, so clients are told to reconnect while the HTTP
	// server still answers.
	gwErr := app.gw.Shutdown(shutdownCtx)
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	return gwErr
}

// app is the demo service: the gateway, the routes and the simulated
// exchange that feeds them.
type app struct {
	gw       *realtime.Gateway
	mux      *http.ServeMux
	exchange *exchange
}

func newApp(logger *slog.Logger, webDir string) (*app, error) {
	gw, err := newGateway(logger)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", gw)
	mux.HandleFunc("GET /api/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(gw.Stats())
	})
	mux.Handle("/", dashboard(webDir, logger))
	return &app{gw: gw, mux: mux, exchange: newExchange(gw, demoUserID())}, nil
}

// newGateway configures the gateway from the reference deployment's
// environment variables.
func newGateway(logger *slog.Logger) (*realtime.Gateway, error) {
	opts := []realtime.Option{realtime.WithLogger(logger)}
	if origin := os.Getenv("CLIENT_URL"); origin != "" {
		opts = append(opts, realtime.WithAllowedOrigins(origin))
	}
	secret := os.Getenv("JWT_SECRET")
	switch {
	case secret != "":
		auth, err := realtime.NewJWTAuthenticator(realtime.WithHMACSecret([]byte(secret)))
		if err != nil {
			return nil, err
		}
		opts = append(opts, realtime.WithAuthenticator(auth))
	case os.Getenv("NODE_ENV") == "production":
		return nil, errors.New("JWT_SECRET is required when NODE_ENV=production")
	default:
		fmt.Fprint(os.Stderr, "\n  *** DEVELOPMENT MODE: no JWT_SECRET set; clients without a token connect as test-user-id ***\n\n")
		opts = append(opts, realtime.WithDevelopmentMode(true))
	}
	gw, err := realtime.New(opts...)
	if err != nil {
		return nil, err
	}
	if err := gw.Handle("llm:prompt", llmPrompt(gw)); err != nil {
		return nil, err
	}
	return gw, nil
}

func demoUserID() string {
	if id := os.Getenv("DEMO_USER_ID"); id != "" {
		return id
	}
	return realtime.DevelopmentUserID
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

package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/nodetest"
)

// startDemo serves the demo (development mode, simulated exchange running)
// on a loopback port.
func startDemo(t *testing.T, webDir string) string {
	t.Helper()
	t.Setenv("JWT_SECRET", "")
	t.Setenv("NODE_ENV", "test")
	a, err := newApp(slog.New(slog.NewTextHandler(io.Discard, nil)), webDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.exchange.run(ctx)
	}()
	ts := httptest.NewServer(a.mux)
	t.Cleanup(func() {
		cancel()
		<-done
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if err := a.gw.Shutdown(sctx); err != nil {
			t.Errorf("gateway shutdown: %v", err)
		}
		ts.Close()
	})
	return ts.URL
}

// TestNodeClientExample runs examples/node-client, the reference
// deployment's manual test, against the demo.
func TestNodeClientExample(t *testing.T) {
	nodetest.EnsureNodeModules(t)
	url := startDemo(t, "")
	script := filepath.Join(nodetest.Root(t), "examples", "node-client", "client.mjs")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, url)
	cmd.Env = append(os.Environ(), "MAX_ORDERS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node client: %v\n%s", err, out)
	}
	for _, want := range []string{"Connected:", "Welcome:", "userId: 'test-user-id'", "Subscribed:", "channel: 'trading'", "Pong:", "Order filled:", "side:"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("node client output lacks %q:\n%s", want, out)
		}
	}
}

// TestDashboardInBrowser loads the dashboard in headless Chromium, over the
// default transports and forced to long-polling, and keeps screenshots
// under artifacts/.
func TestDashboardInBrowser(t *testing.T) {
	nodetest.EnsureNodeModules(t)
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("/usr/bin/chromium is missing: install Debian's chromium package (scripts/test does this when run as root)")
	}
	root := nodetest.Root(t)
	web := filepath.Join(root, "examples", "trading", "web", "dist")
	if _, err := os.Stat(filepath.Join(web, "index.html")); err != nil {
		build := exec.Command("npm", "run", "build:dashboard")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building the dashboard: %v\n%s", err, out)
		}
	}
	url := startDemo(t, web)
	artifacts := filepath.Join(root, "artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []struct{ name, shot string }{
		{"default", "dashboard.png"},
		{"polling", "dashboard-polling.png"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			args := []string{"--url", url, "--screenshot", filepath.Join(artifacts, mode.shot)}
			if mode.name == "polling" {
				args = append(args, "--transports", "polling")
			}
			r := nodetest.Run(t, context.Background(), "../browser/dashboard.mjs", nil, args...)
			nodetest.RequireChecks(t, r, "connected", "transport", "live-ticker", "unsubscribe-stops", "resubscribe-resumes", "llm-stream", "screenshot")
		})
	}
}

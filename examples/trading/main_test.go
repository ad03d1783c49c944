package main

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"github.com/tradewithai/realtime/internal/nodetest"
)

// runDemoEnv makes this test binary run the demo's main instead of the
// tests, so that tests can run the demo as a process without building it.
const runDemoEnv = "TRADING_TEST_RUN_DEMO"

func TestMain(m *testing.M) {
	if os.Getenv(runDemoEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testSecret signs the tokens of tests that run the demo with JWT_SECRET.
const testSecret = "a-test-secret-of-at-least-32-bytes!!"

// startDemo serves the demo (simulated exchange running) on a loopback
// port; the zero config is development mode.
func startDemo(t *testing.T, cfg config) string {
	t.Helper()
	if cfg.demoUser == "" {
		cfg.demoUser = "test-user-id"
	}
	a, err := newApp(slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
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

// sign returns an HS256 token signed with testSecret, valid for an hour.
func sign(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	claims["exp"] = time.Now().Add(time.Hour).Unix()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wsClient speaks just enough Engine.IO v4 / Socket.IO v5 over a websocket
// to connect, emit and read events.
type wsClient struct {
	conn *websocket.Conn
}

// dialWS opens a websocket session to the demo at base and joins the main
// namespace with token (none when empty). It returns the server's answer
// to the join: "40{...}" when connected, "44{...}" when refused.
func dialWS(t *testing.T, base, token string) (*wsClient, string) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("websocket handshake: HTTP %d: %v", status, err)
	}
	c := &wsClient{conn: conn}
	t.Cleanup(func() { _ = conn.Close() })
	if open := c.frame(t); !strings.HasPrefix(open, "0{") {
		t.Fatalf("first packet %q is not an Engine.IO open packet", open)
	}
	auth := map[string]string{}
	if token != "" {
		auth["token"] = token
	}
	b, _ := json.Marshal(auth)
	c.write(t, "40"+string(b))
	for {
		if f := c.frame(t); strings.HasPrefix(f, "40") || strings.HasPrefix(f, "44") {
			return c, f
		}
	}
}

// connect is dialWS that fails the test unless the client is connected.
func connect(t *testing.T, base, token string) *wsClient {
	t.Helper()
	c, reply := dialWS(t, base, token)
	if !strings.HasPrefix(reply, "40") {
		t.Fatalf("connect refused: %s", reply)
	}
	return c
}

func (c *wsClient) write(t *testing.T, frame string) {
	t.Helper()
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatalf("websocket write: %v", err)
	}
}

// frame returns the next text frame that is not a ping, answering pings.
func (c *wsClient) frame(t *testing.T) string {
	t.Helper()
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			t.Fatalf("websocket read: %v", err)
		}
		if string(data) == "2" {
			c.write(t, "3")
			continue
		}
		return string(data)
	}
}

func (c *wsClient) emit(t *testing.T, event string, data any) {
	t.Helper()
	b, err := json.Marshal([]any{event, data})
	if err != nil {
		t.Fatal(err)
	}
	c.write(t, "42"+string(b))
}

// event is one Socket.IO event a client received.
type event struct {
	Name string
	Data json.RawMessage
}

// await reads events until one named name arrives, and returns it with the
// events received before it.
func (c *wsClient) await(t *testing.T, name string) (event, []event) {
	t.Helper()
	var before []event
	for {
		f := c.frame(t)
		if !strings.HasPrefix(f, "42") {
			continue
		}
		var args []json.RawMessage
		if err := json.Unmarshal([]byte(f[2:]), &args); err != nil || len(args) == 0 {
			t.Fatalf("malformed event frame %q", f)
		}
		var e event
		if err := json.Unmarshal(args[0], &e.Name); err != nil {
			t.Fatalf("malformed event frame %q", f)
		}
		if len(args) > 1 {
			e.Data = args[1]
		}
		if e.Name == name {
			return e, before
		}
		before = append(before, e)
	}
}

// getJSON GETs url with an optional bearer token and decodes the answer.
func getJSON(t *testing.T, url, token string) (map[string]any, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", url, res.StatusCode, body)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, body)
	}
	return v, string(body)
}

// TestNodeClientExample runs examples/node-client, the reference
// deployment's manual test, against the demo: it subscribes to "trading"
// and receives the development user's fills through that user's room.
func TestNodeClientExample(t *testing.T) {
	nodetest.EnsureNodeModules(t)
	url := startDemo(t, config{})
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
	if dashboardStale(t, filepath.Join(root, "examples", "trading", "web")) {
		build := exec.Command("npm", "run", "build:dashboard")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building the dashboard: %v\n%s", err, out)
		}
	}
	url := startDemo(t, config{webDir: web})
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
			nodetest.RequireChecks(t, r, "connected", "transport", "live-ticker", "own-fills", "stats-panel",
				"unsubscribe-stops", "resubscribe-resumes", "llm-stream", "screenshot")
		})
	}
}

// dashboardStale reports whether the built dashboard (web/dist) is missing
// or older than one of its sources, as scripts/demo decides it.
func dashboardStale(t *testing.T, web string) bool {
	t.Helper()
	built, err := os.Stat(filepath.Join(web, "dist", "index.html"))
	if err != nil {
		return true
	}
	stale := false
	for _, src := range []string{"src", "index.html", "vite.config.js"} {
		err := filepath.WalkDir(filepath.Join(web, src), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if info, err := d.Info(); err == nil && info.ModTime().After(built.ModTime()) {
				stale = true
			}
			return nil
		})
		if err != nil {
			t.Fatalf("checking the dashboard sources: %v", err)
		}
	}
	return stale
}

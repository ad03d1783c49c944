package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tradewithai/realtime/bench"
	"github.com/tradewithai/realtime/internal/nodetest"
)

// TestCompareSmoke builds the comparison command (which builds the Go
// server itself) and runs every scenario at a tiny scale against both
// servers, with the clients split over two worker processes, so that the
// load tool, the servers and the report cannot rot between full runs.
func TestCompareSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs both benchmark servers")
	}
	nodetest.EnsureNodeModules(t)
	root := nodetest.Root(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	compare := filepath.Join(dir, "compare")
	build := exec.CommandContext(ctx, "go", "build", "-o", compare, "./bench/cmd/compare")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./bench/cmd/compare: %v\n%s", err, out)
	}

	resultsFile := filepath.Join(dir, "results.json")
	cmd := exec.CommandContext(ctx, compare, "-quick", "-reps", "1", "-per-worker", "10", "-q",
		"-root", root, "-json", resultsFile)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("compare -quick: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}

	b, err := os.ReadFile(resultsFile)
	if err != nil {
		t.Fatal(err)
	}
	var results []bench.Result
	if err := json.Unmarshal(b, &results); err != nil {
		t.Fatal(err)
	}
	cfg := bench.SmokeConfig()
	seen := map[string]bool{}
	for _, r := range results {
		seen[r.Server] = true
		checkResult(t, cfg, r)
	}
	if !seen[bench.ServerNode] || !seen[bench.ServerGo] {
		t.Errorf("results for %v, want node and go", seen)
	}

	table := stdout.String()
	for _, want := range []string{
		"| metric | Node socket.io | Go gateway | Go/Node | target | status |",
		"| handshakes/s (JWT verified) |",
		"max sustained deliveries/s",
		"| inbound events/s |",
		"| deliveries per CPU-s | bare write loop |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("report lacks %q:\n%s", want, table)
		}
	}
}

func checkResult(t *testing.T, cfg bench.Config, r bench.Result) {
	t.Helper()
	if r.Conns != cfg.Conns || r.HandshakeFailures != 0 {
		t.Errorf("%s: %d clients connected (%d failed), want %d", r.Server, r.Conns, r.HandshakeFailures, cfg.Conns)
	}
	if r.HandshakesPerSec <= 0 || r.BaselineRSS <= 0 {
		t.Errorf("%s: handshakes/s %v, baseline RSS %d: want both measured", r.Server, r.HandshakesPerSec, r.BaselineRSS)
	}
	for _, ladder := range []struct {
		name  string
		steps []bench.Step
		subs  int
	}{{"large", r.Large, cfg.Conns}, {"small", r.Small, cfg.SmallConns}} {
		if len(ladder.steps) == 0 {
			t.Errorf("%s: no %s fan-out steps", r.Server, ladder.name)
		}
		for _, s := range ladder.steps {
			// Tiny rates on an idle loopback: every tick must arrive, with
			// a timestamp the clients could read.
			if s.Subscribers != ladder.subs || s.Delivered != s.Expected || s.Lost != 0 || s.Max <= 0 {
				t.Errorf("%s: %s step at %g/s: %d subscribers, %d of %d delivered, %d lost, max latency %v",
					r.Server, ladder.name, s.Rate, s.Subscribers, s.Delivered, s.Expected, s.Lost, s.Max)
			}
		}
	}
	if r.InboundPerSec <= 0 {
		t.Errorf("%s: inbound events/s %v, want some", r.Server, r.InboundPerSec)
	}
}

// TestSoakSmoke runs the soak command for a moment at a tiny scale, so
// that it cannot rot between real runs; its verdict (goroutines and heap
// back to the baseline) must hold.
func TestSoakSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the benchmark server")
	}
	root := nodetest.Root(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	soak := filepath.Join(dir, "soak")
	build := exec.CommandContext(ctx, "go", "build", "-o", soak, "./bench/cmd/soak")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./bench/cmd/soak: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, soak, "-conns", "40", "-duration", "1s", "-ticks", "3")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soak: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "returned to the baseline") {
		t.Errorf("soak printed no verdict:\n%s", out)
	}
}

package bench

import (
	"strings"
	"testing"
	"time"
)

func TestLadderFigures(t *testing.T) {
	step := func(rate float64, delivered int64, wall time.Duration, kept, sustained bool) Step {
		return Step{Subscribers: 1000, Rate: rate, Delivered: delivered, Wall: wall, KeptUp: kept, Sustained: sustained}
	}
	for _, tc := range []struct {
		name                   string
		steps                  []Step
		sustained, throughput  float64
		sustainedAtLeast, thAL bool
	}{
		{"empty", nil, 0, 0, false, false},
		{"all sustained", []Step{step(25, 50_000, 2*time.Second, true, true), step(50, 100_000, 2*time.Second, true, true)},
			50_000, 50_000, true, true},
		{"latency gives out first", []Step{step(25, 50_000, 2*time.Second, true, true), step(50, 100_000, 2*time.Second, true, false),
			step(100, 100_000, 4*time.Second, false, false)}, 25_000, 50_000, false, false},
		{"nothing sustained", []Step{step(25, 50_000, 2*time.Second, true, false)}, 0, 25_000, false, true},
	} {
		v, atLeast, ok := maxSustained(tc.steps)
		if v != tc.sustained || atLeast != tc.sustainedAtLeast || ok != (len(tc.steps) > 0) {
			t.Errorf("%s: maxSustained = %v, %v, %v; want %v, %v", tc.name, v, atLeast, ok, tc.sustained, tc.sustainedAtLeast)
		}
		v, atLeast, _ = maxThroughput(tc.steps)
		if v != tc.throughput || atLeast != tc.thAL {
			t.Errorf("%s: maxThroughput = %v, %v; want %v, %v", tc.name, v, atLeast, tc.throughput, tc.thAL)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestTableRatiosAndTargets checks the figures a reader acts on: the
// ratio of medians and whether each target is met, for a metric where
// more is better and one where less is.
func TestTableRatiosAndTargets(t *testing.T) {
	cfg := DefaultConfig()
	results := []Result{
		{Server: ServerNode, Conns: 10, HandshakesPerSec: 1000, IdleBytesPerConn: 16 << 10},
		{Server: ServerNode, Conns: 10, HandshakesPerSec: 1200, IdleBytesPerConn: 16 << 10},
		{Server: ServerNode, Conns: 10, HandshakesPerSec: 5000, IdleBytesPerConn: 16 << 10},
		{Server: ServerGo, Conns: 10, HandshakesPerSec: 3000, IdleBytesPerConn: 12 << 10},
	}
	var handshakes, memory Summary
	for _, s := range Summarize(cfg, results) {
		switch {
		case strings.HasPrefix(s.Metric.Name, "handshakes/s"):
			handshakes = s
		case strings.HasPrefix(s.Metric.Name, "idle memory"):
			memory = s
		}
	}
	if r, ok := handshakes.Ratio(); !ok || r != 2.5 || handshakes.Status() != "met" {
		t.Errorf("handshakes: ratio %v (%v), status %q; want 2.5 (median 1200 vs 3000), met", r, ok, handshakes.Status())
	}
	if r, ok := memory.Ratio(); !ok || r != 0.75 || memory.Status() != "missed" {
		t.Errorf("memory: ratio %v, status %q; want 0.75, missed (target at most 0.5)", r, memory.Status())
	}
	var b strings.Builder
	WriteTable(&b, Summarize(cfg, results))
	if !strings.Contains(b.String(), "| handshakes/s (JWT verified) | 1200 | 3000 | 2.50x | ≥ 2x | met |") {
		t.Errorf("table row for handshakes not as expected:\n%s", b.String())
	}
}

// TestFloorTable checks the bare write loop's comparison: medians of each
// at the reference rates, and the two ratios.
func TestFloorTable(t *testing.T) {
	cfg := DefaultConfig()
	step := func(subs int, rate float64, cpu time.Duration) Step {
		return Step{Subscribers: subs, Rate: rate, Delivered: 100_000, CPU: cpu}
	}
	results := []Result{
		{Server: ServerNode, Small: []Step{step(1000, 50, 2*time.Second)}, Large: []Step{step(10000, 4, 4*time.Second)}},
		{Server: ServerGo, Small: []Step{step(1000, 50, time.Second)}, Large: []Step{step(10000, 4, time.Second)}},
	}
	floors := []Floor{
		{Subscribers: 1000, Rate: 50, Delivered: 100_000, CPU: time.Second / 2},
		{Subscribers: 1000, Rate: 50, Delivered: 100_000, CPU: time.Second / 4},
		{Subscribers: 1000, Rate: 50, Delivered: 100_000, CPU: time.Second},
		{Subscribers: 10000, Rate: 4, Delivered: 100_000, CPU: 2 * time.Second},
	}
	var b strings.Builder
	WriteFloorTable(&b, cfg, results, floors)
	for _, want := range []string{
		"| 1000 subs @50/s | 200k | 50k | 100k | 4.00x | 0.50x |",
		"| 10000 subs @4/s | 50k | 25k | 100k | 2.00x | 2.00x |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("floor table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestAtLeastNeedsEveryRepetition checks that a median is marked "at least"
// only when no repetition's ladder failed.
func TestAtLeastNeedsEveryRepetition(t *testing.T) {
	cfg := DefaultConfig()
	sustained := func(rates ...float64) []Step {
		var steps []Step
		for _, r := range rates {
			steps = append(steps, Step{Subscribers: 1000, Rate: r, KeptUp: true, Sustained: true})
		}
		return steps
	}
	failedAt := func(steps []Step) []Step {
		steps[len(steps)-1].KeptUp, steps[len(steps)-1].Sustained = false, false
		return steps
	}
	results := []Result{
		{Server: ServerGo, Small: sustained(25, 50)},
		{Server: ServerGo, Small: failedAt(sustained(25, 50))},
		{Server: ServerGo, Small: sustained(25, 50)},
	}
	for _, s := range Summarize(cfg, results) {
		if strings.Contains(s.Metric.Name, "max sustained") && strings.HasPrefix(s.Metric.Name, "1000") {
			if s.AtLeast[ServerGo] {
				t.Fatalf("max sustained marked at least %v although one repetition failed", s.Median[ServerGo])
			}
			return
		}
	}
	t.Fatal("no max sustained row")
}

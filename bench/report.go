package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Metric is one row of the comparison.
type Metric struct {
	Name string
	// Value extracts the figure from one run; ok is false when the run did
	// not produce it. atLeast means the true figure may be higher (a ladder
	// that never failed).
	Value func(Result) (v float64, atLeast, ok bool)
	Unit  string
	// Target is the ratio go/node to reach, 0 for none; Lower means the
	// ratio must stay at or below it.
	Target float64
	Lower  bool
}

// Metrics returns the rows of the comparison for cfg.
func Metrics(cfg Config) []Metric {
	refSmall := fmt.Sprintf("%g", cfg.SmallRefRate)
	refLarge := fmt.Sprintf("%g", cfg.LargeRefRate)
	small := fmt.Sprintf("%d", cfg.SmallConns)
	large := fmt.Sprintf("%d", cfg.Conns)
	return []Metric{
		{Name: "idle memory per connection at " + large, Unit: "KiB", Target: 0.5, Lower: true,
			Value: func(r Result) (float64, bool, bool) { return r.IdleBytesPerConn / 1024, false, r.Conns > 0 }},
		{Name: "  the same after a forced GC", Unit: "KiB",
			Value: func(r Result) (float64, bool, bool) { return r.IdleBytesPerConnGC / 1024, false, r.Conns > 0 }},
		{Name: "handshakes/s (JWT verified)", Unit: "/s", Target: 2,
			Value: func(r Result) (float64, bool, bool) { return r.HandshakesPerSec, false, r.Conns > 0 }},
		{Name: "handshakes per server CPU-s", Unit: "/CPU-s",
			Value: func(r Result) (float64, bool, bool) {
				return float64(r.Conns) / r.HandshakeCPU.Seconds(), false, r.Conns > 0 && r.HandshakeCPU > 0
			}},
		{Name: small + " subs: max sustained deliveries/s (p99<100ms)", Unit: "/s", Target: 2,
			Value: func(r Result) (float64, bool, bool) { return maxSustained(r.Small) }},
		{Name: small + " subs: max throughput, any latency (deliveries/s)", Unit: "/s",
			Value: func(r Result) (float64, bool, bool) { return maxThroughput(r.Small) }},
		{Name: small + " subs: deliveries per server CPU-s @" + refSmall + "/s", Unit: "/CPU-s", Target: 3,
			Value: func(r Result) (float64, bool, bool) { return atRate(r.Small, cfg.SmallRefRate, Step.PerCPUSecond) }},
		{Name: small + " subs: p50 latency @" + refSmall + "/s", Unit: "ms",
			Value: func(r Result) (float64, bool, bool) { return atRate(r.Small, cfg.SmallRefRate, p50ms) }},
		{Name: small + " subs: p99 latency @" + refSmall + "/s", Unit: "ms",
			Value: func(r Result) (float64, bool, bool) { return atRate(r.Small, cfg.SmallRefRate, p99ms) }},
		{Name: large + " subs: max sustained deliveries/s (p99<100ms)", Unit: "/s", Target: 2,
			Value: func(r Result) (float64, bool, bool) { return maxSustained(r.Large) }},
		{Name: large + " subs: max throughput, any latency (deliveries/s)", Unit: "/s",
			Value: func(r Result) (float64, bool, bool) { return maxThroughput(r.Large) }},
		{Name: large + " subs: deliveries per server CPU-s @" + refLarge + "/s", Unit: "/CPU-s", Target: 3,
			Value: func(r Result) (float64, bool, bool) { return atRate(r.Large, cfg.LargeRefRate, Step.PerCPUSecond) }},
		{Name: large + " subs, 1 broadcast/s: p50 latency", Unit: "ms",
			Value: func(r Result) (float64, bool, bool) { return atRate(r.Large, 1, p50ms) }},
		{Name: large + " subs, 1 broadcast/s: p99 latency", Unit: "ms", Target: 0.5, Lower: true,
			Value: func(r Result) (float64, bool, bool) { return atRate(r.Large, 1, p99ms) }},
		{Name: large + " subs, 1 broadcast/s: max latency", Unit: "ms",
			Value: func(r Result) (float64, bool, bool) { return atRate(r.Large, 1, maxms) }},
		{Name: "inbound events/s", Unit: "/s",
			Value: func(r Result) (float64, bool, bool) { return r.InboundPerSec, false, r.InboundPerSec > 0 }},
		{Name: "inbound events per server CPU-s", Unit: "/CPU-s",
			Value: func(r Result) (float64, bool, bool) { return r.InboundPerCPUSecond, false, r.InboundPerCPUSecond > 0 }},
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func p50ms(s Step) float64       { return ms(s.P50) }
func p99ms(s Step) float64       { return ms(s.P99) }
func maxms(s Step) float64       { return ms(s.Max) }

func atRate(steps []Step, rate float64, f func(Step) float64) (float64, bool, bool) {
	for _, s := range steps {
		if s.Rate == rate {
			return f(s), false, true
		}
	}
	return 0, false, false
}

// maxSustained is the highest offered delivery rate of a sustained step;
// atLeast when no step failed.
func maxSustained(steps []Step) (float64, bool, bool) {
	best, failed := 0.0, false
	for _, s := range steps {
		if s.Sustained {
			best = max(best, s.OfferedPerSec())
		} else {
			failed = true
		}
	}
	return best, !failed && len(steps) > 0, len(steps) > 0
}

// maxThroughput is the highest delivered rate of a step the server kept up
// with; atLeast when it kept up with every step.
func maxThroughput(steps []Step) (float64, bool, bool) {
	best, failed := 0.0, false
	for _, s := range steps {
		if s.KeptUp {
			best = max(best, s.DeliveriesPerSec())
		} else {
			failed = true
		}
	}
	return best, !failed && len(steps) > 0, len(steps) > 0
}

// Summary is a metric's medians over repetitions.
type Summary struct {
	Metric  Metric
	Values  map[string][]float64 // per server, one per repetition
	Median  map[string]float64
	AtLeast map[string]bool
}

// Ratio returns the go/node ratio of medians.
func (s Summary) Ratio() (float64, bool) {
	n, okN := s.Median[ServerNode]
	g, okG := s.Median[ServerGo]
	if !okN || !okG || n == 0 {
		return 0, false
	}
	return g / n, true
}

// Status says whether the target is met, or "" without a target.
func (s Summary) Status() string {
	r, ok := s.Ratio()
	if s.Metric.Target == 0 || !ok {
		return ""
	}
	met := r >= s.Metric.Target
	if s.Metric.Lower {
		met = r <= s.Metric.Target
	}
	if !met && s.AtLeast[ServerGo] && !s.Metric.Lower {
		return "open (Go never failed)"
	}
	if met {
		return "met"
	}
	return "missed"
}

// Summarize computes each metric's medians over results.
func Summarize(cfg Config, results []Result) []Summary {
	var out []Summary
	for _, m := range Metrics(cfg) {
		s := Summary{Metric: m, Values: map[string][]float64{}, Median: map[string]float64{}, AtLeast: map[string]bool{}}
		for _, r := range results {
			v, atLeast, ok := m.Value(r)
			if !ok {
				continue
			}
			// "At least" holds for the median only if it holds for every
			// repetition: one whose ladder failed has a true figure.
			prev, seen := s.AtLeast[r.Server]
			s.AtLeast[r.Server] = atLeast && (prev || !seen)
			s.Values[r.Server] = append(s.Values[r.Server], v)
		}
		for server, vs := range s.Values {
			s.Median[server] = median(vs)
		}
		out = append(out, s)
	}
	return out
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func formatValue(v float64, unit string, atLeast bool) string {
	var s string
	switch {
	case unit == "ms" || unit == "KiB":
		s = fmt.Sprintf("%.1f %s", v, unit)
	case v >= 10_000:
		s = fmt.Sprintf("%.0fk", v/1000)
	default:
		s = fmt.Sprintf("%.0f", v)
	}
	if atLeast {
		s = "≥ " + s
	}
	return s
}

// WriteTable writes the comparison as a Markdown table.
func WriteTable(w io.Writer, sums []Summary) {
	fmt.Fprintln(w, "| metric | Node socket.io | Go gateway | Go/Node | target | status |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	for _, s := range sums {
		cell := func(server string) string {
			v, ok := s.Median[server]
			if !ok {
				return "–"
			}
			if v == 0 && s.Metric.Unit == "/s" {
				return "none"
			}
			return formatValue(v, s.Metric.Unit, s.AtLeast[server])
		}
		ratio := "–"
		if r, ok := s.Ratio(); ok {
			ratio = fmt.Sprintf("%.2fx", r)
		}
		target := ""
		if s.Metric.Target != 0 {
			op := "≥"
			if s.Metric.Lower {
				op = "≤"
			}
			target = fmt.Sprintf("%s %gx", op, s.Metric.Target)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", strings.TrimSpace(s.Metric.Name), cell(ServerNode), cell(ServerGo), ratio, target, s.Status())
	}
}

// WriteSteps writes every ladder step of every run, for the record; user
// µs and sys µs are the server's CPU per delivery in user space and in the
// kernel.
func WriteSteps(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tserver\tsubs\trate/s\toffered/s\tdelivered/s\tdelivered%\tp50 ms\tp99 ms\tmax ms\tper CPU-s\tuser µs\tsys µs\tkept up\tsustained\t")
	for i, r := range results {
		for _, steps := range [][]Step{r.Large, r.Small} {
			for _, s := range steps {
				perDelivery := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(s.Delivered, 1)) }
				fmt.Fprintf(tw, "%d\t%s\t%d\t%g\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\t%.2f\t%.2f\t%v\t%v\t\n", i+1, r.Server, s.Subscribers, s.Rate,
					s.OfferedPerSec(), s.DeliveriesPerSec(), 100*float64(s.Delivered)/float64(max(s.Expected, 1)),
					ms(s.P50), ms(s.P99), ms(s.Max), s.PerCPUSecond(), perDelivery(s.CPU-s.SysCPU), perDelivery(s.SysCPU), s.KeptUp, s.Sustained)
			}
		}
	}
	tw.Flush()
}

// WriteFloorTable writes each server's deliveries per CPU-second at the
// reference rates next to the bare write loop's (see Floor), medians over
// repetitions: how far each server is from the floor, and the most that one
// write per delivery allows against Node.
func WriteFloorTable(w io.Writer, cfg Config, results []Result, floors []Floor) {
	fmt.Fprintln(w, "| deliveries per CPU-s | bare write loop | Node socket.io | Go gateway | loop/Node | Go/loop |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, ref := range []struct {
		subs int
		rate float64
		pick func(Result) []Step
	}{
		{cfg.SmallConns, cfg.SmallRefRate, func(r Result) []Step { return r.Small }},
		{cfg.Conns, cfg.LargeRefRate, func(r Result) []Step { return r.Large }},
	} {
		var loop []float64
		for _, f := range floors {
			if f.Subscribers == ref.subs && f.Rate == ref.rate {
				loop = append(loop, f.PerCPUSecond())
			}
		}
		perServer := map[string][]float64{}
		for _, r := range results {
			if v, _, ok := atRate(ref.pick(r), ref.rate, Step.PerCPUSecond); ok {
				perServer[r.Server] = append(perServer[r.Server], v)
			}
		}
		l, n, g := median(loop), median(perServer[ServerNode]), median(perServer[ServerGo])
		cell := func(v float64) string {
			if math.IsNaN(v) {
				return "–"
			}
			return formatValue(v, "/CPU-s", false)
		}
		ratio := func(a, b float64) string {
			if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2fx", a/b)
		}
		fmt.Fprintf(w, "| %d subs @%g/s | %s | %s | %s | %s | %s |\n", ref.subs, ref.rate, cell(l), cell(n), cell(g), ratio(l, n), ratio(g, l))
	}
}

package bench

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Config sizes a run. DefaultConfig is the full comparison; SmokeConfig is
// a tiny one that exercises every scenario in a few seconds.
type Config struct {
	Conns       int // idle-memory, handshake and large fan-out scenarios
	SmallConns  int // the small fan-out and inbound scenarios
	Warmup      int // connections made and dropped before the baseline
	Concurrency int // handshakes in flight
	Sources     int // loopback source addresses
	Secret      string

	// Fan-out ladders, in broadcasts per second. A ladder stops at the first
	// step the server does not keep up with (see Step.KeptUp), once it has
	// passed its reference rate.
	SmallRates, LargeRates []float64
	// SmallRefRate and LargeRefRate are the rates at which deliveries per
	// CPU-second are compared: a load both servers carry.
	SmallRefRate, LargeRefRate float64
	StepDuration               time.Duration // broadcasts per step: rate×StepDuration...
	MinBroadcasts              int           // ...but at least this many
	P99Limit                   time.Duration // a sustained step's p99 stays under it
	DrainTimeout               time.Duration // how long deliveries may trail the last send

	Settle        time.Duration // idle time before reading memory
	FloodConns    int
	FloodDuration time.Duration

	Timeout time.Duration // one handshake or one subscription round
	Log     io.Writer     // progress; nil for none
}

// DefaultConfig is the full comparison of docs/BENCHMARKS.md.
func DefaultConfig() Config {
	return Config{
		Conns:         10_000,
		SmallConns:    1_000,
		Warmup:        200,
		Concurrency:   200,
		Sources:       16,
		Secret:        "bench-secret-0123456789abcdef0123456789abcdef",
		SmallRates:    []float64{25, 50, 75, 100, 150, 200, 300, 400, 600, 800, 1200},
		LargeRates:    []float64{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64},
		SmallRefRate:  50,
		LargeRefRate:  4,
		StepDuration:  2 * time.Second,
		MinBroadcasts: 5,
		P99Limit:      100 * time.Millisecond,
		DrainTimeout:  8 * time.Second,
		Settle:        2 * time.Second,
		FloodConns:    100,
		FloodDuration: 3 * time.Second,
		Timeout:       20 * time.Second,
	}
}

// SmokeConfig runs every scenario at a tiny scale.
func SmokeConfig() Config {
	c := DefaultConfig()
	c.Conns, c.SmallConns, c.Warmup, c.Concurrency, c.Sources = 20, 10, 4, 8, 4
	c.SmallRates, c.LargeRates = []float64{20, 40}, []float64{20, 40}
	c.SmallRefRate, c.LargeRefRate = 20, 20
	c.StepDuration, c.MinBroadcasts = 200*time.Millisecond, 3
	c.DrainTimeout = 3 * time.Second
	c.Settle = 100 * time.Millisecond
	c.FloodConns, c.FloodDuration = 4, 300*time.Millisecond
	c.Timeout = 5 * time.Second
	return c
}

// Step is one rung of a fan-out ladder.
type Step struct {
	Subscribers int
	Rate        float64 // broadcasts per second asked for
	Broadcasts  int
	Expected    int64 // Broadcasts × Subscribers
	Delivered   int64
	Wall        time.Duration // first send to last arrival (or drain timeout)
	SendTime    time.Duration // first send to last send, as the server saw it
	CPU         time.Duration // server CPU over Wall
	SysCPU      time.Duration // the part of CPU spent in the kernel
	ClientCPU   time.Duration // load workers' CPU over Wall
	P50, P99    time.Duration
	Max         time.Duration
	Lost        int64 // disconnects during the step
	// KeptUp means every tick arrived within the drain timeout, no client
	// was lost, the server sent at the pace asked and the clients received
	// at least 80% of the offered rate: the server carries this load, at
	// whatever latency.
	KeptUp bool
	// Sustained means KeptUp with a p99 latency under Config.P99Limit.
	Sustained bool
}

// DeliveriesPerSec is the delivered rate over the step.
func (s Step) DeliveriesPerSec() float64 { return float64(s.Delivered) / s.Wall.Seconds() }

// OfferedPerSec is the delivery rate the step asked for.
func (s Step) OfferedPerSec() float64 { return s.Rate * float64(s.Subscribers) }

// PerCPUSecond is deliveries per second of server CPU.
func (s Step) PerCPUSecond() float64 {
	if s.CPU <= 0 {
		return 0
	}
	return float64(s.Delivered) / s.CPU.Seconds()
}

// Result is one server's run of every scenario.
type Result struct {
	Server string

	Conns              int
	HandshakesPerSec   float64
	HandshakeCPU       time.Duration // server CPU over the handshakes
	HandshakeFailures  int
	IdleBytesPerConn   float64 // RSS delta / connections, settled
	IdleBytesPerConnGC float64 // the same after a forced GC
	BaselineRSS        int64

	Small, Large []Step

	InboundPerSec       float64
	InboundPerCPUSecond float64
}

// Runner runs the scenarios against one server with a pool of clients.
type Runner struct {
	Cfg  Config
	Pool *Pool
	// Profiler, when set, saves the server's profiles during the run.
	Profiler *Profiler
}

func (r *Runner) logf(format string, args ...any) {
	if r.Cfg.Log != nil {
		fmt.Fprintf(r.Cfg.Log, format+"\n", args...)
	}
}

func (r *Runner) connectOptions(s *ServerProc) ConnectOptions {
	return ConnectOptions{Addr: s.Addr, Path: EnginePath, Secret: r.Cfg.Secret,
		Concurrency: r.Cfg.Concurrency, Sources: r.Cfg.Sources, Timeout: r.Cfg.Timeout}
}

// Run runs every scenario against s, in order: idle memory and handshakes
// at Conns, the large fan-out ladder, then (with the extra clients closed)
// the small ladder and the inbound flood. It leaves the pool empty.
func (r *Runner) Run(ctx context.Context, s *ServerProc) (res Result, err error) {
	res.Server = s.Name
	defer func() {
		if shrinkErr := r.Pool.Shrink(0); err == nil {
			err = shrinkErr
		}
		if dead, last := s.Exited(); dead && err == nil {
			err = fmt.Errorf("%w: %s", ErrServerExited, last)
		}
	}()
	if err := r.memoryAndHandshakes(ctx, s, &res); err != nil {
		return res, err
	}
	if res.Large, err = r.ladder(ctx, s, r.Cfg.LargeRates, r.Cfg.LargeRefRate); err != nil {
		return res, err
	}
	if err := r.Pool.Shrink(r.Cfg.SmallConns); err != nil {
		return res, err
	}
	if err := r.waitClients(ctx, s, r.Pool.Open()); err != nil {
		return res, err
	}
	if res.Small, err = r.ladder(ctx, s, r.Cfg.SmallRates, r.Cfg.SmallRefRate); err != nil {
		return res, err
	}
	return res, r.inbound(ctx, s, &res)
}

// memoryAndHandshakes warms the server up, reads its baseline RSS, connects
// Conns clients (timing the handshakes), subscribes them and reads the RSS
// again once idle.
func (r *Runner) memoryAndHandshakes(ctx context.Context, s *ServerProc, res *Result) error {
	opts := r.connectOptions(s)
	if r.Cfg.Warmup > 0 {
		if _, err := r.Pool.Connect(opts, r.Cfg.Warmup); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		if err := r.Pool.Subscribe(Channel, Symbol, r.Cfg.Timeout); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		if _, err := s.Broadcast(ctx, 100, 3); err != nil {
			return err
		}
		if err := r.Pool.Shrink(0); err != nil {
			return err
		}
		if err := r.waitClients(ctx, s, 0); err != nil {
			return err
		}
	}
	if err := s.GC(ctx); err != nil {
		return err
	}
	if err := sleep(ctx, r.Cfg.Settle/2); err != nil {
		return err
	}
	rss0, err := RSS(s.PID)
	if err != nil {
		return err
	}
	res.BaselineRSS = rss0

	r.Profiler.handshakes(ctx, 3)
	ccpu0, err := r.Pool.CPUTime()
	if err != nil {
		return err
	}
	scpu0, err := CPUTime(s.PID)
	if err != nil {
		return err
	}
	cr, err := r.Pool.Connect(opts, r.Cfg.Conns)
	if err != nil {
		return err
	}
	ccpu1, err := r.Pool.CPUTime()
	if err != nil {
		return err
	}
	scpu1, err := CPUTime(s.PID)
	if err != nil {
		return err
	}
	res.Conns = cr.Open
	res.HandshakeFailures = cr.Failed
	if cr.Failed > 0 {
		r.logf("  %s: %d of %d handshakes failed; first: %s", s.Name, cr.Failed, r.Cfg.Conns, cr.FirstErr)
	}
	res.HandshakesPerSec = float64(cr.Open) / cr.Elapsed.Seconds()
	res.HandshakeCPU = scpu1 - scpu0
	r.logf("  %s: %d handshakes in %v (%.0f/s); server CPU %v, load CPU %v", s.Name, cr.Open, cr.Elapsed.Round(time.Millisecond),
		res.HandshakesPerSec, scpu1-scpu0, ccpu1-ccpu0)
	if cr.Open == 0 {
		return fmt.Errorf("no client could connect: %s", cr.FirstErr)
	}
	if err := r.Pool.Subscribe(Channel, Symbol, r.Cfg.Timeout); err != nil {
		return err
	}
	if err := sleep(ctx, r.Cfg.Settle); err != nil {
		return err
	}
	rss1, err := RSS(s.PID)
	if err != nil {
		return err
	}
	r.Profiler.idle(ctx, cr.Open)
	if st, err := s.Stats(ctx); err == nil {
		r.logf("  %s: runtime memory with %d clients: %s", s.Name, cr.Open, formatMemory(st.Memory, cr.Open))
	}
	if err := s.GC(ctx); err != nil {
		return err
	}
	if err := sleep(ctx, r.Cfg.Settle/2); err != nil {
		return err
	}
	rss2, err := RSS(s.PID)
	if err != nil {
		return err
	}
	if st, err := s.Stats(ctx); err == nil {
		r.logf("  %s: runtime memory after a forced GC: %s", s.Name, formatMemory(st.Memory, cr.Open))
	}
	res.IdleBytesPerConn = float64(rss1-rss0) / float64(cr.Open)
	res.IdleBytesPerConnGC = float64(rss2-rss0) / float64(cr.Open)
	r.logf("  %s: RSS %.1f MiB idle, %.1f MiB → %.1f MiB with %d clients (%.1f KiB/conn; %.1f KiB after GC)", s.Name,
		float64(rss0)/(1<<20), float64(rss1)/(1<<20), float64(rss2)/(1<<20), cr.Open,
		res.IdleBytesPerConn/1024, res.IdleBytesPerConnGC/1024)
	return nil
}

// waitClients waits until the server counts n clients.
func (r *Runner) waitClients(ctx context.Context, s *ServerProc, n int) error {
	deadline := time.Now().Add(r.Cfg.Timeout)
	for {
		st, err := s.Stats(ctx)
		if err != nil {
			return err
		}
		if st.Clients == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s counts %d clients, want %d", s.Name, st.Clients, n)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// ladder runs fan-out steps at increasing rates until one is not
// sustained (once the reference rate has been run).
func (r *Runner) ladder(ctx context.Context, s *ServerProc, rates []float64, ref float64) ([]Step, error) {
	var steps []Step
	for _, rate := range rates {
		st, err := r.step(ctx, s, rate)
		if err != nil {
			return steps, err
		}
		steps = append(steps, st)
		r.logf("  %s: %5d subs × %4g/s: %7.0f deliveries/s (%5.1f%%) p50 %6.1fms p99 %6.1fms max %6.1fms; %7.0f/server CPU-s (%.0f%% system), load CPU %.2fs/s; kept up=%v, sustained=%v",
			s.Name, st.Subscribers, st.Rate, st.DeliveriesPerSec(), 100*float64(st.Delivered)/float64(max(st.Expected, 1)),
			ms(st.P50), ms(st.P99), ms(st.Max), st.PerCPUSecond(), 100*st.SysCPU.Seconds()/max(st.CPU.Seconds(), 1e-9), st.ClientCPU.Seconds()/st.Wall.Seconds(), st.KeptUp, st.Sustained)
		if !st.KeptUp && rate >= ref {
			break
		}
	}
	return steps, nil
}

// step broadcasts at one rate and measures what arrives.
func (r *Runner) step(ctx context.Context, s *ServerProc, rate float64) (Step, error) {
	subs := r.Pool.Open()
	n := max(r.Cfg.MinBroadcasts, int(rate*r.Cfg.StepDuration.Seconds()))
	st := Step{Subscribers: subs, Rate: rate, Broadcasts: n, Expected: int64(n) * int64(subs)}
	if err := r.Pool.Reset(); err != nil {
		return st, err
	}
	before, err := r.Pool.Stats(false)
	if err != nil {
		return st, err
	}
	user0, sys0, err := CPUTimes(s.PID)
	if err != nil {
		return st, err
	}
	ccpu0, err := r.Pool.CPUTime()
	if err != nil {
		return st, err
	}
	r.Profiler.step(ctx, subs, rate, n)
	start := time.Now()
	br, err := s.Broadcast(ctx, rate, n)
	if err != nil {
		return st, err
	}
	st.SendTime = time.Duration(br.ElapsedNs)
	drainBy := time.Now().Add(r.Cfg.DrainTimeout)
	var after Stats
	for {
		after, err = r.Pool.Stats(false)
		if err != nil {
			return st, err
		}
		if after.Delivered >= st.Expected || time.Now().After(drainBy) {
			break
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return st, err
		}
	}
	st.Wall = time.Since(start)
	user1, sys1, err := CPUTimes(s.PID)
	if err != nil {
		return st, err
	}
	ccpu1, err := r.Pool.CPUTime()
	if err != nil {
		return st, err
	}
	st.ClientCPU = ccpu1 - ccpu0
	after, err = r.Pool.Stats(true)
	if err != nil {
		return st, err
	}
	st.CPU = user1 + sys1 - user0 - sys0
	st.SysCPU = sys1 - sys0
	st.Delivered = after.Delivered
	st.Lost = after.Disconnects - before.Disconnects
	st.P50 = time.Duration(after.Hist.Quantile(0.50)) * time.Microsecond
	st.P99 = time.Duration(after.Hist.Quantile(0.99)) * time.Microsecond
	st.Max = time.Duration(after.Hist.MaxMicros) * time.Microsecond
	keptPace := st.SendTime.Seconds() <= float64(n)/rate*1.1+0.05
	st.KeptUp = st.Delivered >= st.Expected && st.Lost == 0 && keptPace && st.DeliveriesPerSec() >= 0.8*st.OfferedPerSec()
	st.Sustained = st.KeptUp && st.P99 < r.Cfg.P99Limit
	if after.BadTicks > 0 {
		return st, fmt.Errorf("%d ticks from %s had no readable timestamp", after.BadTicks, s.Name)
	}
	return st, nil
}

// inbound has FloodConns clients send events as fast as the server reads
// them and counts, on the server, how many it handled.
func (r *Runner) inbound(ctx context.Context, s *ServerProc, res *Result) error {
	type sample struct {
		at        time.Time
		in        int64
		cpu, load time.Duration
	}
	read := func() (sample, error) {
		st, err := s.Stats(ctx)
		if err != nil {
			return sample{}, err
		}
		cpu, err := CPUTime(s.PID)
		if err != nil {
			return sample{}, err
		}
		load, err := r.Pool.CPUTime()
		return sample{time.Now(), st.Inbound, cpu, load}, err
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Pool.Flood(InboundEvent, r.Cfg.FloodConns, r.Cfg.FloodDuration)
		done <- err
	}()
	// The first sixth ramps up; the window ends before the flood does.
	if err := sleep(ctx, r.Cfg.FloodDuration/6); err != nil {
		return err
	}
	a, err := read()
	if err != nil {
		return err
	}
	r.Profiler.inbound(ctx, (r.Cfg.FloodDuration * 2 / 3).Seconds())
	if err := sleep(ctx, r.Cfg.FloodDuration*2/3); err != nil {
		return err
	}
	b, err := read()
	if err != nil {
		return err
	}
	if err := <-done; err != nil {
		return err
	}
	res.InboundPerSec = float64(b.in-a.in) / b.at.Sub(a.at).Seconds()
	if cpu := (b.cpu - a.cpu).Seconds(); cpu > 0 {
		res.InboundPerCPUSecond = float64(b.in-a.in) / cpu
	}
	window := b.at.Sub(a.at).Seconds()
	r.logf("  %s: inbound %.0f events/s, %.0f per CPU-s; server CPU %.2fs/s, load CPU %.2fs/s", s.Name, res.InboundPerSec, res.InboundPerCPUSecond,
		(b.cpu-a.cpu).Seconds()/window, (b.load-a.load).Seconds()/window)
	return nil
}

// formatMemory lists a runtime's memory figures, per connection.
func formatMemory(m map[string]int64, conns int) string {
	keys := slices.Sorted(maps.Keys(m))
	var b strings.Builder
	for _, k := range keys {
		if k == "goroutines" {
			fmt.Fprintf(&b, "%s %d; ", k, m[k])
			continue
		}
		fmt.Fprintf(&b, "%s %.1f MiB (%.2f KiB/conn); ", k, float64(m[k])/(1<<20), float64(m[k])/1024/float64(max(conns, 1)))
	}
	return strings.TrimSuffix(b.String(), "; ")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

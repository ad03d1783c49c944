// Command compare measures the gateway against Node's socket.io 4.8 on this
// machine: it builds bench/goserver, starts each server in turn (alternating
// their order between repetitions), runs every scenario of package bench
// against it with a pool of load-generating worker processes, and prints one
// table of medians with the Go/Node ratio of each figure.
//
//	go run ./bench/cmd/compare -reps 3
//	go run ./bench/cmd/compare -quick            # every scenario at a tiny scale
//	go run ./bench/cmd/compare -servers go -reps 1 -profile /tmp/prof
//
// Run it from the module root (or pass -root); node must be on PATH and
// node_modules installed (npm ci).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tradewithai/realtime/bench"
)

func main() {
	if bench.RunChild() {
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

type options struct {
	reps       int
	servers    []string
	quick      bool
	conns      int
	small      int
	perWorker  int
	root       string
	node       string
	out        string
	jsonOut    string
	steps      bool
	profileDir string
	pprofAddr  string
	quiet      bool
	floor      bool
}

func parseFlags() (options, error) {
	var o options
	var servers string
	flag.IntVar(&o.reps, "reps", 3, "repetitions; the table shows medians")
	flag.StringVar(&servers, "servers", "node,go", "servers to run, in the first repetition's order")
	flag.BoolVar(&o.quick, "quick", false, "run every scenario at a tiny scale (a smoke test)")
	flag.IntVar(&o.conns, "conns", 0, "connections of the memory, handshake and large fan-out scenarios (default 10000)")
	flag.IntVar(&o.small, "small", 0, "subscribers of the small fan-out scenario (default 1000)")
	flag.IntVar(&o.perWorker, "per-worker", 0, "clients per load worker process (default: what the file descriptor limit allows)")
	flag.StringVar(&o.root, "root", "", "module root (default: found from the working directory)")
	flag.StringVar(&o.node, "node", "node", "node executable")
	flag.StringVar(&o.out, "out", "", "also write the report (Markdown) to this file")
	flag.StringVar(&o.jsonOut, "json", "", "write every run's raw results to this file")
	flag.BoolVar(&o.steps, "steps", true, "print every fan-out step of every run after the table")
	flag.StringVar(&o.profileDir, "profile", "", "save the Go server's CPU and heap profiles to this directory (skews its numbers slightly)")
	flag.StringVar(&o.pprofAddr, "pprof", "", "serve the Go server's net/http/pprof on this loopback address (default with -profile: 127.0.0.1:6061)")
	flag.BoolVar(&o.quiet, "q", false, "no progress lines")
	flag.BoolVar(&o.floor, "floor", true, "also measure a bare write loop at the reference rates, each repetition")
	flag.Parse()
	for _, s := range strings.Split(servers, ",") {
		s = strings.TrimSpace(s)
		if s != bench.ServerNode && s != bench.ServerGo {
			return o, fmt.Errorf("unknown server %q: want node and/or go", s)
		}
		o.servers = append(o.servers, s)
	}
	if o.reps < 1 {
		return o, errors.New("-reps must be at least 1")
	}
	if o.profileDir != "" && o.pprofAddr == "" {
		o.pprofAddr = "127.0.0.1:6061"
	}
	return o, nil
}

func run() error {
	o, err := parseFlags()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fdLimit, err := bench.RaiseFileLimit()
	if err != nil {
		return err
	}
	cfg := bench.DefaultConfig()
	if o.quick {
		cfg = bench.SmokeConfig()
	}
	if o.conns > 0 {
		cfg.Conns = o.conns
	}
	if o.small > 0 {
		cfg.SmallConns = o.small
	}
	if cfg.SmallConns > cfg.Conns {
		return fmt.Errorf("-small %d exceeds -conns %d", cfg.SmallConns, cfg.Conns)
	}
	if !o.quiet {
		cfg.Log = os.Stderr
	}
	root, err := moduleRoot(o.root)
	if err != nil {
		return err
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}

	tmp, err := os.MkdirTemp("", "bench-compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	goServer := filepath.Join(tmp, "goserver")
	logf(cfg.Log, "building bench/goserver")
	build := exec.CommandContext(ctx, "go", "build", "-o", goServer, "./bench/goserver")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the Go server: %w", err)
	}

	// A worker keeps a margin of descriptors for itself.
	perWorker := o.perWorker
	if perWorker <= 0 {
		perWorker = max(int(fdLimit)-512, 64)
	}
	workers := (cfg.Conns + perWorker - 1) / perWorker
	exe, err := bench.Executable()
	if err != nil {
		return err
	}
	pool, err := bench.NewPool(exe, workers, perWorker)
	if err != nil {
		return err
	}
	defer pool.Close()
	logf(cfg.Log, "%d load worker process(es), up to %d clients each; file descriptor limit %d", workers, perWorker, fdLimit)

	specs := map[string]bench.ServerSpec{
		bench.ServerNode: {Name: bench.ServerNode, Path: o.node, Dir: root,
			Args: []string{"--expose-gc", "bench/node-server.mjs", "--secret", cfg.Secret}},
		bench.ServerGo: {Name: bench.ServerGo, Path: goServer, Dir: root,
			Args: []string{"-secret", cfg.Secret}},
	}
	if o.pprofAddr != "" {
		s := specs[bench.ServerGo]
		s.Args = append(s.Args, "-pprof", o.pprofAddr)
		specs[bench.ServerGo] = s
	}

	started := time.Now()
	loadBefore := bench.LoadAverage()
	logf(cfg.Log, "load average before: %s", loadBefore)
	var (
		results []bench.Result
		floors  []bench.Floor
	)
	for rep := range o.reps {
		order := o.servers
		if rep%2 == 1 {
			order = reversed(order)
		}
		for _, name := range order {
			logf(cfg.Log, "repetition %d/%d: %s", rep+1, o.reps, name)
			var prof *bench.Profiler
			if o.profileDir != "" && name == bench.ServerGo {
				prof = &bench.Profiler{Dir: o.profileDir, Addr: o.pprofAddr, Tag: fmt.Sprintf("rep%d-", rep+1)}
			}
			res, err := runOne(ctx, cfg, pool, prof, specs[name])
			if err != nil {
				return fmt.Errorf("repetition %d, %s: %w", rep+1, name, err)
			}
			results = append(results, res)
		}
		if o.floor {
			for _, ref := range []struct {
				subs int
				rate float64
			}{{cfg.SmallConns, cfg.SmallRefRate}, {cfg.Conns, cfg.LargeRefRate}} {
				f, err := bench.MeasureFloor(ctx, exe, cfg, ref.subs, ref.rate)
				if err != nil {
					return fmt.Errorf("repetition %d, bare write loop: %w", rep+1, err)
				}
				logf(cfg.Log, "  bare write loop: %d subs × %g/s: %.0f deliveries per CPU-s (%.0f%% system)",
					f.Subscribers, f.Rate, f.PerCPUSecond(), 100*f.SysCPU.Seconds()/max(f.CPU.Seconds(), 1e-9))
				floors = append(floors, f)
			}
		}
	}
	elapsed := time.Since(started).Round(time.Second)
	logf(cfg.Log, "all runs done in %v", elapsed)

	var report strings.Builder
	writeHeader(&report, o, cfg, root)
	fmt.Fprintf(&report, "Load average (1, 5, 15 min) before: %s; after: %s. Total time %v.\n\n", loadBefore, bench.LoadAverage(), elapsed)
	bench.WriteTable(&report, bench.Summarize(cfg, results))
	if len(floors) > 0 {
		report.WriteString("\nThe same deliveries per CPU-second next to a bare write loop (one process writing the tick's frame to every connection in turn, one write per delivery, no protocol):\n\n")
		bench.WriteFloorTable(&report, cfg, results, floors)
	}
	if o.steps {
		report.WriteString("\nEvery fan-out step (delivered/s is over the step, drain included):\n\n```\n")
		bench.WriteSteps(&report, results)
		report.WriteString("```\n")
	}
	fmt.Print(report.String())
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(report.String()), 0o644); err != nil {
			return err
		}
	}
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func runOne(ctx context.Context, cfg bench.Config, pool *bench.Pool, prof *bench.Profiler, spec bench.ServerSpec) (bench.Result, error) {
	srv, err := bench.StartServer(ctx, spec)
	if err != nil {
		return bench.Result{}, err
	}
	defer srv.Stop()
	r := bench.Runner{Cfg: cfg, Pool: pool, Profiler: prof}
	res, err := r.Run(ctx, srv)
	for _, perr := range prof.Wait() {
		logf(cfg.Log, "  %v", perr)
	}
	return res, err
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// moduleRoot finds the directory holding bench/node-server.mjs.
func moduleRoot(flagRoot string) (string, error) {
	if flagRoot != "" {
		return filepath.Abs(flagRoot)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "bench", "node-server.mjs")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("bench/node-server.mjs not found above the working directory: pass -root")
		}
		dir = parent
	}
}

// writeHeader records what the run was made on.
func writeHeader(w io.Writer, o options, cfg bench.Config, root string) {
	fmt.Fprintf(w, "Machine: %s, %d cores, Linux %s\n", cpuModel(), runtime.NumCPU(), kernel())
	fmt.Fprintf(w, "Go %s (gateway %s); Node %s, socket.io %s\n", runtime.Version(), revision(root),
		strings.TrimSpace(output(root, o.node, "--version")), npmVersion(root, "socket.io"))
	fmt.Fprintf(w, "Medians of %d repetitions; %d connections (%d for the small fan-out), %d handshakes in flight, websocket transport over loopback.\n\n",
		o.reps, cfg.Conns, cfg.SmallConns, cfg.Concurrency)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

func revision(root string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		var rev string
		var dirty bool
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty, _ = strconv.ParseBool(s.Value)
			}
		}
		if len(rev) >= 12 {
			if dirty {
				return rev[:12] + "+changes"
			}
			return rev[:12]
		}
	}
	if rev := strings.TrimSpace(output(root, "git", "rev-parse", "--short=12", "HEAD")); rev != "" {
		return rev
	}
	return "unknown revision"
}

func npmVersion(root, pkg string) string {
	b, err := os.ReadFile(filepath.Join(root, "node_modules", pkg, "package.json"))
	if err != nil {
		return "?"
	}
	var v struct{ Version string }
	if json.Unmarshal(b, &v) != nil {
		return "?"
	}
	return v.Version
}

func output(dir, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		return ""
	}
	return string(b)
}

// Command soak churns connections against the gateway (bench/goserver) and
// checks that its goroutines and heap come back to their baseline: clients
// connect, subscribe, receive ticks, half of them disconnect, they connect
// again, round after round.
//
//	go run ./bench/cmd/soak -conns 5000 -duration 2m
//
// It prints one line per round (server clients, goroutines, heap in use,
// stacks) and a verdict; it exits 1 when goroutines or heap stay above the
// baseline after everyone has left. It is a benchmark, not part of the test
// suite; bench's smoke test runs it for a few seconds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/tradewithai/realtime/bench"
)

func main() {
	if bench.RunChild() {
		return
	}
	conns := flag.Int("conns", 5000, "clients at the top of each round")
	duration := flag.Duration("duration", 2*time.Minute, "how long to churn")
	ticks := flag.Int("ticks", 10, "broadcasts per round")
	flag.Parse()
	if err := run(*conns, *duration, *ticks); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(conns int, duration time.Duration, ticks int) error {
	ctx := context.Background()
	fdLimit, err := bench.RaiseFileLimit()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	server := filepath.Join(tmp, "goserver")
	if out, err := exec.Command("go", "build", "-o", server, "./bench/goserver").CombinedOutput(); err != nil {
		return fmt.Errorf("building bench/goserver: %v\n%s", err, out)
	}
	cfg := bench.DefaultConfig()
	srv, err := bench.StartServer(ctx, bench.ServerSpec{Name: "go", Path: server, Args: []string{"-secret", cfg.Secret}})
	if err != nil {
		return err
	}
	defer srv.Stop()

	exe, err := bench.Executable()
	if err != nil {
		return err
	}
	perWorker := max(int(fdLimit)-512, 64)
	pool, err := bench.NewPool(exe, (conns+perWorker-1)/perWorker, perWorker)
	if err != nil {
		return err
	}
	defer pool.Close()
	opts := bench.ConnectOptions{Addr: srv.Addr, Path: bench.EnginePath, Secret: cfg.Secret,
		Concurrency: cfg.Concurrency, Sources: cfg.Sources, Timeout: cfg.Timeout}

	base, err := settled(ctx, srv, 0)
	if err != nil {
		return err
	}
	fmt.Printf("baseline: goroutines %d, heap in use %.1f MiB, stacks %.1f MiB\n",
		base.Memory["goroutines"], mib(base.Memory["heapInuse"]), mib(base.Memory["stackInuse"]))
	fmt.Println("round  clients  goroutines  heap MiB  stacks MiB  connects  failed")

	start := time.Now()
	connects, failed := 0, 0
	for round := 1; time.Since(start) < duration; round++ {
		before := pool.Open()
		res, err := pool.Connect(opts, conns)
		if err != nil {
			return err
		}
		connects += res.Open - before
		failed += res.Failed
		if err := pool.Subscribe("market-data", "BTC/USD", cfg.Timeout); err != nil {
			return err
		}
		if _, err := srv.Broadcast(ctx, 100, ticks); err != nil {
			return err
		}
		st, err := srv.Stats(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("%5d  %7d  %10d  %8.1f  %10.1f  %8d  %6d\n", round, st.Clients,
			st.Memory["goroutines"], mib(st.Memory["heapInuse"]), mib(st.Memory["stackInuse"]), connects, failed)
		// Half leave; the next round connects them again.
		if err := pool.Shrink(conns / 2); err != nil {
			return err
		}
	}
	if err := pool.Shrink(0); err != nil {
		return err
	}
	end, err := settled(ctx, srv, 0)
	if err != nil {
		return err
	}
	fmt.Printf("after %v and %d connections (%d failed): goroutines %d (baseline %d), heap in use %.1f MiB (baseline %.1f), stacks %.1f MiB (baseline %.1f)\n",
		time.Since(start).Round(time.Second), connects, failed,
		end.Memory["goroutines"], base.Memory["goroutines"],
		mib(end.Memory["heapInuse"]), mib(base.Memory["heapInuse"]),
		mib(end.Memory["stackInuse"]), mib(base.Memory["stackInuse"]))
	// A few goroutines may belong to the runtime or net/http; the heap may
	// keep a few MiB of caches. Leaks of one goroutine or a few KiB per
	// connection would show as thousands and tens of MiB.
	if end.Memory["goroutines"] > base.Memory["goroutines"]+10 {
		return errors.New("goroutines did not return to the baseline")
	}
	if end.Memory["heapInuse"] > base.Memory["heapInuse"]+8<<20 {
		return errors.New("heap did not return to the baseline")
	}
	fmt.Println("goroutines and heap returned to the baseline")
	return nil
}

// settled waits until the server reports clients clients, then collects
// garbage and returns its stats.
func settled(ctx context.Context, srv *bench.ServerProc, clients int) (bench.ServerStats, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := srv.Stats(ctx)
		if err != nil {
			return st, err
		}
		if st.Clients == clients {
			break
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("server still has %d clients, want %d", st.Clients, clients)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := srv.GC(ctx); err != nil {
		return bench.ServerStats{}, err
	}
	return srv.Stats(ctx)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

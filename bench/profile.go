package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
)

// Profiler saves a Go server's pprof profiles during a run: heap and
// goroutines once the clients are idle, and a CPU profile of every fan-out
// step. Profiling costs the server a few percent: numbers from a profiled
// run are not for the record.
type Profiler struct {
	Dir  string // where profiles go
	Addr string // the server's net/http/pprof address
	Tag  string // prefixes file names, e.g. "rep1"

	wg   sync.WaitGroup // the CPU profile in flight: one at a time
	mu   sync.Mutex
	errs []error
}

func (p *Profiler) fetch(ctx context.Context, path, file string) {
	err := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Addr+path, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		f, err := os.Create(filepath.Join(p.Dir, p.Tag+file))
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}()
	if err != nil {
		p.mu.Lock()
		p.errs = append(p.errs, fmt.Errorf("profile %s: %w", path, err))
		p.mu.Unlock()
	}
}

// idle saves the heap and goroutine profiles.
func (p *Profiler) idle(ctx context.Context, conns int) {
	if p == nil {
		return
	}
	p.fetch(ctx, "/debug/pprof/heap", fmt.Sprintf("heap-idle-%d.pprof", conns))
	p.fetch(ctx, "/debug/pprof/goroutine", fmt.Sprintf("goroutine-idle-%d.pprof", conns))
}

// step starts a CPU profile as long as a fan-out step is expected to last.
func (p *Profiler) step(ctx context.Context, subs int, rate float64, broadcasts int) {
	if p == nil {
		return
	}
	p.cpu(ctx, float64(broadcasts)/rate, fmt.Sprintf("cpu-%d-subs-%g-per-s.pprof", subs, rate))
}

// handshakes starts a CPU profile of the connection ramp.
func (p *Profiler) handshakes(ctx context.Context, seconds float64) {
	if p == nil {
		return
	}
	p.cpu(ctx, seconds, "cpu-handshakes.pprof")
}

// inbound starts a CPU profile of the inbound flood.
func (p *Profiler) inbound(ctx context.Context, seconds float64) {
	if p == nil {
		return
	}
	p.cpu(ctx, seconds, "cpu-inbound.pprof")
}

// cpu starts a CPU profile once the previous one has ended: the server
// runs one at a time.
func (p *Profiler) cpu(ctx context.Context, seconds float64, file string) {
	p.wg.Wait()
	secs := max(1, int(math.Ceil(seconds)))
	p.wg.Go(func() {
		p.fetch(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), file)
	})
}

// Wait waits for the profiles in flight and returns what failed.
func (p *Profiler) Wait() []error {
	if p == nil {
		return nil
	}
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errs
}

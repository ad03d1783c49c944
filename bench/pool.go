package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Pool is the coordinator's side of the worker processes that hold the
// clients. Client i lives in worker i/perWorker.
type Pool struct {
	workers   []*workerProc
	perWorker int
}

type workerProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	enc    *json.Encoder
	dec    *json.Decoder
	stderr *tailBuffer
	n      int // clients held
}

// NewPool starts workers processes running exe, which must call RunChild,
// as workers; each holds at most perWorker clients.
func NewPool(exe string, workers, perWorker int) (*Pool, error) {
	if workers < 1 || perWorker < 1 {
		return nil, fmt.Errorf("bench: pool of %d workers of %d clients", workers, perWorker)
	}
	p := &Pool{perWorker: perWorker}
	for range workers {
		cmd := exec.Command(exe, workerFlag)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			p.Close()
			return nil, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			p.Close()
			return nil, err
		}
		tail := &tailBuffer{max: 8 << 10}
		cmd.Stderr = tail
		if err := cmd.Start(); err != nil {
			p.Close()
			return nil, fmt.Errorf("bench: starting a worker: %w", err)
		}
		p.workers = append(p.workers, &workerProc{
			cmd:    cmd,
			stdin:  stdin,
			enc:    json.NewEncoder(stdin),
			dec:    json.NewDecoder(bufio.NewReader(stdout)),
			stderr: tail,
		})
	}
	return p, nil
}

// Capacity returns how many clients the pool can hold.
func (p *Pool) Capacity() int { return len(p.workers) * p.perWorker }

// Close ends the workers, closing their clients.
func (p *Pool) Close() error {
	var errs []error
	for _, w := range p.workers {
		w.stdin.Close()
	}
	for _, w := range p.workers {
		done := make(chan error, 1)
		go func() { done <- w.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				errs = append(errs, fmt.Errorf("bench worker: %w: %s", err, w.stderr))
			}
		case <-time.After(10 * time.Second):
			_ = w.cmd.Process.Kill()
			<-done
			errs = append(errs, errors.New("bench worker: killed after not exiting"))
		}
	}
	p.workers = nil
	return errors.Join(errs...)
}

func (w *workerProc) call(req *request) (response, error) {
	var resp response
	if err := w.enc.Encode(req); err != nil {
		return resp, fmt.Errorf("bench worker: %w: %s", err, w.stderr)
	}
	if err := w.dec.Decode(&resp); err != nil {
		return resp, fmt.Errorf("bench worker: %w: %s", err, w.stderr)
	}
	if resp.Err != "" {
		return resp, fmt.Errorf("bench worker: %s", resp.Err)
	}
	return resp, nil
}

// each sends every worker its request (nil skips the worker) at once and
// returns the answers in worker order.
func (p *Pool) each(reqs func(i int, w *workerProc) *request) ([]response, error) {
	resps := make([]response, len(p.workers))
	errs := make([]error, len(p.workers))
	var wg sync.WaitGroup
	for i, w := range p.workers {
		req := reqs(i, w)
		if req == nil {
			continue
		}
		wg.Go(func() { resps[i], errs[i] = w.call(req) })
	}
	wg.Wait()
	return resps, errors.Join(errs...)
}

func (p *Pool) all(req *request) ([]response, error) {
	return p.each(func(int, *workerProc) *request { return req })
}

// ConnectResult reports a batch of connections.
type ConnectResult struct {
	Open     int // clients connected in the whole pool
	Failed   int
	FirstErr string
	Elapsed  time.Duration // wall time until the last worker finished
}

// ConnectOptions says how a pool connects.
type ConnectOptions struct {
	Addr        string
	Path        string
	Secret      string
	Concurrency int // connection attempts in flight, over the whole pool
	Sources     int // loopback source addresses
	Timeout     time.Duration
}

// Connect grows the pool to total clients, connecting the missing ones.
func (p *Pool) Connect(o ConnectOptions, total int) (ConnectResult, error) {
	if total > p.Capacity() {
		return ConnectResult{}, fmt.Errorf("bench: %d clients asked of a pool that holds %d", total, p.Capacity())
	}
	type share struct{ first, count int }
	shares := make([]share, len(p.workers))
	missing := 0
	for i, w := range p.workers {
		first := i*p.perWorker + w.n
		want := min(max(total-i*p.perWorker, 0), p.perWorker)
		if want > w.n {
			shares[i] = share{first, want - w.n}
			missing += want - w.n
		}
	}
	start := time.Now()
	resps, err := p.each(func(i int, w *workerProc) *request {
		s := shares[i]
		if s.count == 0 {
			return nil
		}
		conc := max(1, o.Concurrency*s.count/max(missing, 1))
		return &request{Op: cmdConnect, Addr: o.Addr, Path: o.Path, Secret: o.Secret,
			First: s.first, Count: s.count, Concurrency: conc, Sources: o.Sources, Timeout: o.Timeout}
	})
	res := ConnectResult{Elapsed: time.Since(start)}
	for i, r := range resps {
		if shares[i].count > 0 {
			p.workers[i].n = r.Open
		}
		res.Failed += r.Failed
		if res.FirstErr == "" {
			res.FirstErr = r.FirstErr
		}
	}
	for _, w := range p.workers {
		res.Open += w.n
	}
	return res, err
}

// Subscribe makes every client subscribe to a channel's symbol and waits
// for the replies.
func (p *Pool) Subscribe(channel, symbol string, timeout time.Duration) error {
	_, err := p.each(func(_ int, w *workerProc) *request {
		if w.n == 0 {
			return nil
		}
		return &request{Op: cmdSubscribe, Channel: channel, Symbol: symbol, Timeout: timeout}
	})
	return err
}

// Reset starts a new measurement: latencies and delivery counts from zero.
func (p *Pool) Reset() error {
	_, err := p.all(&request{Op: cmdReset})
	return err
}

// Stats is what the clients observed since the last Reset.
type Stats struct {
	Open        int
	Delivered   int64
	BadTicks    int64
	Disconnects int64
	Hist        HistSnapshot
}

// Stats collects the clients' counters, and their latency histogram when
// histogram is true.
func (p *Pool) Stats(histogram bool) (Stats, error) {
	resps, err := p.all(&request{Op: cmdStats, Histogram: histogram})
	var s Stats
	for _, r := range resps {
		s.Open += r.Open
		s.Delivered += r.Delivered
		s.BadTicks += r.BadTicks
		s.Disconnects += r.Disconnects
		if r.Hist != nil {
			s.Hist.Merge(*r.Hist)
		}
	}
	return s, err
}

// Flood makes n clients send event as fast as the server reads, for d, and
// returns how many events they wrote.
func (p *Pool) Flood(event string, n int, d time.Duration) (int64, error) {
	resps, err := p.each(func(i int, w *workerProc) *request {
		k := min(max(n-i*p.perWorker, 0), w.n)
		if k == 0 {
			return nil
		}
		return &request{Op: cmdFlood, Event: event, Count: k, Duration: d}
	})
	var sent int64
	for _, r := range resps {
		sent += r.Sent
	}
	return sent, err
}

// Shrink closes clients until keep remain.
func (p *Pool) Shrink(keep int) error {
	resps, err := p.each(func(i int, w *workerProc) *request {
		return &request{Op: cmdClose, Keep: min(max(keep-i*p.perWorker, 0), p.perWorker)}
	})
	for i, r := range resps {
		p.workers[i].n = r.Open
	}
	return err
}

// CPUTime returns the CPU time the worker processes have used.
func (p *Pool) CPUTime() (time.Duration, error) {
	var total time.Duration
	for _, w := range p.workers {
		t, err := CPUTime(w.cmd.Process.Pid)
		if err != nil {
			return 0, err
		}
		total += t
	}
	return total, nil
}

// Open returns the number of clients held.
func (p *Pool) Open() int {
	n := 0
	for _, w := range p.workers {
		n += w.n
	}
	return n
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// Executable returns the path of the running program, for NewPool.
func Executable() (string, error) { return os.Executable() }

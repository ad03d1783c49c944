package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Names of the servers under test.
const (
	ServerNode = "node"
	ServerGo   = "go"
)

// The behaviour both servers share, by which the load tool drives them.
const (
	// EnginePath is where both servers answer Socket.IO.
	EnginePath = "/socket.io/"
	// Channel and Symbol are what every client subscribes to: the room
	// "market-data:BTC/USD", as in the product's ticker feed.
	Channel = "market-data"
	Symbol  = "BTC/USD"
	// Room is the room a subscription to Channel's Symbol joins.
	Room = Channel + ":" + Symbol
	// InboundEvent is the client event whose arrivals the servers count.
	InboundEvent = "bench:in"
)

// readyPrefix starts the line a server prints once it listens.
const readyPrefix = "listening "

// ServerSpec says how to start a server under test. The program must print
// "listening <host:port>" on stdout once it accepts connections.
type ServerSpec struct {
	Name string
	Path string   // program
	Args []string // its arguments
	Dir  string
}

// ServerProc is a running server under test.
type ServerProc struct {
	Name   string
	Addr   string // host:port
	PID    int
	cmd    *exec.Cmd
	stderr *tailBuffer
	done   chan struct{}
	http   *http.Client
}

// StartServer starts a server and waits until it listens.
func StartServer(ctx context.Context, spec ServerSpec) (*ServerProc, error) {
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Dir = spec.Dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	tail := &tailBuffer{max: 16 << 10}
	cmd.Stderr = tail
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: starting %s: %w", spec.Name, err)
	}
	s := &ServerProc{Name: spec.Name, PID: cmd.Process.Pid, cmd: cmd, stderr: tail, done: make(chan struct{}),
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), readyPrefix); ok {
				select {
				case addr <- strings.TrimSpace(a):
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	select {
	case s.Addr = <-addr:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("bench: %s exited before listening: %s", spec.Name, tail)
	case <-time.After(30 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("bench: %s did not listen within 30s: %s", spec.Name, tail)
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	}
}

// Stop terminates the server (SIGTERM, then SIGKILL after 5s).
func (s *ServerProc) Stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.http.CloseIdleConnections()
	return nil
}

// Exited reports whether the server has exited, with its last words.
func (s *ServerProc) Exited() (bool, string) {
	select {
	case <-s.done:
		return true, s.stderr.String()
	default:
		return false, ""
	}
}

// BroadcastResult is a server's report of a paced series of broadcasts.
type BroadcastResult struct {
	Sent       int   `json:"sent"`
	Recipients int   `json:"recipients"` // room size when the series started
	ElapsedNs  int64 `json:"elapsedNs"`  // first send to last send
}

// ServerStats is what a server counts itself.
type ServerStats struct {
	Clients int   `json:"clients"`
	Inbound int64 `json:"inbound"` // InboundEvent arrivals since start
	// Memory is the runtime's own account of its memory, in bytes (and
	// goroutines for Go), named as each runtime names it.
	Memory map[string]int64 `json:"memory,omitempty"`
}

// Broadcast asks the server to broadcast count ticks to Room at rate per
// second, and returns once it has sent them.
func (s *ServerProc) Broadcast(ctx context.Context, rate float64, count int) (BroadcastResult, error) {
	q := url.Values{"rate": {strconv.FormatFloat(rate, 'f', -1, 64)}, "count": {strconv.Itoa(count)}, "room": {Room}}
	var r BroadcastResult
	err := s.control(ctx, http.MethodPost, "/bench/broadcast?"+q.Encode(), &r)
	return r, err
}

// Stats returns the server's counters.
func (s *ServerProc) Stats(ctx context.Context) (ServerStats, error) {
	var st ServerStats
	err := s.control(ctx, http.MethodGet, "/bench/stats", &st)
	return st, err
}

// GC asks the server to collect garbage and return free memory to the
// system, as far as its runtime allows.
func (s *ServerProc) GC(ctx context.Context) error {
	return s.control(ctx, http.MethodPost, "/bench/gc", nil)
}

func (s *ServerProc) control(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+s.Addr+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("bench: %s %s: %w", s.Name, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: %s %s: HTTP %d: %s", s.Name, path, resp.StatusCode, body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("bench: %s %s: %w", s.Name, path, err)
	}
	return nil
}

// ErrServerExited is returned when a server dies during a scenario.
var ErrServerExited = errors.New("bench: server exited")

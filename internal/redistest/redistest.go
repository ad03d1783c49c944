// Package redistest runs a private redis-server for tests: one process per
// test, on a free loopback port, with no persistence, in the test's
// temporary directory.
//
// Tests that need Redis fail, never skip, when redis-server cannot be
// started: a machine without it must not pass silently.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// defaultBinary is where Debian's redis-server package installs it.
	defaultBinary = "/usr/bin/redis-server"
	// readyTimeout bounds how long a starting server may take to answer PING.
	readyTimeout = 10 * time.Second
	// stopTimeout bounds how long Stop waits for a SIGTERM'd server.
	stopTimeout = 5 * time.Second
	// portAttempts is how many free ports Start tries: another process may
	// take the port between our probe and redis-server's bind.
	portAttempts = 3
)

// Server is a redis-server process owned by one test.
type Server struct {
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	runs int
}

// Start runs redis-server on a free 127.0.0.1 port and returns once it
// answers PING. t.Cleanup kills it. The test fails when redis-server is not
// installed or does not come up.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if _, statErr := os.Stat(defaultBinary); statErr != nil {
			t.Fatalf("redistest: redis-server is required but was not found in PATH or at %s (%v); install it with `apt-get install redis-server`", defaultBinary, err)
		}
		bin = defaultBinary
	}
	s := &Server{bin: bin, dir: t.TempDir()}
	t.Cleanup(s.Kill)
	var lastErr error
	for range portAttempts {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: finding a free port: %v", err)
		}
		s.port = port
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("redistest: redis-server did not start: %v", lastErr)
	return nil
}

// Addr returns the server's host:port.
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// URL returns a redis:// URL for the server, as REDIS_URL takes it.
func (s *Server) URL() string {
	return "redis://" + s.Addr() + "/0"
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
// Calling it on a stopped server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Stop ends the server with SIGTERM (SIGKILL if it lingers) and waits for
// it. Calling it on a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart starts the server again on the same port after Kill or Stop
// (killing it first if it runs). The new server starts empty. It returns
// an error when the server does not come back; unlike Start it does not
// fail the test itself, so it may be called from any goroutine.
func (s *Server) Restart() error {
	s.Kill()
	// The old listener's port may take a moment to be released.
	deadline := time.Now().Add(readyTimeout)
	for {
		err := s.start()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: restarting redis-server on port %d: %w", s.port, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// start launches redis-server on s.port and waits for PING to succeed.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs++
	logPath := filepath.Join(s.dir, fmt.Sprintf("redis-%d.log", s.runs))
	log, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
		"--loglevel", "warning",
	)
	cmd.Dir = s.dir
	cmd.Stdout = log
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	if err := waitReady(s.Addr(), done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		out, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w; redis-server output:\n%s", err, strings.TrimSpace(string(out)))
	}
	s.cmd, s.done = cmd, done
	return nil
}

// waitReady polls addr with PING until it answers PONG, the process exits
// or readyTimeout passes.
func waitReady(addr string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		if lastErr = ping(ctx, addr); lastErr == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("redis-server exited during startup")
		case <-ctx.Done():
			return fmt.Errorf("no PONG from %s within %v: %w", addr, readyTimeout, lastErr)
		case <-tick.C:
		}
	}
}

func ping(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

package nodetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// ErrExited is returned by WaitLine and WaitReady when the process exits
// before printing a matching line.
var ErrExited = errors.New("nodetest: process exited")

const (
	// waitDelay bounds how long Wait lingers on output pipes after the
	// process is gone.
	waitDelay = 2 * time.Second
	// stdinGrace is how long Stop waits after closing stdin before SIGTERM,
	// so scripts that shut down on end-of-stdin can finish cleanly.
	stdinGrace = 500 * time.Millisecond
	// stopGrace is how long Stop lets a process handle SIGTERM before
	// killing it.
	stopGrace = 3 * time.Second
)

// Process is a running node script started by Start.
type Process struct {
	name     string
	cmd      *exec.Cmd
	stdin    io.WriteCloser // nil for Run
	cancel   context.CancelFunc
	out      *output
	done     chan struct{} // closed once the process has exited and output is complete
	exitCode int           // valid after done is closed
	stopped  error         // ctx's error if ctx ended the process; valid after done is closed
}

// Start launches `node <root>/test/client/<script> args...` and returns while
// it runs, for servers and for clients that must run concurrently with Go
// code. The environment is the test's plus NODE_ENV=test plus env ("K=V"
// entries, later ones winning). The process lives until ctx is done, Stop
// or Kill is called, or the test ends: t.Cleanup stops it (closing its stdin,
// then SIGTERM, then SIGKILL after a grace period) and, if the test failed,
// logs its stderr.
//
// The process's stdin is a pipe that stays open until it is stopped, so a
// script can treat end-of-stdin as "the test is over" even if the test
// binary dies without cleaning up.
func Start(t testing.TB, ctx context.Context, script string, env []string, args ...string) *Process {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	p := launch(t, ctx, cancel, true, script, env, args...)
	t.Cleanup(func() {
		r := p.Stop()
		if t.Failed() && r.Stderr != "" {
			t.Logf("%s (exit code %d) stderr:\n%s", p.name, r.ExitCode, r.Stderr)
		}
	})
	return p
}

func launch(t testing.TB, ctx context.Context, cancel context.CancelFunc, withStdin bool, script string, env []string, args ...string) *Process {
	t.Helper()
	EnsureNodeModules(t)
	path := ScriptPath(t, script)
	cmd := exec.CommandContext(ctx, "node", append([]string{path}, args...)...)
	cmd.Dir = Root(t)
	cmd.Env = append(append(os.Environ(), "NODE_ENV=test"), env...)
	cmd.WaitDelay = waitDelay
	p := &Process{
		name:   "node " + script,
		cmd:    cmd,
		cancel: cancel,
		out:    newOutput(),
		done:   make(chan struct{}),
	}
	cmd.Stdout = stdoutWriter{p.out}
	cmd.Stderr = stderrWriter{p.out}
	if withStdin {
		stdin, err := cmd.StdinPipe()
		if err != nil {
			cancel()
			t.Fatalf("nodetest: %s: stdin pipe: %v", p.name, err)
		}
		p.stdin = stdin
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("nodetest: start %s: %v", p.name, err)
	}
	go func() {
		err := cmd.Wait()
		// Read before our own cancel below, which would mask why it ended.
		p.stopped = context.Cause(ctx)
		p.out.flush()
		p.exitCode = exitCode(cmd, err)
		cancel()
		close(p.done)
	}()
	return p
}

func exitCode(cmd *exec.Cmd, err error) int {
	if cmd.ProcessState != nil {
		return cmd.ProcessState.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} {
	return p.done
}

// Lines returns the JSON lines printed so far.
func (p *Process) Lines() []map[string]any {
	lines, _ := p.out.snapshot()
	return lines
}

// Wait blocks until the process exits and returns everything it reported.
func (p *Process) Wait() *Result {
	<-p.done
	lines, text := p.out.snapshot()
	return &Result{Lines: lines, Stderr: text, ExitCode: p.exitCode}
}

// Kill ends the process with SIGKILL and waits for it.
func (p *Process) Kill() *Result {
	p.cancel()
	return p.Wait()
}

// Stop asks the process to end (closing its stdin, then SIGTERM after
// 500 ms), kills it if it is still running 3 s later, and waits for it. Calling it
// again, or after the process exited, just returns the result.
func (p *Process) Stop() *Result {
	select {
	case <-p.done:
		return p.Wait()
	default:
	}
	if p.stdin != nil {
		_ = p.stdin.Close()
		select {
		case <-p.done:
			return p.Wait()
		case <-time.After(stdinGrace):
		}
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		p.cancel()
	}
	return p.Wait()
}

// WaitLine returns the first JSON line, printed at any time since the start,
// for which match returns true. It fails with ErrExited when the process
// exits without printing one, or with ctx's error. match must not modify the
// line.
func (p *Process) WaitLine(ctx context.Context, match func(map[string]any) bool) (map[string]any, error) {
	next := 0
	for {
		exited := false
		select {
		case <-p.done:
			exited = true
		default:
		}
		p.out.mu.Lock()
		lines := p.out.lines[next:]
		changed := p.out.changed
		p.out.mu.Unlock()
		for _, line := range lines {
			if match(line) {
				return line, nil
			}
		}
		next += len(lines)
		if exited {
			_, text := p.out.snapshot()
			return nil, fmt.Errorf("%w: %s exited with code %d before printing the expected line; stderr:\n%s", ErrExited, p.name, p.exitCode, text)
		}
		select {
		case <-changed:
		case <-p.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("nodetest: waiting for a line from %s: %w", p.name, ctx.Err())
		}
	}
}

// WaitReady waits for the line {"ready":true,"port":N} that servers print
// once listening and returns N.
func (p *Process) WaitReady(ctx context.Context) (int, error) {
	line, err := p.WaitLine(ctx, func(l map[string]any) bool {
		port, ok := l["port"].(float64)
		return l["ready"] == true && ok && port > 0
	})
	if err != nil {
		return 0, err
	}
	return int(line["port"].(float64)), nil
}

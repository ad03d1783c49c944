package nodetest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/nodetest"
)

const fixture = "testdata/fixture.mjs"

// recorder stands in for a test so the harness's own failure reporting can
// be asserted without failing the real test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	logs   []string
}

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recorder) Errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

func TestRootHoldsGoMod(t *testing.T) {
	root := nodetest.Root(t)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("Root() = %s without go.mod: %v", root, err)
	}
	if _, err := os.Stat(nodetest.ScriptPath(t, nodetest.ConformanceScript)); err != nil {
		t.Fatalf("conformance script not found: %v", err)
	}
}

func TestRunCollectsLinesStderrAndExitCode(t *testing.T) {
	rec := &recorder{TB: t}
	r := nodetest.Run(rec, t.Context(), fixture, nil, "lines", "--exit", "3")
	if errs := rec.Errors(); len(errs) > 0 {
		t.Fatalf("Run reported errors for a script that exited normally: %q", errs)
	}
	if r.ExitCode != 3 {
		t.Errorf("ExitCode = %d, want 3", r.ExitCode)
	}
	if len(r.Lines) != 3 {
		t.Fatalf("got %d JSON lines, want 3: %v", len(r.Lines), r.Lines)
	}
	tests := []struct {
		name     string
		wantLine bool
		wantOK   bool
	}{
		{"a", true, true},
		{"b", true, false},
		{"last", true, true}, // printed without a trailing newline
		{"absent", false, false},
	}
	for _, tc := range tests {
		line, ok := r.Check(tc.name)
		if (line != nil) != tc.wantLine || ok != tc.wantOK {
			t.Errorf("Check(%q) = %v, %v; want line %v, ok %v", tc.name, line, ok, tc.wantLine, tc.wantOK)
		}
	}
	if line, _ := r.Check("a"); line["detail"].(map[string]any)["n"] != 1.0 {
		t.Errorf("detail of a = %v", line["detail"])
	}
	for _, want := range []string{"to stderr", "not json"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("Stderr %q does not contain %q", r.Stderr, want)
		}
	}
}

func TestRunEnvironment(t *testing.T) {
	r := nodetest.Run(t, t.Context(), fixture, []string{"NODETEST_EXTRA=x", "NODE_ENV=override"}, "env")
	line := r.Lines[0]
	if line["env"] != "override" || line["extra"] != "x" {
		t.Errorf("env line = %v, want later entries to win", line)
	}
	r = nodetest.Run(t, t.Context(), fixture, nil, "env")
	if r.Lines[0]["env"] != "test" {
		t.Errorf("NODE_ENV = %v, want test", r.Lines[0]["env"])
	}
}

func TestRunKillsAndFailsOnTimeout(t *testing.T) {
	rec := &recorder{TB: t}
	// Long enough for Node to start and print on a loaded machine.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	r := nodetest.Run(rec, ctx, fixture, nil, "hang")
	if elapsed := time.Since(start); elapsed > 15*time.Second {
		t.Errorf("Run returned after %v, want soon after the 5 s deadline", elapsed)
	}
	if r.ExitCode != -1 {
		t.Errorf("ExitCode = %d, want -1 (killed)", r.ExitCode)
	}
	if len(r.Lines) != 1 || r.Lines[0]["hanging"] != true {
		t.Errorf("lines printed before the kill are lost: %v", r.Lines)
	}
	if errs := rec.Errors(); len(errs) != 1 || !strings.Contains(errs[0], "did not finish") {
		t.Errorf("errors = %q, want one 'did not finish'", errs)
	}
}

func TestRequireChecks(t *testing.T) {
	r := &nodetest.Result{Lines: []map[string]any{
		{"check": "good", "ok": true},
		{"check": "bad", "ok": false, "detail": "boom"},
		{"check": "other-bad", "ok": false},
		{"summary": true},
	}}
	tests := []struct {
		name  string
		names []string
		want  []string // substrings, one per expected error
	}{
		{"all named pass but another failed", []string{"good"}, []string{`"bad" failed`, `"other-bad" failed`}},
		{"named failure shows detail", []string{"good", "bad"}, []string{`"bad" failed: {"check":"bad","detail":"boom","ok":false}`, `"other-bad"`}},
		{"missing", []string{"good", "nope"}, []string{`"nope": missing`, `"bad"`, `"other-bad"`}},
		{"no names", nil, []string{`"bad"`, `"other-bad"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			nodetest.RequireChecks(rec, r, tc.names...)
			errs := rec.Errors()
			if len(errs) != len(tc.want) {
				t.Fatalf("errors = %q, want %d", errs, len(tc.want))
			}
			for i, want := range tc.want {
				if !strings.Contains(errs[i], want) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i], want)
				}
			}
		})
	}

	t.Run("all pass", func(t *testing.T) {
		rec := &recorder{TB: t}
		ok := &nodetest.Result{Lines: []map[string]any{{"check": "good", "ok": true}}}
		nodetest.RequireChecks(rec, ok, "good")
		nodetest.RequireChecks(rec, ok)
		if errs := rec.Errors(); len(errs) != 0 {
			t.Errorf("errors = %q, want none", errs)
		}
	})
	t.Run("retry is logged", func(t *testing.T) {
		rec := &recorder{TB: t}
		retried := &nodetest.Result{Lines: []map[string]any{{"check": "flaky", "ok": true, "retried": map[string]any{"error": "lost"}}}}
		nodetest.RequireChecks(rec, retried, "flaky")
		if errs := rec.Errors(); len(errs) != 0 {
			t.Errorf("errors = %q, want none", errs)
		}
		if len(rec.logs) != 1 || !strings.Contains(rec.logs[0], `"flaky" passed on its second attempt`) || !strings.Contains(rec.logs[0], "lost") {
			t.Errorf("logs = %q, want the retry reported", rec.logs)
		}
	})
	t.Run("no checks at all", func(t *testing.T) {
		rec := &recorder{TB: t}
		nodetest.RequireChecks(rec, &nodetest.Result{})
		if errs := rec.Errors(); len(errs) != 1 {
			t.Errorf("errors = %q, want one", errs)
		}
	})
}

func TestStartWaitReadyAndStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	p := nodetest.Start(t, ctx, fixture, nil, "server")
	port, err := p.WaitReady(ctx)
	if err != nil || port != 1234 {
		t.Fatalf("WaitReady = %d, %v; want 1234", port, err)
	}
	// A line printed before WaitLine was called is still found.
	if _, err := p.WaitLine(ctx, func(l map[string]any) bool { return l["ready"] == true }); err != nil {
		t.Fatalf("WaitLine for an earlier line: %v", err)
	}
	r := p.Stop()
	if r.ExitCode != 0 {
		t.Errorf("ExitCode after Stop = %d, want 0 (graceful exit on stdin close); stderr: %s", r.ExitCode, r.Stderr)
	}
	if _, ok := r.Lines[len(r.Lines)-1]["bye"]; !ok {
		t.Errorf("last line = %v, want the script's goodbye", r.Lines[len(r.Lines)-1])
	}
	_, err = p.WaitLine(ctx, func(l map[string]any) bool { return l["never"] == true })
	if !errors.Is(err, nodetest.ErrExited) {
		t.Errorf("WaitLine after exit = %v, want ErrExited", err)
	}
}

func TestStartWaitLineHonoursContext(t *testing.T) {
	p := nodetest.Start(t, t.Context(), fixture, nil, "hang")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := p.WaitLine(ctx, func(l map[string]any) bool { return l["never"] == true })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitLine = %v, want DeadlineExceeded", err)
	}
	if r := p.Kill(); r.ExitCode != -1 {
		t.Errorf("ExitCode after Kill = %d, want -1", r.ExitCode)
	}
}

func TestStartKilledOnCleanup(t *testing.T) {
	var p *nodetest.Process
	t.Run("owner", func(t *testing.T) {
		p = nodetest.Start(t, t.Context(), fixture, nil, "hang")
		if _, err := p.WaitLine(t.Context(), func(l map[string]any) bool { return l["hanging"] == true }); err != nil {
			t.Fatal(err)
		}
	})
	select {
	case <-p.Done():
	default:
		t.Fatal("process still running after its test's cleanup")
	}
	// The fixture ignores stdin, so SIGTERM is what ended it.
	if r := p.Wait(); r.ExitCode != -1 {
		t.Errorf("ExitCode = %d, want -1 (signalled)", r.ExitCode)
	}
}

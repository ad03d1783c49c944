package nodetest

import (
	"encoding/json"
	"testing"
)

// Result is what a script reported: every JSON object it printed on stdout,
// one per line, in order.
type Result struct {
	// Lines holds the decoded stdout lines that were JSON objects.
	Lines []map[string]any
	// Stderr is the script's stderr, followed by any stdout lines that were
	// not JSON objects, kept for diagnostics.
	Stderr string
	// ExitCode is the process exit status; -1 when it was killed (timeout,
	// Kill) or died from a signal.
	ExitCode int
}

// Check returns the first line whose "check" field equals name, and whether
// that line reports {"ok": true}. It returns nil, false when no such line
// exists.
func (r *Result) Check(name string) (map[string]any, bool) {
	for _, line := range r.Lines {
		if line["check"] == name {
			return line, line["ok"] == true
		}
	}
	return nil, false
}

// Checks returns every line carrying a "check" field.
func (r *Result) Checks() []map[string]any {
	var out []map[string]any
	for _, line := range r.Lines {
		if _, ok := line["check"].(string); ok {
			out = append(out, line)
		}
	}
	return out
}

// RequireChecks fails the test for every named check that is missing or not
// ok, and for every other reported check that is not ok: a script that says
// something failed is never ignored. With no names it requires at least one
// check line. Each failure prints the line's details. A check that passed on
// a retry (its line carries "retried") is logged.
func RequireChecks(t testing.TB, r *Result, names ...string) {
	t.Helper()
	failed := false
	expected := make(map[string]bool, len(names))
	for _, name := range names {
		expected[name] = true
		line, ok := r.Check(name)
		switch {
		case line == nil:
			t.Errorf("check %q: missing from the script output", name)
			failed = true
		case !ok:
			t.Errorf("check %q failed: %s", name, compact(line))
			failed = true
		}
	}
	checks := r.Checks()
	for _, line := range checks {
		name, _ := line["check"].(string)
		if retried, ok := line["retried"]; ok && line["ok"] == true {
			// Passing on a second attempt is accepted but must stay visible.
			t.Logf("check %q passed on its second attempt; first attempt: %s", name, compact(map[string]any{"retried": retried}))
		}
		if expected[name] || line["ok"] == true {
			continue
		}
		t.Errorf("check %q failed: %s", name, compact(line))
		failed = true
	}
	if len(names) == 0 && len(checks) == 0 {
		t.Errorf("the script reported no checks (exit code %d)", r.ExitCode)
		failed = true
	}
	// Run already logs stderr for a non-zero exit.
	if failed && r.ExitCode == 0 && r.Stderr != "" {
		t.Logf("stderr:\n%s", r.Stderr)
	}
}

// maxDetail keeps a failure message readable when a check carries a large
// payload.
const maxDetail = 4096

func compact(line map[string]any) string {
	b, err := json.Marshal(line)
	if err != nil {
		return err.Error()
	}
	if len(b) > maxDetail {
		return string(b[:maxDetail]) + "...(truncated)"
	}
	return string(b)
}

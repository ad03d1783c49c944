package nodetest

import (
	"context"
	"testing"
	"time"
)

const (
	// defaultRunTimeout bounds a script when neither ctx nor the test has a
	// deadline.
	defaultRunTimeout = 60 * time.Second
	// deadlineMargin leaves the test time to report a timed-out script
	// before `go test -timeout` panics.
	deadlineMargin = 5 * time.Second
)

// Run runs `node <root>/test/client/<script> args...` to completion and
// returns what it reported. The environment is the test's plus NODE_ENV=test
// plus env ("K=V" entries, later ones winning).
//
// The script is killed at ctx's deadline; when ctx has none, after 60 s or
// shortly before the test's own deadline, whichever comes first. A script
// that is killed this way (or by ctx being cancelled) fails the test; any
// other non-zero exit is only logged with its stderr, since the caller judges
// the result (see RequireChecks).
func Run(t testing.TB, ctx context.Context, script string, env []string, args ...string) *Result {
	t.Helper()
	ctx, cancel := runContext(t, ctx)
	defer cancel()
	p := launch(t, ctx, cancel, false, script, env, args...)
	r := p.Wait()
	switch {
	case p.stopped != nil && r.ExitCode != 0:
		t.Errorf("nodetest: %s did not finish: %v; stderr:\n%s", p.name, p.stopped, r.Stderr)
	case r.ExitCode != 0:
		t.Logf("nodetest: %s exited with code %d; stderr:\n%s", p.name, r.ExitCode, r.Stderr)
	}
	return r
}

func runContext(t testing.TB, ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	deadline := time.Now().Add(defaultRunTimeout)
	if td, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := td.Deadline(); ok {
			d = d.Add(-deadlineMargin)
			if floor := time.Now().Add(time.Second); d.Before(floor) {
				d = floor
			}
			if d.Before(deadline) {
				deadline = d
			}
		}
	}
	return context.WithDeadline(ctx, deadline)
}

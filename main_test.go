package realtime_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// gateway, session and timer must be gone once Shutdown has returned.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

package wsconn

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: the
// poller's goroutine and every read burst must be gone at exit.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

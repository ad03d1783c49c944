package engineio_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: every
// session, writer, timer callback and connection must be gone at exit.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

package nodetest

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the repository root: the nearest directory holding go.mod,
// found by walking up from the working directory. It fails the test when
// there is none.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("nodetest: working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("nodetest: no go.mod found above the working directory")
		}
		dir = parent
	}
}

// ScriptPath returns the absolute path of a script under test/client/.
func ScriptPath(t testing.TB, script string) string {
	t.Helper()
	return filepath.Join(Root(t), "test", "client", filepath.FromSlash(script))
}

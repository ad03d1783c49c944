package nodetest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// lockName is shared by every test process on the machine: go test runs
// packages in parallel processes, and two concurrent `npm ci` runs in one
// tree corrupt node_modules.
const lockName = "realtime-npm-ci.lock"

// npmCITimeout bounds an install from a cold npm cache.
const npmCITimeout = 10 * time.Minute

// EnsureNodeModules makes sure node_modules matches package-lock.json,
// running `npm ci` in the repository root when node_modules is missing or
// older than the lock file. Concurrent test processes serialise on an
// exclusive file lock in os.TempDir() and re-check after taking it, so the
// install runs once. It fails the test (never skips) when node or npm is not
// installed or the install fails.
func EnsureNodeModules(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("nodetest: %s is required to run the socket.io-client tests but was not found in PATH (%v); install Node.js 20+ with npm", tool, err)
		}
	}
	root := Root(t)
	fresh, err := modulesFresh(root)
	if err != nil {
		t.Fatalf("nodetest: %v", err)
	}
	if fresh {
		return
	}

	unlock, err := lockFile(filepath.Join(os.TempDir(), lockName))
	if err != nil {
		t.Fatalf("nodetest: lock for npm ci: %v", err)
	}
	defer unlock()
	// Another test process may have installed while we waited for the lock.
	if fresh, err = modulesFresh(root); err != nil {
		t.Fatalf("nodetest: %v", err)
	} else if fresh {
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), npmCITimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nodetest: npm ci in %s failed: %v\n%s", root, err, out)
	}
	if fresh, err = modulesFresh(root); err != nil || !fresh {
		t.Fatalf("nodetest: node_modules still older than package-lock.json after npm ci (err=%v)\n%s", err, out)
	}
}

// modulesFresh reports whether node_modules was installed after the last
// change to package-lock.json. npm rewrites node_modules/.package-lock.json
// on every install, so its mtime is the install time.
func modulesFresh(root string) (bool, error) {
	lock, err := os.Stat(filepath.Join(root, "package-lock.json"))
	if err != nil {
		return false, err
	}
	modules, err := os.Stat(filepath.Join(root, "node_modules"))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	installed := modules.ModTime()
	if marker, err := os.Stat(filepath.Join(root, "node_modules", ".package-lock.json")); err == nil {
		installed = marker.ModTime()
	}
	return !installed.Before(lock.ModTime()), nil
}

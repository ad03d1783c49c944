package nodetest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestModulesFresh(t *testing.T) {
	base := time.Now().Add(-time.Hour)
	tests := []struct {
		name      string
		modules   bool          // node_modules exists
		hasMarker bool          // node_modules/.package-lock.json exists
		marker    time.Duration // marker mtime relative to the lock file
		dirAge    time.Duration // node_modules dir mtime relative to the lock file
		want      bool
	}{
		{"no node_modules", false, false, 0, 0, false},
		{"marker newer than lock", true, true, time.Second, -time.Minute, true},
		{"marker same time as lock", true, true, 0, 0, true},
		{"marker older than lock", true, true, -time.Second, time.Minute, false},
		{"no marker, dir newer", true, false, 0, time.Second, true},
		{"no marker, dir older", true, false, 0, -time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeAt(t, filepath.Join(root, "package-lock.json"), base)
			if tc.modules {
				dir := filepath.Join(root, "node_modules")
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if tc.hasMarker {
					writeAt(t, filepath.Join(dir, ".package-lock.json"), base.Add(tc.marker))
				}
				if err := os.Chtimes(dir, base.Add(tc.dirAge), base.Add(tc.dirAge)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := modulesFresh(root)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("modulesFresh = %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("no lock file", func(t *testing.T) {
		if _, err := modulesFresh(t.TempDir()); err == nil {
			t.Error("want an error without package-lock.json")
		}
	})
}

func writeAt(t *testing.T, path string, at time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

func TestLockFileExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.lock")
	unlock, err := lockFile(path)
	if err != nil {
		t.Fatal(err)
	}
	acquired := make(chan func())
	go func() {
		second, err := lockFile(path)
		if err != nil {
			t.Error(err)
			close(acquired)
			return
		}
		acquired <- second
	}()
	// A negative result needs a window; 100 ms is ample for an uncontended flock.
	select {
	case <-acquired:
		t.Fatal("second lock acquired while the first is held")
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	select {
	case second, ok := <-acquired:
		if ok {
			second()
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second lock not acquired after release")
	}
}

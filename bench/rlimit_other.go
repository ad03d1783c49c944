//go:build !unix

package bench

import "errors"

// RaiseFileLimit is not implemented here: the benchmark runs on Linux,
// where it reads the servers' figures from /proc.
func RaiseFileLimit() (uint64, error) {
	return 0, errors.New("bench: file descriptor limits are only raised on Unix")
}

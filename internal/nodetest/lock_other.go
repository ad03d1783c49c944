//go:build !unix

package nodetest

// lockFile is a no-op where flock is unavailable; parallel package tests
// there must have node_modules installed beforehand.
func lockFile(string) (func(), error) {
	return func() {}, nil
}

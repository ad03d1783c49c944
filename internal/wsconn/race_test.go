//go:build race

package wsconn

func init() { raceEnabled = true }

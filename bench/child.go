package bench

import (
	"fmt"
	"os"
)

// RunChild runs this program as one of the processes the package starts
// (a Pool's worker, MeasureFloor's writer) when it was started as one, and
// reports whether it was; it exits the process on failure. A program that
// hosts a Pool or calls MeasureFloor calls it first thing in main and
// returns when it reports true.
func RunChild() bool {
	if len(os.Args) != 2 {
		return false
	}
	var run func() error
	switch os.Args[1] {
	case workerFlag:
		run = func() error { return runWorker(os.Stdin, os.Stdout) }
	case floorFlag:
		run = func() error { return runFloorWriter(os.Stdin, os.Stdout) }
	default:
		return false
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return true
}

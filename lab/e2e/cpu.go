package e2e

import (
	"syscall"
	"testing"
	"time"
)

// CPUTime is the process's user plus system CPU time so far; benchmarks
// report the CPU a component costs per second of wall time from two reads.
func CPUTime(t testing.TB) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

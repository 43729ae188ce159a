package e2e

import (
	"testing"
	"time"
)

// WaitFor polls cond until it holds; once within has passed it fails t,
// saying what was awaited. Tests wait for a condition, never for a fixed
// time, and this is the one loop they do it with.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s still waiting for %s", within, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

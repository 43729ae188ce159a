package e2e

import (
	"fmt"
	"testing"
	"time"
)

// WaitFor polls cond until it holds; once within has passed it fails t,
// saying what was awaited. Tests wait for a condition, never for a fixed
// time, and this is the one loop they do it with.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	Eventually(t, within, func() string {
		if cond() {
			return ""
		}
		return fmt.Sprintf("after %s still waiting for %s", within, what)
	})
}

// Eventually polls check until it returns ""; once within has passed it
// fails t with check's last answer, which says what it saw: the wait for a
// condition whose failure is best told by the state it was in.
func Eventually(t testing.TB, within time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Receive is the next value from ch, failing t when none comes within
// within; what names what was awaited.
func Receive[T any](t testing.TB, ch <-chan T, within time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(within):
		t.Fatalf("%s never came within %s", what, within)
	}
	var zero T // not reached: Fatalf ends the test
	return zero
}

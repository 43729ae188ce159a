package gamedays

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/runbook"
)

// quietRun is what a fleet-sized run of rb needs around its engine: a
// manual clock at a fixed morning, metrics that stay at 1ms whatever is
// injected, and a journal in a fresh directory, which the caller closes.
func quietRun(tb testing.TB, rb *runbook.Runbook) (*ManualClock, *metrics.Poller, *Journal) {
	tb.Helper()
	clock := NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	q := &metricstest.Querier{Value: func(string, string, time.Time) float64 { return 0.001 }}
	poller := metrics.NewPoller(q, metrics.Config{Panels: rb.Metrics.Panels, Step: time.Second, Now: clock.Now, Since: clock.Now()})
	j, err := CreateJournal(filepath.Join(tb.TempDir(), JournalName), clock)
	if err != nil {
		tb.Fatal(err)
	}
	return clock, poller, j
}

// walkClockUntil advances clock a second whenever the engine waits on it,
// pausing between looks, until done holds or within passes on the wall
// clock; it reports whether done held.
func walkClockUntil(clock *ManualClock, within, pause time.Duration, done func() bool) bool {
	for deadline := time.Now().Add(within); !done(); time.Sleep(pause) {
		if time.Now().After(deadline) {
			return false
		}
		if clock.Waiters() > 0 {
			clock.Advance(time.Second)
		}
	}
	return true
}

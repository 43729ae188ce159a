package runbook

import "time"

// PlannedLength is how long a run of rb lasts when nothing goes wrong and
// nobody waits: the baseline, then the attack window or the observe period
// (whichever is longer), then the abort deadline, since a rollback at the
// very end still needs its time. Confirmations and pauses in the console
// add to it; callers that check a deadline add their own margin.
func (rb *Runbook) PlannedLength() time.Duration {
	window := rb.Observe.Duration
	for _, a := range rb.Attacks {
		window = max(window, a.StartAfter+a.Duration)
	}
	return rb.Baseline.Duration + window + rb.Abort.Timeout
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/gameday/gameday/runbook"
)

// credentialChecker is an executor that can prove its credentials work and
// last, before the baseline (the aws family).
type credentialChecker interface {
	CheckCredentials(ctx context.Context, t runbook.Target, need time.Duration, bounded bool) error
}

// checkCredentials asks every attacked target's executor, once per target,
// whether its credentials work and outlast the run. A target is bounded
// when every attack on it runs under engine: fis, as AWS then ends the
// faults even if the credentials lapse.
func checkCredentials(ctx context.Context, rb *runbook.Runbook, w *wiring) error {
	bounded := map[string]bool{}
	for _, a := range rb.Attacks {
		b, seen := bounded[a.Target]
		bounded[a.Target] = (b || !seen) && a.Engine == runbook.EngineFIS
	}
	need := rb.PlannedLength()
	for _, t := range rb.Targets {
		b, attacked := bounded[t.Name]
		if !attacked {
			continue
		}
		c, ok := w.executors[t.Family()].(credentialChecker)
		if !ok {
			continue
		}
		if err := c.CheckCredentials(ctx, t, need, b); err != nil {
			return fmt.Errorf("%s: %w; nothing was run", rb.File, err)
		}
	}
	return nil
}

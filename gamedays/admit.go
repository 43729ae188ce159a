package gamedays

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gameday/gameday/targets"
)

// ErrNotConfirmed says the person asked before a recovery declined it.
var ErrNotConfirmed = errors.New("recovery not confirmed: nothing was rolled back")

// RecoveryPlan is what a recovery is about to run, shown before it runs.
type RecoveryPlan struct {
	Journal string
	// Problems are why the journal is not trusted; the caller chose to
	// trust it anyway.
	Problems []Problem
	Steps    []PlannedRollback
}

// PlannedRollback is one injection recovery will roll back and the
// commands or API calls that takes, as the executor words them.
type PlannedRollback struct {
	Injection targets.Injection
	Calls     []string
}

// admit decides whether recovery may act: on a journal with problems only
// when the caller trusts it, and only once Confirm agrees to what it would
// run.
func (o RecoverOptions) admit(rec Recovery) error {
	if len(rec.Problems) > 0 && !o.TrustJournal {
		return &UntrustedError{Path: rec.Journal, Problems: rec.Problems}
	}
	if o.Confirm == nil || len(rec.Pending) == 0 {
		return nil
	}
	if !o.Confirm(o.plan(rec)) {
		return fmt.Errorf("%s: %w", rec.Journal, ErrNotConfirmed)
	}
	return nil
}

// plan asks each injection's executor what its rollback runs.
func (o RecoverOptions) plan(rec Recovery) RecoveryPlan {
	p := RecoveryPlan{Journal: rec.Journal, Problems: rec.Problems}
	for _, inj := range rec.Pending {
		step := PlannedRollback{Injection: inj}
		k, ok := o.Catalogue.Spec(inj.Kind)
		var exec targets.Executor
		var err error
		switch {
		case !ok:
			err = fmt.Errorf("unknown attack kind %q: no executor knows how to revert it", inj.Kind)
		case o.Executor == nil:
			err = fmt.Errorf("no executor for %s targets", k.Family)
		default:
			exec, err = o.Executor(k.Family)
		}
		if err != nil {
			step.Calls = []string{"cannot plan: " + err.Error()}
		} else {
			for _, c := range exec.Plan(inj) {
				if strings.Contains(c, " rollback: ") || strings.Contains(c, "cannot plan") {
					step.Calls = append(step.Calls, c)
				}
			}
		}
		p.Steps = append(p.Steps, step)
	}
	return p
}

package gamedays

import (
	"fmt"
	"math"
	"time"

	"github.com/gameday/gameday/runbook"
)

// Budget prices a planned blast in SLO error budget. It assumes the worst
// case the blast radius allows: every request to a selected member fails for
// the attack's whole duration. Attacks on the same target add up, so
// overlapping attacks are counted twice; the figure is a ceiling, never an
// underestimate.
type Budget struct {
	// Cost is the planned blast in minutes of full outage.
	Cost float64 `json:"cost_minutes"`
	// Total is the window's whole budget; Remaining what is left of it.
	Total     float64 `json:"total_minutes"`
	Remaining float64 `json:"remaining_minutes"`
	// Share is Cost as a fraction of Remaining (Inf when nothing remains).
	Share float64 `json:"share"`
	// Warn is set when Share is above the runbook's warn_above.
	Warn bool `json:"warn"`
}

// PlanBudget prices the attacks of rb against its SLO, given how many
// members each target resolved to and how many were selected, and the share
// of the budget still left (1 when unknown). A staged attack is priced stage
// by stage, the members each stage hits for as long as it holds, as if every
// stage held. It returns false when the runbook has no SLO.
func PlanBudget(rb *runbook.Runbook, resolved, selected map[string]int, remaining float64) (Budget, bool) {
	if rb.SLO == nil {
		return Budget{}, false
	}
	holds := StageHolds(rb)
	var cost float64
	for _, a := range rb.Attacks {
		total, chosen := resolved[a.Target], selected[a.Target]
		switch {
		case total <= 0:
		case len(a.Stages) > 0:
			cost += stagedCost(rb, a, total, holds)
		case chosen > 0:
			cost += float64(chosen) / float64(total) * a.Duration.Minutes()
		}
	}
	remaining = min(max(remaining, 0), 1)
	b := Budget{Cost: cost, Total: rb.SLO.BudgetMinutes()}
	b.Remaining = b.Total * remaining
	switch {
	case b.Remaining > 0:
		b.Share = cost / b.Remaining
	case cost > 0:
		b.Share = math.Inf(1)
	}
	b.Warn = b.Share > rb.SLO.WarnAbove
	return b, true
}

// stagedCost is a staged attack's cost: each stage's members for its hold.
// A stage that cannot be sized against total is priced as all of it, so the
// figure stays a ceiling.
func stagedCost(rb *runbook.Runbook, a runbook.Attack, total int, holds []time.Duration) float64 {
	var cost float64
	for i := range a.Stages {
		n, err := blastSize(rb.StageBlastRadius(a, i), total)
		if err != nil {
			n = total
		}
		cost += float64(n) / float64(total) * holds[i].Minutes()
	}
	return cost
}

// String says it in a line for the blast-radius screen and the log.
func (b Budget) String() string {
	s := fmt.Sprintf("planned blast costs up to %s of error budget, %.0f%% of the %s left", minutes(b.Cost), b.Share*100, minutes(b.Remaining))
	if b.Remaining <= 0 {
		s = fmt.Sprintf("planned blast costs up to %s of error budget, and none is left", minutes(b.Cost))
	}
	if b.Warn {
		s += " (above the runbook's warning level)"
	}
	return s
}

func minutes(m float64) string {
	return runbook.FormatDuration(time.Duration(m * float64(time.Minute)).Round(time.Second))
}

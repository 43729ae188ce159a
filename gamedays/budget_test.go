package gamedays

import (
	"math"
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
)

// A staged plan is priced stage by stage: each stage's members for the
// stage's hold, the longest of the attacks' holds at that stage, capped by
// the target's max.
func TestPlanBudgetStaged(t *testing.T) {
	stage := func(br runbook.BlastRadius, hold time.Duration) runbook.Stage {
		return runbook.Stage{BlastRadius: br, Hold: hold}
	}
	rb := &runbook.Runbook{
		SLO:         &runbook.SLO{Objective: 0.999, Window: 30 * 24 * time.Hour, WarnAbove: 0.5},
		BlastRadius: map[string]runbook.BlastRadius{"web": {Max: 3}},
		Attacks: []runbook.Attack{
			{Name: "slow", Target: "web", Duration: 6 * time.Minute, Stages: []runbook.Stage{
				stage(runbook.BlastRadius{Count: 1}, time.Minute),
				stage(runbook.BlastRadius{Percent: 50}, 2*time.Minute),
				stage(runbook.BlastRadius{All: true}, 3*time.Minute),
			}},
			{Name: "lossy", Target: "db", Duration: 6 * time.Minute, Stages: []runbook.Stage{
				stage(runbook.BlastRadius{Count: 1}, time.Minute),
				stage(runbook.BlastRadius{Count: 2}, 4*time.Minute),
				stage(runbook.BlastRadius{All: true}, time.Minute),
			}},
		},
	}
	if got := StageHolds(rb); len(got) != 3 || got[0] != time.Minute || got[1] != 4*time.Minute || got[2] != 3*time.Minute {
		t.Fatalf("StageHolds = %v, want [1m 4m 3m]", got)
	}
	// web, 4 hosts: 1 for 1m, 2 for 4m, all capped at 3 for 3m.
	// db, 2 hosts: 1 for 1m, 2 for 4m, 2 for 3m.
	want := 1.0/4*1 + 2.0/4*4 + 3.0/4*3 + 1.0/2*1 + 2.0/2*4 + 2.0/2*3
	b, ok := PlanBudget(rb, map[string]int{"web": 4, "db": 2}, map[string]int{"web": 3, "db": 2}, 1)
	if !ok {
		t.Fatal("no budget for a runbook with an SLO")
	}
	if math.Abs(b.Cost-want) > 1e-9 {
		t.Errorf("staged cost = %v minutes, want %v", b.Cost, want)
	}
	// Pricing only the last stage's selection for the whole escalation
	// would be 3/4*6 + 6: the stages must be what is priced.
	if math.Abs(b.Cost-(3.0/4*6+6)) < 1e-9 {
		t.Errorf("staged cost %v is the final selection over the whole duration", b.Cost)
	}
	// A stage larger than the fleet resolved is priced as the whole fleet.
	b, _ = PlanBudget(rb, map[string]int{"web": 4, "db": 1}, nil, 1)
	want = 1.0/4*1 + 2.0/4*4 + 3.0/4*3 + 1*1 + 1*4 + 1*3
	if math.Abs(b.Cost-want) > 1e-9 {
		t.Errorf("cost with a stage over the fleet = %v, want %v", b.Cost, want)
	}
}

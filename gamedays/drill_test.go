package gamedays

import (
	"math"
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
)

func TestDrillTimes(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	yes, no := true, false
	events := []Event{
		{Type: EvNote, Kind: NoteDetected, Time: at(5), Author: "eve", Msg: "jumpy graph"},
		{Type: EvAttackResult, OK: &no, Time: at(9)},
		{Type: EvAttackResult, OK: &yes, Time: at(10)},
		{Type: EvNote, Kind: NoteHint, Time: at(40), Msg: "compare instances"},
		{Type: EvNote, Kind: NoteDetected, Time: at(70), Author: "eve", Msg: "p95 up on checkout-2"},
		{Type: EvNote, Kind: NoteDetected, Time: at(80), Author: "dan", Msg: "later"},
		{Type: EvNote, Kind: NoteMitigated, Time: at(130), Author: "dan", Msg: "drained checkout-2"},
		{Type: EvNote, Kind: NoteHint, Time: at(140)},
	}
	d, ok := Drill(events)
	if !ok {
		t.Fatal("Drill found no inject")
	}
	if d.Injected != at(10) || d.TTD != 60*time.Second || d.TTM != 120*time.Second {
		t.Errorf("injected %v ttd %v ttm %v", d.Injected, d.TTD, d.TTM)
	}
	if d.DetectedBy != "eve" || d.DetectedWhat != "p95 up on checkout-2" || d.MitigatedBy != "dan" || d.MitigatedWhat != "drained checkout-2" {
		t.Errorf("who/what = %+v", d)
	}
	if d.Hints != 1 || d.FalseAlarms != 1 {
		t.Errorf("hints %d false alarms %d, want 1 and 1", d.Hints, d.FalseAlarms)
	}

	// Never mitigated: the attack ended by rollback; no TTM, every hint counts.
	d, ok = Drill(events[:6])
	if !ok || !d.Mitigated.IsZero() || d.TTM != 0 || d.TTD != 60*time.Second || d.Hints != 1 {
		t.Errorf("unmitigated drill = %+v", d)
	}
	if _, ok := Drill(events[:2]); ok {
		t.Error("a drill whose inject failed reported an inject")
	}
}

func TestPlanBudget(t *testing.T) {
	rb := &runbook.Runbook{
		SLO: &runbook.SLO{Objective: 0.999, Window: 30 * 24 * time.Hour, WarnAbove: 0.25},
		Attacks: []runbook.Attack{
			{Target: "web", Duration: 10 * time.Minute},
			{Target: "db", Duration: 4 * time.Minute},
		},
	}
	// One of three web hosts for 10m, both db hosts for 4m: 10/3 + 4 minutes.
	b, ok := PlanBudget(rb, map[string]int{"web": 3, "db": 2}, map[string]int{"web": 1, "db": 2}, 0.5)
	if !ok {
		t.Fatal("no budget for a runbook with an SLO")
	}
	want := 10.0/3 + 4
	if math.Abs(b.Cost-want) > 1e-9 || math.Abs(b.Total-43.2) > 1e-9 || math.Abs(b.Remaining-21.6) > 1e-9 {
		t.Errorf("budget = %+v, want cost %v of 43.2 total, 21.6 left", b, want)
	}
	if math.Abs(b.Share-want/21.6) > 1e-9 || !b.Warn {
		t.Errorf("share %v warn %v, want %v and a warning above 25%%", b.Share, b.Warn, want/21.6)
	}
	if s := b.String(); s != "planned blast costs up to 7m20s of error budget, 34% of the 21m36s left (above the runbook's warning level)" {
		t.Errorf("String() = %q", s)
	}
	b, _ = PlanBudget(rb, map[string]int{"web": 3, "db": 2}, map[string]int{"web": 1, "db": 2}, 1)
	if b.Warn {
		t.Errorf("17%% of a full budget warned: %+v", b)
	}
	b, _ = PlanBudget(rb, map[string]int{"web": 3}, map[string]int{"web": 1}, 0)
	if !math.IsInf(b.Share, 1) || !b.Warn || b.String() != "planned blast costs up to 3m20s of error budget, and none is left (above the runbook's warning level)" {
		t.Errorf("no budget left: %+v %q", b, b.String())
	}
	if _, ok := PlanBudget(&runbook.Runbook{}, nil, nil, 1); ok {
		t.Error("a runbook without an SLO was priced")
	}
}

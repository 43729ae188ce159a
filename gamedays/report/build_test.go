package report

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/targets"
)

func readFixture(t *testing.T, name string) []gamedays.Event {
	t.Helper()
	events, _, err := gamedays.ReadJournal(filepath.Join("testdata", "journals", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestBuildEmpty(t *testing.T) {
	if _, err := Build(nil, false); err == nil || !strings.Contains(err.Error(), "no events") {
		t.Fatalf("Build(nil) = %v, want an error saying there are no events", err)
	}
}

// A journal that lost its head still reports what it has, and what may
// still be applied.
func TestBuildWithoutRunStart(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	inj := &targets.Injection{Attack: "hog", Kind: "cpu-hog", Member: targets.Member{Target: "web", ID: "web-1"}}
	r, err := Build([]gamedays.Event{
		{Seq: 7, Time: at, Type: gamedays.EvPhase, Phase: "run"},
		{Seq: 8, Time: at.Add(time.Second), Type: gamedays.EvAttackIntent, Phase: "run", Injection: inj},
		{Seq: 9, Time: at.Add(2 * time.Second), Type: gamedays.EvAttackIntent, Phase: "run"},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Title != "game day" || r.Status.Outcome != "incomplete" || r.Attacks[0].Result != "unknown" {
		t.Errorf("title %q, outcome %q, attacks %+v", r.Title, r.Status.Outcome, r.Attacks)
	}
	if len(r.Unreverted) != 1 || r.Unreverted[0].Member != "web-1" || !strings.Contains(r.Status.Notice, "STILL BE APPLIED") {
		t.Errorf("unreverted %+v, notice %q", r.Unreverted, r.Status.Notice)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "event 9") {
		t.Errorf("warnings %q, want one naming event 9, which has no injection", r.Warnings)
	}
}

func TestBuildRunbookThatNoLongerParses(t *testing.T) {
	events := readFixture(t, "held")
	events[0].Runbook = "version: 1\nname: [unclosed\n"
	r, err := Build(events, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "does not parse") {
		t.Errorf("warnings %q", r.Warnings)
	}
	// Panels still come from the samples, without units.
	if len(r.Panels) != 2 || r.Panels[0].Unit != "" || len(r.charts.panels) != 2 {
		t.Errorf("panels %+v", r.Panels)
	}
}

// A crashed run that gameday recover closed afterwards: nothing is left
// applied, and the report says who closed it.
func TestBuildRecovered(t *testing.T) {
	events := readFixture(t, "crashed")
	last := events[len(events)-1]
	var inj *targets.Injection
	for _, ev := range events {
		if ev.Type == gamedays.EvAttackResult {
			inj = ev.Injection
		}
	}
	ok := true
	at := last.Time.Add(10 * time.Minute)
	events = append(events,
		gamedays.Event{Seq: last.Seq + 1, Time: at, Type: gamedays.EvRollbackIntent, Injection: inj, Msg: "recover"},
		gamedays.Event{Seq: last.Seq + 2, Time: at, Type: gamedays.EvRollbackResult, Injection: inj, OK: &ok},
		gamedays.Event{Seq: last.Seq + 3, Time: at, Type: gamedays.EvRecover, OK: &ok, Msg: "reverted 1 injection(s)"},
	)
	r, err := Build(events, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unreverted) != 0 || !r.Status.Recovered || !strings.Contains(r.Status.Notice, "gameday recover` ran on this journal afterwards: reverted 1") {
		t.Errorf("unreverted %+v, recovered %v, notice %q", r.Unreverted, r.Status.Recovered, r.Status.Notice)
	}
	if a := r.Attacks[0]; a.Rollback != "ok" || a.RollbackReason != "recover" || a.RolledBackAt == nil {
		t.Errorf("attack %+v", a)
	}
}

func TestBuildFailedRollbackIsLoud(t *testing.T) {
	events := readFixture(t, "held")
	for i, ev := range events {
		if ev.Type == gamedays.EvRollbackResult {
			no := false
			events[i].OK = &no
			events[i].Result = &targets.Result{Err: "ssh: connection refused"}
		}
	}
	r, err := Build(events, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unreverted) != 1 || r.Unreverted[0].Why != "rollback failed: ssh: connection refused" {
		t.Errorf("unreverted %+v", r.Unreverted)
	}
	if !strings.Contains(r.Status.Notice, "may STILL BE APPLIED") || r.Attacks[0].Rollback != "failed" || r.Attacks[0].RolledBackAt != nil {
		t.Errorf("notice %q, attack %+v", r.Status.Notice, r.Attacks[0])
	}
}

func TestTrimOutput(t *testing.T) {
	long := strings.Repeat("é", 300) // 600 bytes
	got := trimOutput(long)
	if !strings.HasSuffix(got, "more bytes)") || !strings.HasPrefix(got, strings.Repeat("é", 200)) {
		t.Errorf("trimOutput cut %q", got)
	}
	if trimOutput("  short\n") != "short" {
		t.Error("short output is not kept whole")
	}
}

package report

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/targets"
)

// slowCheckout2 is the lab-latency injection these journals are about.
func slowCheckout2() *targets.Injection {
	return &targets.Injection{Attack: "slow", Kind: "lab-latency", Member: targets.Member{Target: "checkout", ID: "checkout-2"}}
}

// atSecond numbers e and times it s seconds into the run.
func atSecond(s int, e gamedays.Event) gamedays.Event {
	e.Seq, e.Time = int64(s), time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).Add(time.Duration(s)*time.Second)
	return e
}

// A served drill: who joined, the responder's marks with what they saw and
// did, when the fault was seen gone, and who pressed abort are all in the
// report.
func TestBuildServedDrill(t *testing.T) {
	ok, inj, ev := true, slowCheckout2(), atSecond
	r, err := Build([]gamedays.Event{
		ev(1, gamedays.Event{Type: gamedays.EvRunStart, RunID: "r1"}),
		ev(2, gamedays.Event{Type: gamedays.EvNote, Kind: "joined", Author: "rita", Msg: "responder"}),
		ev(3, gamedays.Event{Type: gamedays.EvNote, Kind: gamedays.NoteDetected, Author: "rita", Msg: "too early"}),
		ev(10, gamedays.Event{Type: gamedays.EvAttackResult, Injection: inj, OK: &ok}),
		ev(20, gamedays.Event{Type: gamedays.EvNote, Kind: gamedays.NoteHint, Author: "alice", Msg: "look per host"}),
		ev(40, gamedays.Event{Type: gamedays.EvNote, Kind: gamedays.NoteDetected, Author: "rita", Msg: "p95 up on one host"}),
		ev(65, gamedays.Event{Type: gamedays.EvFaultEnded, Injection: inj, Source: "watch", Msg: "was seen ended 55s into its 2m0s: the fault was no longer in place"}),
		ev(70, gamedays.Event{Type: gamedays.EvNote, Kind: gamedays.NoteMitigated, Author: "rita", Msg: "drained it"}),
		ev(80, gamedays.Event{Type: gamedays.EvAbort, Source: "key", Author: "dave", Msg: "rolling back"}),
		ev(90, gamedays.Event{Type: gamedays.EvNote, Kind: "left", Author: "rita", Msg: "responder"}),
		ev(91, gamedays.Event{Type: gamedays.EvRunEnd}),
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	var rita *Participant
	for i := range r.Participants {
		if r.Participants[i].Name == "rita" {
			rita = &r.Participants[i]
		}
	}
	if rita == nil || !rita.Joined || len(rita.Roles) != 1 || rita.Roles[0] != "responder" || rita.Notes != 3 {
		t.Fatalf("rita: %+v", rita)
	}
	d := r.Drill
	if d == nil || d.TTD != 30 || d.TTM != 60 || d.DetectedBy != "rita" || d.Detected != "p95 up on one host" ||
		d.Mitigated != "drained it" || d.Hints != 1 || d.FalseAlarms != 1 || d.Gone != 55 || d.GoneWhat != "slow on checkout-2" {
		t.Fatalf("drill: %+v", d)
	}
	if len(r.Aborts) != 1 || r.Aborts[0].By != "dave" {
		t.Fatalf("aborts: %+v", r.Aborts)
	}
	var b strings.Builder
	if err := r.Markdown(&b, ""); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	wantIn(t, "the Markdown report", md, "rita (responder; joined live; 3 note(s))", "What they saw:", "p95 up on one host", "What they did:", "rita joined (responder)",
		"**Seen gone:** slow on checkout-2, 55s after the first fault landed (the zero of the times above), before its rollback")
}

// A fault seen ended before its rollback is drawn as it was: its attack's
// span ends where it was seen gone, the legend says so, and its row says
// who ended it once.
func TestAnAttackSpanEndsWhereItsFaultEndedEarly(t *testing.T) {
	ok, inj, ev := true, slowCheckout2(), atSecond
	journal := func(ended bool) []gamedays.Event {
		events := []gamedays.Event{
			ev(1, gamedays.Event{Type: gamedays.EvRunStart, RunID: "r1"}),
			ev(10, gamedays.Event{Type: gamedays.EvAttackIntent, Injection: inj}),
			ev(10, gamedays.Event{Type: gamedays.EvAttackResult, Injection: inj, OK: &ok}),
		}
		if ended {
			events = append(events, ev(40, gamedays.Event{Type: gamedays.EvFaultEnded, Injection: inj, Source: "watch", Msg: "was seen ended 30s into its 1m0s: it was reset by hand"}))
		}
		return append(events,
			ev(70, gamedays.Event{Type: gamedays.EvRollbackIntent, Injection: inj}),
			ev(70, gamedays.Event{Type: gamedays.EvRollbackResult, Injection: inj, OK: &ok, Result: &targets.Result{Gone: true}}),
			ev(80, gamedays.Event{Type: gamedays.EvRunEnd}))
	}
	for _, c := range []struct {
		ended       bool
		to          float64
		legend, row string
	}{
		{false, 69, "orange spans are attacks, from inject to rollback;", "applied; GONE before its rollback: something other than gameday ended it"},
		{true, 39, "from inject to rollback, or to when a fault was seen ended early;", "applied; ENDED EARLY, was seen ended 30s into its 1m0s: it was reset by hand; still gone when its rollback came"},
	} {
		r, err := Build(journal(c.ended), false)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.charts.attacks) != 1 || r.charts.attacks[0].to != c.to {
			t.Errorf("ended early %v: attack spans %+v, want one to T+%gs", c.ended, r.charts.attacks, c.to)
		}
		var b strings.Builder
		if err := r.Markdown(&b, ""); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), c.legend) || !strings.Contains(b.String(), c.row) {
			t.Errorf("ended early %v: the report does not say %q and %q:\n%s", c.ended, c.legend, c.row, b.String())
		}
	}
}

// A drill nobody marked still has its Drill section: that responders never
// got there is what the facilitator needs to read, with when the fault was
// seen gone; a run that was not a drill has none.
func TestADrillWithoutMarksHasItsSection(t *testing.T) {
	ok, inj, ev := true, slowCheckout2(), atSecond
	for _, drill := range []bool{true, false} {
		r, err := Build([]gamedays.Event{
			ev(1, gamedays.Event{Type: gamedays.EvRunStart, RunID: "r1", Drill: drill}),
			ev(10, gamedays.Event{Type: gamedays.EvAttackResult, Injection: inj, OK: &ok}),
			ev(40, gamedays.Event{Type: gamedays.EvFaultEnded, Injection: inj, Source: "watch", Msg: "was seen ended 30s into its 1m0s: it was reset by hand"}),
			ev(80, gamedays.Event{Type: gamedays.EvRunEnd}),
		}, false)
		if err != nil {
			t.Fatal(err)
		}
		if !drill {
			if r.Drill != nil {
				t.Errorf("a run that was not a drill has a Drill section: %+v", r.Drill)
			}
			continue
		}
		if d := r.Drill; d == nil || !math.IsNaN(float64(d.TTD)) || !math.IsNaN(float64(d.TTM)) || d.Gone != 30 {
			t.Fatalf("drill: %+v", d)
		}
		var b strings.Builder
		if err := r.Markdown(&b, ""); err != nil {
			t.Fatal(err)
		}
		wantIn(t, "the Markdown report", b.String(), "## Drill", "not reached", "**Seen gone:** slow on checkout-2, 30s after the first fault landed", "an on-call drill")
	}
}

package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/ui/serve"
)

// A participant's footer shows only the keys their role may use, and says
// who can abort when they cannot.
func TestFooterFitsTheRole(t *testing.T) {
	tests := []struct {
		stage     stage
		who       serve.Who
		want, not []string
	}{
		{stBlast, serve.Who{Name: "Dee", Role: runbook.RoleObserver},
			[]string{"abort: the facilitator or a safety officer", "t timeline"}, []string{"Y confirm", "n note", "ctrl+x ABORT"}},
		{stHypothesis, serve.Who{Name: "Ben", Role: runbook.RoleScribe, Abort: true},
			[]string{"n note", "p prediction", "ctrl+x ABORT"}, []string{"enter continue"}},
		{stBlast, serve.Who{Name: "Ana", Role: runbook.RoleFacilitator, Abort: true},
			[]string{"Y confirm", "ctrl+x ABORT"}, nil},
	}
	for _, tc := range tests {
		hs := newHarness(t, tc.stage, 120, 30)
		hs.m.guest = &guest{who: tc.who}
		footer := hs.m.footer()
		for _, w := range tc.want {
			if !strings.Contains(footer, w) {
				t.Errorf("%s at stage %d: footer %q lacks %q", tc.who.Role, tc.stage, footer, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(footer, n) {
				t.Errorf("%s at stage %d: footer %q shows %q", tc.who.Role, tc.stage, footer, n)
			}
		}
	}
	// The facilitator at their own terminal sees every key, as before.
	hs := newHarness(t, stBlast, 120, 30)
	if f := hs.m.footer(); !strings.Contains(f, "Y confirm") || !strings.Contains(f, "ctrl+x ABORT") {
		t.Errorf("facilitator footer %q", f)
	}
}

// The footer's keys are the open overlay's, or the phase screen's with
// those of every screen: each only where it does something.
func TestHelpShowsWhatMatters(t *testing.T) {
	has := func(hs *harness, k string) bool {
		for _, b := range hs.m.ShortHelp() {
			if b.Help().Key == k {
				return true
			}
		}
		return false
	}
	blastReady := newHarness(t, stBlast, 80, 24)
	evs, _ := scriptAt(stBlast)
	blast := newHarness(t, stBaseline, 80, 24)
	blast.m.Update(eventsMsg(evs[2 : len(evs)-1]))
	if !has(blastReady, "Y") || has(blast, "Y") {
		t.Error("Y is shown exactly when confirmation is possible")
	}
	if hyp := newHarness(t, stHypothesis, 80, 24); !has(hyp, "enter") || !has(hyp, "p") {
		t.Error("hypothesis help lacks enter or p")
	}
	ended := newHarness(t, stEnded, 80, 24)
	if !has(ended, "f") || !has(ended, "a") || !has(ended, "q") || has(ended, "p") {
		t.Error("after the end: findings, action items and q, no predictions")
	}
	if has(ended, "e") {
		t.Error("e is shown before the engine has returned")
	}
	ended.m.engine = &engineResult{}
	ended.m.Update(engineDoneMsg{})
	if !has(ended, "e") {
		t.Error("e is not shown once the report can be written")
	}
	noting := newHarness(t, stObserve, 80, 24)
	noting.press("f")
	if !has(noting, "esc") || has(noting, "t") {
		t.Error("note input help is about the note")
	}
	timeline := newHarness(t, stRun, 80, 24)
	timeline.press("t")
	helping := newHarness(t, stHypothesis, 80, 24)
	helping.press("?")
	if !has(timeline, "↑/k") || has(timeline, "n") || !has(helping, "?") || has(helping, "n") {
		t.Error("the timeline's and the key help's footers are about them")
	}
	for _, hs := range []*harness{newHarness(t, stBaseline, 80, 24), noting, timeline, helping, ended} {
		if has(hs, "ctrl+x") {
			t.Errorf("abort is in the help list in %s (modal %s); the footer shows it on its own", hs.m.run.Phase, hs.m.modal)
		}
	}
}

// The footer drops whole keys, never cuts one mid-word ("t timelin…"), and
// keeps "? all keys" and the abort key at every width.
func TestFooterKeepsWholeKeys(t *testing.T) {
	for _, st := range []stage{stBaseline, stHypothesis, stBlast, stRun, stObserve, stAborted, stConclude, stEnded} {
		for _, w := range []int{80, 100, 120, 140, 200} {
			hs := newHarness(t, st, w, 30)
			f := ansi.Strip(hs.m.footer())
			if !strings.HasSuffix(f, "ctrl+x ABORT") || !strings.Contains(f, "? all keys") {
				t.Errorf("stage %d at %d columns: footer %q lacks the help or abort key", st, w, f)
			}
			descs := map[string]bool{"…": true}
			for _, b := range hs.m.permitted(hs.m.ShortHelp()) {
				descs[b.Help().Key+" "+b.Help().Desc] = true
			}
			left := strings.TrimSpace(strings.TrimSuffix(f, "ctrl+x ABORT"))
			for _, part := range strings.Split(left, " • ") {
				if !descs[part] {
					t.Errorf("stage %d at %d columns: footer part %q is not a whole key: %q", st, w, part, f)
				}
			}
		}
	}
}

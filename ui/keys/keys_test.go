package keys

import (
	"flag"
	"os"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/docs/gendoc"
	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/ui/keys/keystest"
)

var (
	baseline   = Context{Phase: gamedays.PhaseBaseline, Charts: true}
	hypothesis = Context{Phase: gamedays.PhaseHypothesis}
	blast      = Context{Phase: gamedays.PhaseBlastRadius}
	blastReady = Context{Phase: gamedays.PhaseBlastRadius, CanConfirm: true}
	run        = Context{Phase: gamedays.PhaseRun, Charts: true}
	observe    = Context{Phase: gamedays.PhaseObserve, Charts: true}
	conclude   = Context{Phase: gamedays.PhaseConclude}
	aborted    = Context{Phase: gamedays.PhaseAborted, Charts: true}
	ended      = Context{Phase: gamedays.PhaseConclude, Ended: true}
	exportable = Context{Phase: gamedays.PhaseConclude, Ended: true, CanExport: true}
	noting     = Context{Phase: gamedays.PhaseObserve, Modal: ModalNote, Charts: true}
	timeline   = Context{Phase: gamedays.PhaseRun, Modal: ModalTimeline}
	helping    = Context{Phase: gamedays.PhaseHypothesis, Modal: ModalHelp}
)

func TestResolve(t *testing.T) {
	km := Default()
	tests := []struct {
		name string
		ctx  Context
		key  string
		want Result
	}{
		{"abort in baseline", baseline, "ctrl+x", Result{Action: Abort}},
		{"abort while typing a note", noting, "ctrl+x", Result{Action: Abort}},
		{"abort in the timeline", timeline, "ctrl+x", Result{Action: Abort}},
		{"abort in help", helping, "ctrl+x", Result{Action: Abort}},
		{"abort after the end is still the abort action", ended, "ctrl+x", Result{Action: Abort}},
		{"ctrl+c aborts and quits", observe, "ctrl+c", Result{Action: AbortQuit}},
		{"ctrl+c while typing", noting, "ctrl+c", Result{Action: AbortQuit}},
		{"enter moves on from the hypothesis", hypothesis, "enter", Result{Action: Next}},
		{"enter finishes on conclude", conclude, "enter", Result{Action: Next}},
		{"enter does nothing in run", run, "enter", Result{}},
		{"Y confirms once preflights passed", blastReady, "Y", Result{Action: Confirm}},
		{"Y does nothing before preflights pass", blast, "Y", Result{}},
		{"lower-case y is not a confirmation", blastReady, "y", Result{}},
		{"Y does nothing outside the blast radius", observe, "Y", Result{}},
		{"Y confirms the stage that waits", Context{Phase: gamedays.PhaseRun, Staged: true, ConfirmEach: true, StageAsk: true}, "Y", Result{Action: Confirm}},
		{"Y does nothing in run while no stage waits", Context{Phase: gamedays.PhaseRun, Staged: true, ConfirmEach: true}, "Y", Result{}},
		{"s turns asking before each stage on", Context{Phase: gamedays.PhaseBlastRadius, Staged: true}, "s", Result{Action: ConfirmEach, Kind: "on"}},
		{"s turns it off during the stages", Context{Phase: gamedays.PhaseRun, Staged: true, ConfirmEach: true}, "s", Result{Action: ConfirmEach, Kind: "off"}},
		{"s does nothing without stages", run, "s", Result{}},
		{"s does nothing once the stages are over", Context{Phase: gamedays.PhaseObserve, Staged: true}, "s", Result{}},
		{"note in baseline", baseline, "n", Result{Action: OpenNote, Kind: "note"}},
		{"note in blast radius", blast, "n", Result{Action: OpenNote, Kind: "note"}},
		{"note in aborted", aborted, "n", Result{Action: OpenNote, Kind: "note"}},
		{"a note after the end", ended, "n", Result{Action: OpenNote, Kind: "note"}},
		{"a finding after the end", ended, "f", Result{Action: OpenNote, Kind: "finding"}},
		{"an action item after the end", ended, "a", Result{Action: OpenNote, Kind: "action"}},
		{"no prediction after the end", ended, "p", Result{}},
		{"prediction in hypothesis", hypothesis, "p", Result{Action: OpenNote, Kind: "prediction"}},
		{"no prediction in observe", observe, "p", Result{}},
		{"finding in observe", observe, "f", Result{Action: OpenNote, Kind: "finding"}},
		{"action item on conclude", conclude, "a", Result{Action: OpenNote, Kind: "action"}},
		{"no finding in baseline", baseline, "f", Result{}},
		{"typing goes to the note", noting, "q", Result{Action: Input}},
		{"typing a digit goes to the note", noting, "1", Result{Action: Input}},
		{"enter saves the note", noting, "enter", Result{Action: Submit}},
		{"esc closes the note", noting, "esc", Result{Action: Cancel}},
		{"timeline opens", run, "t", Result{Action: ToggleTimeline}},
		{"timeline closes with t", timeline, "t", Result{Action: ToggleTimeline}},
		{"timeline closes with esc", timeline, "esc", Result{Action: ToggleTimeline}},
		{"timeline scrolls", timeline, "up", Result{Action: ScrollUp}},
		{"timeline pages", timeline, "pgdown", Result{Action: PageDown}},
		{"timeline ignores notes", timeline, "n", Result{}},
		{"series 1", observe, "1", Result{Action: ToggleSeries, Series: 0}},
		{"series 9", baseline, "9", Result{Action: ToggleSeries, Series: 8}},
		{"no series without charts", hypothesis, "1", Result{}},
		{"help opens", blast, "?", Result{Action: ToggleHelp}},
		{"help closes", helping, "esc", Result{Action: ToggleHelp}},
		{"help swallows other keys", helping, "enter", Result{}},
		{"q on conclude finishes and leaves", conclude, "q", Result{Action: Leave}},
		{"q after the end leaves", ended, "q", Result{Action: Leave}},
		{"q in observe does nothing", observe, "q", Result{}},
		{"an unknown key does nothing", run, "z", Result{}},
		{"e writes the report after the end", exportable, "e", Result{Action: Export}},
		{"e does nothing without a complete journal", ended, "e", Result{}},
		{"e does nothing before the end", conclude, "e", Result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Resolve(km, tt.ctx, keystest.Press(tt.key)); got != tt.want {
				t.Errorf("Resolve(%+v, %q) = %+v (%s), want %+v (%s)", tt.ctx, tt.key, got, got.Action, tt.want, tt.want.Action)
			}
		})
	}
}

// Abort must win in every phase and modal there is.
func TestAbortIsNeverShadowed(t *testing.T) {
	km := Default()
	for p := gamedays.PhaseBaseline; p <= gamedays.PhaseDone; p++ {
		for md := ModalNone; md <= ModalHelp; md++ {
			for _, b := range []bool{false, true} {
				c := Context{Phase: p, Modal: md, Ended: b, CanConfirm: b, Charts: b}
				if got := Resolve(km, c, keystest.Press("ctrl+x")); got.Action != Abort {
					t.Errorf("ctrl+x in %s/%s ended=%v: %s", p, md, b, got.Action)
				}
				if got := Resolve(km, c, keystest.Press("ctrl+c")); got.Action != AbortQuit {
					t.Errorf("ctrl+c in %s/%s ended=%v: %s", p, md, b, got.Action)
				}
			}
		}
	}
}

func TestIntent(t *testing.T) {
	tests := []struct {
		r      Result
		text   string
		want   gamedays.Intent
		wantOK bool
	}{
		{Result{Action: Abort}, "", gamedays.Intent{Type: gamedays.IntentAbort, Source: "key", Author: "ana"}, true},
		{Result{Action: AbortQuit}, "", gamedays.Intent{Type: gamedays.IntentAbort, Source: "ctrl+c", Author: "ana"}, true},
		{Result{Action: Next}, "", gamedays.Intent{Type: gamedays.IntentNext, Source: "key", Author: "ana"}, true},
		{Result{Action: Leave}, "", gamedays.Intent{Type: gamedays.IntentNext, Source: "key", Author: "ana"}, true},
		{Result{Action: Confirm}, "", gamedays.Intent{Type: gamedays.IntentConfirm, Source: "key", Author: "ana"}, true},
		{Result{Action: ConfirmEach, Kind: "off"}, "", gamedays.Intent{Type: gamedays.IntentConfirmEach, Text: "off", Source: "key", Author: "ana"}, true},
		{Result{Action: Submit, Kind: "prediction"}, "  p95 doubles ", gamedays.Intent{Type: gamedays.IntentNote, Text: "p95 doubles", Kind: "prediction", Author: "ana", Source: "key"}, true},
		{Result{Action: Submit}, "x", gamedays.Intent{Type: gamedays.IntentNote, Text: "x", Kind: "note", Author: "ana", Source: "key"}, true},
		{Result{Action: Submit, Kind: "finding"}, "   ", gamedays.Intent{}, false},
		{Result{Action: ToggleTimeline}, "", gamedays.Intent{}, false},
		{Result{Action: Input}, "", gamedays.Intent{}, false},
		{Result{}, "", gamedays.Intent{}, false},
	}
	for _, tt := range tests {
		got, ok := Intent(tt.r, tt.text, "ana")
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Intent(%s %q) = %+v, %v; want %+v, %v", tt.r.Action, tt.text, got, ok, tt.want, tt.wantOK)
		}
	}
}

var update = flag.Bool("update", false, "rewrite the generated key reference in docs/console.md and README.md")

// docs/console.md and README.md embed the key reference generated from Default().
func TestDocsInSync(t *testing.T) {
	for _, path := range []string{"../../docs/console.md", "../../README.md"} {
		gendoc.Check(t, path, "<!-- BEGIN generated from ui/keys; a test keeps it in sync -->\n",
			Markdown(Default()), *update, "go test ./ui/keys -run TestDocsInSync -update")
	}
}

// The drill keys apply only in a drill, and never while a note is typed.
func TestDrillKeys(t *testing.T) {
	km := Default()
	run := Context{Phase: gamedays.PhaseRun, Drill: true}
	tests := []struct {
		c    Context
		key  string
		want Result
	}{
		{run, "d", Result{Action: OpenNote, Kind: gamedays.NoteDetected}},
		{run, "m", Result{Action: OpenNote, Kind: gamedays.NoteMitigated}},
		{run, "h", Result{Action: ReleaseHint}},
		{Context{Phase: gamedays.PhaseRun}, "d", Result{}},
		{Context{Phase: gamedays.PhaseRun}, "h", Result{}},
		{Context{Phase: gamedays.PhaseRun, Drill: true, Modal: ModalNote}, "d", Result{Action: Input}},
		{Context{Phase: gamedays.PhaseDone, Drill: true, Ended: true}, "m", Result{}},
	}
	for _, tc := range tests {
		if got := Resolve(km, tc.c, keystest.Press(tc.key)); got != tc.want {
			t.Errorf("%q in %+v: %+v, want %+v", tc.key, tc.c, got, tc.want)
		}
	}
	if md := DrillMarkdown(km); !strings.Contains(md, "| `d` | Mark the problem detected") || !strings.Contains(md, "| `h` |") {
		t.Errorf("drill key reference:\n%s", md)
	}
}

// docs/facilitation.md carries the drill key reference generated here.
func TestFacilitationDocHasDrillKeys(t *testing.T) {
	doc, err := os.ReadFile("../../docs/facilitation.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), DrillMarkdown(Default())) {
		t.Errorf("docs/facilitation.md does not embed the drill key reference; paste:\n%s", DrillMarkdown(Default()))
	}
}

// A member table scrolls and filters, before and after the end; elsewhere
// the same keys do nothing, and the timeline keeps its own.
func TestMemberTableKeys(t *testing.T) {
	km := Default()
	blast := Context{Phase: gamedays.PhaseBlastRadius, Members: true}
	ended := Context{Phase: gamedays.PhaseAborted, Members: true, Ended: true}
	tests := []struct {
		c    Context
		key  tea.KeyMsg
		want Action
	}{
		{blast, keystest.Press("/"), FilterMembers},
		{blast, keystest.Press("j"), ScrollDown},
		{blast, tea.KeyMsg{Type: tea.KeyPgDown}, PageDown},
		{blast, keystest.Press("Y"), None}, // not every preflight passed
		{ended, keystest.Press("/"), FilterMembers},
		{ended, tea.KeyMsg{Type: tea.KeyUp}, ScrollUp},
		{ended, keystest.Press("q"), Leave},
		{Context{Phase: gamedays.PhaseHypothesis}, keystest.Press("/"), None},
		{Context{Phase: gamedays.PhaseBlastRadius, Members: true, Modal: ModalNote}, keystest.Press("/"), Input},
		{Context{Phase: gamedays.PhaseBlastRadius, Members: true}, keystest.Press("t"), ToggleTimeline},
	}
	for _, tt := range tests {
		if got := Resolve(km, tt.c, tt.key); got.Action != tt.want {
			t.Errorf("%v %q: %s, want %s", tt.c, tt.key, got.Action, tt.want)
		}
	}
}

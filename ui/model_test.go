package ui

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/user"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/ui/keys"
	"github.com/gameday/gameday/ui/keys/keystest"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	os.Setenv("USER", "ana")
	os.Exit(m.Run())
}

// harness drives the root model directly: messages in, state and intents out.
type harness struct {
	t    *testing.T
	c    *Console
	m    *model
	sent *fakeSender
	now  time.Time
}

func newHarness(t *testing.T, to stage, w, h int) *harness {
	t.Helper()
	rb := parseRunbook(t)
	evs, now := scriptAt(to)
	obs := newStaticObserver(rb, instances, int(now.Sub(t0)/time.Second)+1, now, false)
	c := New(Config{Runbook: rb, File: "checkout.yaml", RunDir: "/var/lib/gameday/r1", Metrics: obs, Version: "test"})
	c.clock = func() time.Time { return now }
	fs := &fakeSender{}
	hs := &harness{t: t, c: c, m: c.newModel(fs, nil), sent: fs, now: now}
	hs.m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	hs.m.Update(eventsMsg(evs))
	hs.refresh()
	return hs
}

// refresh reads the metrics synchronously, as the refresh command would,
// and delivers the engine's judgement of them, as the engine would after a
// poll: the console renders checks only from that.
func (hs *harness) refresh() {
	hs.m.Update(hs.m.refreshReq().read())
	hs.m.Update(eventsMsg{judged(hs.m.cfg.Runbook, hs.m.cfg.Metrics, hs.m.run, hs.now)})
}

func (hs *harness) press(keys ...string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range keys {
		_, cmd = hs.m.Update(keystest.Press(k))
	}
	return cmd
}

func (hs *harness) typeText(s string) {
	for _, r := range s {
		hs.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func (hs *harness) last() (gamedays.Intent, bool) {
	in := hs.sent.intents()
	if len(in) == 0 {
		return gamedays.Intent{}, false
	}
	return in[len(in)-1], true
}

func (hs *harness) view() string { return hs.m.View() }

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestNextFromHypothesis(t *testing.T) {
	hs := newHarness(t, stHypothesis, 80, 24)
	hs.press("enter")
	if i, ok := hs.last(); !ok || i.Type != gamedays.IntentNext {
		t.Fatalf("enter sent %+v", hs.sent.intents())
	}
}

func TestConfirmOnlyAfterPreflight(t *testing.T) {
	hs := newHarness(t, stBlast, 80, 24)
	if !strings.Contains(hs.view(), "Press Y to confirm") {
		t.Errorf("blast radius does not ask for Y:\n%s", hs.view())
	}
	hs.press("Y")
	if i, ok := hs.last(); !ok || i.Type != gamedays.IntentConfirm {
		t.Fatalf("Y sent %+v", hs.sent.intents())
	}

	// Without the preflight result, Y does nothing.
	evs, _ := scriptAt(stBlast)
	hs2 := newHarness(t, stBaseline, 80, 24)
	hs2.m.Update(eventsMsg(evs[2 : len(evs)-1]))
	hs2.press("Y")
	if len(hs2.sent.intents()) != 0 {
		t.Fatalf("Y before the preflight sent %+v", hs2.sent.intents())
	}
	if !strings.Contains(hs2.view(), "checking") {
		t.Errorf("pending preflight not shown:\n%s", hs2.view())
	}
}

func TestNotesOfEveryKind(t *testing.T) {
	tests := []struct {
		stage    stage
		key      string
		wantKind string
	}{
		{stBaseline, "n", "note"},
		{stHypothesis, "p", "prediction"},
		{stObserve, "f", "finding"},
		{stConclude, "a", "action"},
		{stBlast, "n", "note"},
	}
	for _, tt := range tests {
		hs := newHarness(t, tt.stage, 80, 24)
		hs.press(tt.key)
		if hs.m.modal != keys.ModalNote {
			t.Fatalf("%s did not open the note input", tt.key)
		}
		hs.typeText("web-2 looks slow; q and 1 are text here")
		if len(hs.sent.intents()) != 0 {
			t.Fatalf("typing sent %+v", hs.sent.intents())
		}
		hs.press("enter")
		i, ok := hs.last()
		if !ok || i.Type != gamedays.IntentNote || i.Kind != tt.wantKind || i.Text != "web-2 looks slow; q and 1 are text here" || i.Author != "ana" {
			t.Errorf("%s: sent %+v", tt.key, i)
		}
		if hs.m.modal != keys.ModalNone {
			t.Error("the note input stayed open after enter")
		}
	}
	// esc throws the text away and sends nothing.
	hs := newHarness(t, stRun, 80, 24)
	hs.press("n")
	hs.typeText("never mind")
	hs.press("esc")
	if len(hs.sent.intents()) != 0 {
		t.Errorf("esc sent %+v", hs.sent.intents())
	}
}

func TestAbortAndItsRepeat(t *testing.T) {
	hs := newHarness(t, stObserve, 80, 24)
	hs.press("ctrl+x")
	i, ok := hs.last()
	if !ok || i.Type != gamedays.IntentAbort || i.Source != "key" {
		t.Fatalf("ctrl+x sent %+v", hs.sent.intents())
	}
	if !strings.Contains(hs.view(), "ABORT sent") {
		t.Errorf("no sign of the abort before the engine answers:\n%s", hs.view())
	}
	hs.press("ctrl+x")
	if n := len(hs.sent.intents()); n != 2 {
		t.Errorf("second press sent %d intents in all, want 2 (the engine journals the repeat)", n)
	}
	if !strings.Contains(hs.m.flash, "cannot be skipped") {
		t.Errorf("flash after a second abort: %q", hs.m.flash)
	}
}

func TestAbortSavesTheNoteBeingTyped(t *testing.T) {
	hs := newHarness(t, stRun, 80, 24)
	hs.press("n")
	hs.typeText("error rate spiking on web-2")
	hs.press("ctrl+x")
	in := hs.sent.intents()
	if len(in) != 2 || in[0].Type != gamedays.IntentNote || in[0].Text != "error rate spiking on web-2" || in[1].Type != gamedays.IntentAbort {
		t.Fatalf("intents %+v, want the note then the abort", in)
	}
	if hs.m.modal != keys.ModalNone {
		t.Error("the note input stayed open over the abort")
	}
}

func TestCtrlCQuitsOnlyAfterTheRollback(t *testing.T) {
	hs := newHarness(t, stObserve, 80, 24)
	if cmd := hs.press("ctrl+c"); isQuit(cmd) {
		t.Fatal("ctrl+c quit before the rollback")
	}
	if i, _ := hs.last(); i.Type != gamedays.IntentAbort || i.Source != "ctrl+c" {
		t.Fatalf("ctrl+c sent %+v", i)
	}
	if cmd := hs.press("ctrl+c"); isQuit(cmd) {
		t.Fatal("a second ctrl+c skipped the rollback")
	}
	evs, _ := scriptAt(stAborted)
	var abortEvs []gamedays.Event
	for _, ev := range evs {
		if ev.Time.After(t0.Add(60 * time.Second)) {
			abortEvs = append(abortEvs, ev)
		}
	}
	_, cmd := hs.m.Update(eventsMsg(abortEvs[:len(abortEvs)-1]))
	if cmd == nil {
		t.Fatal("no command after events")
	}
	// The run has not ended yet: the listen command is armed, no quit.
	if hs.m.maybeQuit() != nil {
		t.Fatal("quit before run.end")
	}
	hs.m.Update(eventsMsg(abortEvs[len(abortEvs)-1:]))
	if !isQuit(hs.m.maybeQuit()) {
		t.Fatal("no quit once the rollback ended")
	}
}

func TestSignalAbortsAndQuitsAfterRollback(t *testing.T) {
	hs := newHarness(t, stRun, 80, 24)
	_, cmd := hs.m.Update(signalMsg{name: "SIGTERM"})
	if isQuit(cmd) {
		t.Fatal("quit before the rollback")
	}
	if i, _ := hs.last(); i.Type != gamedays.IntentAbort || i.Source != "SIGTERM" {
		t.Fatalf("signal sent %+v", i)
	}
	hs.m.engine = &engineResult{}
	_, cmd = hs.m.Update(engineDoneMsg{})
	if !isQuit(cmd) {
		t.Fatal("no quit once the engine returned")
	}
}

func TestLeaveFinishesThenQuits(t *testing.T) {
	hs := newHarness(t, stConclude, 80, 24)
	if cmd := hs.press("q"); isQuit(cmd) {
		t.Fatal("q quit before the engine finished")
	}
	if i, _ := hs.last(); i.Type != gamedays.IntentNext {
		t.Fatalf("q on conclude sent %+v, want next", i)
	}
	_, cmd := hs.m.Update(eventsMsg{{Type: gamedays.EvRunEnd, Time: hs.now}})
	if cmd == nil {
		t.Fatal("no command after run.end")
	}
	if !isQuit(hs.m.maybeQuit()) {
		t.Fatal("no quit after run.end with q pressed")
	}

	ended := newHarness(t, stEnded, 80, 24)
	if !isQuit(ended.press("q")) {
		t.Fatal("q after the end did not quit")
	}
	if len(ended.sent.intents()) != 0 {
		t.Errorf("q after the end sent %+v", ended.sent.intents())
	}
	ended.press("ctrl+x")
	if len(ended.sent.intents()) != 0 || !strings.Contains(ended.m.flash, "nothing to abort") {
		t.Errorf("abort after the end: sent %+v, flash %q", ended.sent.intents(), ended.m.flash)
	}
	if !isQuit(ended.press("ctrl+c")) {
		t.Error("ctrl+c after the end did not quit")
	}
}

// Abort must be sent in the very Update that sees the key, from every phase
// and every modal.
func TestAbortWithinOneFrameEverywhere(t *testing.T) {
	opens := map[keys.Modal]string{keys.ModalNone: "", keys.ModalNote: "n", keys.ModalTimeline: "t", keys.ModalHelp: "?"}
	for _, st := range []stage{stBaseline, stHypothesis, stBlast, stRun, stObserve, stConclude, stAborted} {
		for md, open := range opens {
			for _, k := range []string{"ctrl+x", "ctrl+c"} {
				hs := newHarness(t, st, 80, 24)
				if st == stAborted {
					// Rolling back, not yet ended: a second abort still goes through.
					evs, _ := scriptAt(stAborted)
					hs = newHarness(t, stObserve, 80, 24)
					hs.m.Update(eventsMsg(evs[len(evs)-6 : len(evs)-3]))
				}
				if open != "" {
					hs.press(open)
				}
				if hs.m.modal != md {
					t.Fatalf("stage %d: %q opened %s, want %s", st, open, hs.m.modal, md)
				}
				before := len(hs.sent.intents())
				hs.m.Update(keystest.Press(k))
				in := hs.sent.intents()
				if len(in) == before || in[len(in)-1].Type != gamedays.IntentAbort {
					t.Errorf("phase %s modal %s: %s sent %+v", hs.m.run.Phase, md, k, in[before:])
				}
			}
		}
	}
}

func TestSeriesToggle(t *testing.T) {
	hs := newHarness(t, stObserve, 120, 40)
	if !strings.Contains(hs.view(), "[2] web-2") {
		t.Fatalf("legend lacks web-2:\n%s", hs.view())
	}
	hs.press("2")
	if !hs.m.hidden["web-2"] || !strings.Contains(hs.view(), "[2] web-2 hidden") {
		t.Fatalf("2 did not hide web-2:\n%s", hs.view())
	}
	hs.press("2")
	if hs.m.hidden["web-2"] {
		t.Fatal("2 did not show web-2 again")
	}
	hs.press("9") // no ninth series: nothing happens
}

func TestTimelineShowsEveryEventWithTime(t *testing.T) {
	hs := newHarness(t, stObserve, 100, 60)
	hs.press("t")
	v := hs.view()
	for _, want := range []string{"T+00:00 game day started", "T+00:45 injected slow (network-latency) on web-2", "prediction (ana): web-2 p95", "T+00:40 blast radius confirmed"} {
		if !strings.Contains(v, want) {
			t.Errorf("timeline lacks %q:\n%s", want, v)
		}
	}
	hs.press("t")
	if hs.m.modal != keys.ModalNone {
		t.Error("t did not close the timeline")
	}
}

func TestTimelineIsBounded(t *testing.T) {
	s := newRunState(parseRunbook(t))
	for i := range 3 * maxTimeline {
		s.apply(gamedays.Event{Type: gamedays.EvNote, Msg: "remark " + itoa(i), Time: t0.Add(time.Duration(i) * time.Second)})
	}
	if len(s.timeline) != maxTimeline || s.tlTotal != 3*maxTimeline {
		t.Fatalf("timeline holds %d of %d", len(s.timeline), s.tlTotal)
	}
	var first, last string
	s.entries(func(e entry) {
		if first == "" {
			first = e.text
		}
		last = e.text
	})
	if first != "remark "+itoa(2*maxTimeline) || last != "remark "+itoa(3*maxTimeline-1) {
		t.Errorf("ring order: first %q last %q", first, last)
	}
	// A repeat folds into a count instead of a new entry.
	s.apply(gamedays.Event{Type: gamedays.EvMetricsError, Msg: "connection refused", Time: t0})
	s.apply(gamedays.Event{Type: gamedays.EvMetricsError, Msg: "connection refused", Time: t0})
	var e entry
	s.entries(func(x entry) { e = x })
	if e.count != 2 {
		t.Errorf("repeat count %d, want 2", e.count)
	}
}

func TestResizeNeverPanics(t *testing.T) {
	for _, st := range []stage{stBaseline, stBlast, stObserve, stAborted, stEnded} {
		hs := newHarness(t, st, 80, 24)
		for _, sz := range [][2]int{{0, 0}, {1, 1}, {10, 3}, {79, 24}, {80, 23}, {80, 24}, {81, 25}, {120, 30}, {200, 50}, {250, 70}, {400, 120}} {
			hs.m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			hs.refresh()
			v := hs.view()
			lines := strings.Split(v, "\n")
			if sz[0] < minWidth || sz[1] < minHeight {
				if sz[0] > 20 && sz[1] > 2 && !strings.Contains(v, "terminal too small") {
					t.Errorf("%dx%d: no notice:\n%s", sz[0], sz[1], v)
				}
				continue
			}
			if len(lines) != sz[1] {
				t.Errorf("stage %d %dx%d: %d lines", st, sz[0], sz[1], len(lines))
			}
			for i, l := range lines {
				if w := lipgloss.Width(l); w != sz[0] {
					t.Errorf("stage %d %dx%d: line %d is %d wide: %q", st, sz[0], sz[1], i, w, l)
					break
				}
			}
			if !strings.Contains(v, "ctrl+x ABORT") {
				t.Errorf("%dx%d: ABORT not shown", sz[0], sz[1])
			}
		}
	}
}

func TestStaleTicksAreDropped(t *testing.T) {
	hs := newHarness(t, stRun, 80, 24)
	gen := hs.m.gen
	if _, cmd := hs.m.Update(tickMsg{gen: gen - 1}); cmd != nil {
		t.Error("a stale tick started a refresh")
	}
	_, cmd := hs.m.Update(tickMsg{gen: gen})
	if cmd == nil {
		t.Fatal("the current tick did not refresh")
	}
	msg, ok := cmd().(refreshMsg)
	if !ok || msg.gen != gen || len(msg.panels) != 2 || len(msg.panels[0].series) != 3 {
		t.Fatalf("refresh gave %T %+v", msg, msg.gen)
	}
	stale := msg
	stale.gen = gen - 1
	if _, cmd := hs.m.Update(stale); cmd != nil {
		t.Error("a stale refresh re-armed the clock")
	}
	if _, cmd := hs.m.Update(msg); cmd == nil {
		t.Error("a refresh did not re-arm the clock")
	}
}

func TestMetricsBlindBanner(t *testing.T) {
	hs := newHarness(t, stObserve, 100, 30)
	obs := hs.m.cfg.Metrics.(*staticObserver)
	for i := range obs.health {
		obs.health[i].LastAnswer = hs.now.Add(-25 * time.Second)
		obs.health[i].LastErr = errConnRefused
	}
	// The console reads the stale series itself, but judges nothing: until
	// the engine says the charts went quiet, there is no banner.
	hs.m.Update(hs.m.refreshReq().read())
	if v := hs.view(); strings.Contains(v, "NO NEW DATA") || strings.Contains(v, "METRICS BLIND") {
		t.Fatalf("a banner the engine did not publish:\n%s", v)
	}
	hs.refresh() // now with the engine's judgement of the same health
	v := hs.view()
	if !strings.Contains(v, "NO NEW DATA") || !strings.Contains(v, "connection refused") || !strings.Contains(v, "aborts at 10s") {
		t.Errorf("no quiet banner:\n%s", v)
	}
	hs.m.Update(eventsMsg{{Type: gamedays.EvBlind, Time: hs.now, Msg: "metrics blind for 10s (panel p95): connection refused"}})
	if v := hs.view(); !strings.Contains(v, "METRICS BLIND: metrics blind for 10s") {
		t.Errorf("the engine's metrics-blind decision is not on the banner:\n%s", v)
	}
}

// TestChecksComeOnlyFromTheEngine: what the console says about the checks
// is what the engine published last, whatever the series it draws say.
func TestChecksComeOnlyFromTheEngine(t *testing.T) {
	hs := newHarness(t, stObserve, 120, 40)
	if v := hs.view(); !strings.Contains(v, "hypothesis holding so far") {
		t.Fatalf("want the engine's judgement of a healthy run:\n%s", v)
	}
	broken := gamedays.CheckResult{Section: "expect", Panel: "p95", Threshold: "< baseline * 2", Text: "p95 broken: 900ms"}
	guard := gamedays.GuardStatus{Panel: "p95", Threshold: "> 2s for 5s", Pending: true, Breached: 3 * time.Second}
	hs.m.Update(eventsMsg{{Type: gamedays.EvLive, Time: hs.now, Live: &gamedays.Live{Expect: []gamedays.CheckResult{broken}, Guards: []gamedays.GuardStatus{guard}}}})
	// A refresh of the same healthy series changes nothing the engine said.
	hs.m.Update(hs.m.refreshReq().read())
	v := hs.view()
	if !strings.Contains(v, "hypothesis breaking (1 of 1)") || !strings.Contains(v, "p95 > 2s for 5s: breached for 3s") {
		t.Errorf("the console does not show what the engine published:\n%s", v)
	}
}

type connRefused struct{}

func (connRefused) Error() string { return "connection refused" }

var errConnRefused error = connRefused{}

func TestDelta(t *testing.T) {
	tests := []struct {
		v, base float64
		want    string
	}{
		{0.2, 0.1, "Δ+100%"},
		{0.1, 0.2, "Δ-50%"},
		{0.105, 0.1, "Δ+5%"},
		{0.1, 0.1, "Δ 0%"},
		{0.10001, 0.1, "Δ 0%"},
		{math.NaN(), 0.1, "Δ n/a"},
		{0.1, math.NaN(), "Δ n/a"},
		{0.3, 0, "Δ new"},
		{1.234, 1, "Δ+23.4%"},
	}
	for _, tt := range tests {
		if got := delta(tt.v, tt.base); got != tt.want {
			t.Errorf("delta(%v, %v) = %q, want %q", tt.v, tt.base, got, tt.want)
		}
	}
}

// Random key presses in every stage and a few sizes: whatever the room
// mashes, the console neither panics nor sends an intent the keymap does
// not allow (only notes, next, confirm and abort ever reach the engine).
func TestRandomKeysNeverPanic(t *testing.T) {
	pool := []string{"ctrl+x", "enter", "esc", "Y", "y", "n", "p", "f", "a", "t", "?", "q", "1", "2", "9", "j", "k", " ", "b", "x", "é"}
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, st := range []stage{stBaseline, stBlocked, stHypothesis, stBlast, stRun, stObserve, stAborted, stConclude, stEnded} {
		for _, sz := range [][2]int{{80, 24}, {60, 10}, {200, 50}} {
			hs := newHarness(t, st, sz[0], sz[1])
			for range 300 {
				hs.m.Update(keystest.Press(pool[rnd.IntN(len(pool))]))
				_ = hs.view()
			}
			for _, i := range hs.sent.intents() {
				switch i.Type {
				case gamedays.IntentNote, gamedays.IntentNext, gamedays.IntentConfirm, gamedays.IntentAbort:
				default:
					t.Errorf("stage %d sent %+v", st, i)
				}
				if i.Type == gamedays.IntentConfirm && st != stBlast {
					t.Errorf("stage %d sent a confirmation", st)
				}
			}
		}
	}
}

// With a large fleet, the members that will be attacked, and the rollbacks
// that failed, are the rows that stay on screen.
func TestLargeFleetKeepsWhatMattersOnScreen(t *testing.T) {
	hs := newHarness(t, stBaseline, 80, 24)
	var members []targets.Member
	for i := range 100 {
		members = append(members, targets.Member{Target: "web", ID: fmt.Sprintf("web-%03d", i)})
	}
	seed := int64(1)
	evs := []gamedays.Event{
		{Type: gamedays.EvPhase, Phase: "blast radius", Time: t0},
		{Type: gamedays.EvResolved, Target: "web", Members: members, Time: t0},
		{Type: gamedays.EvSelected, Target: "web", Members: []targets.Member{members[97]}, Seed: &seed, Time: t0},
	}
	hs.m.Update(eventsMsg(evs))
	v := hs.view()
	if !strings.Contains(v, "web-097") || !strings.Contains(v, "rows 1–4 of 100") {
		t.Errorf("the selected member or the summary is off screen:\n%s", v)
	}

	hs = newHarness(t, stObserve, 80, 24)
	evs = []gamedays.Event{{Type: gamedays.EvAbort, Source: "key", Msg: "key; rolling back 40", Time: t0}, {Type: gamedays.EvPhase, Phase: "aborted", Time: t0}}
	for i := range 40 {
		inj := &targets.Injection{Attack: "slow", Member: members[i]}
		ok := yes()
		if i == 33 {
			ok = no()
		}
		evs = append(evs,
			gamedays.Event{Type: gamedays.EvAttackIntent, Injection: inj, Time: t0},
			gamedays.Event{Type: gamedays.EvRollbackResult, Injection: inj, OK: ok, Result: &targets.Result{Err: "unreachable"}, Time: t0})
	}
	hs.m.Update(eventsMsg(evs))
	v = hs.view()
	if !strings.Contains(v, "web-033") || !strings.Contains(v, "ROLLBACK FAILED") || !strings.Contains(v, "39 of 41 reverted") {
		t.Errorf("the failed rollback is off screen:\n%s", v)
	}
}

func TestDryRunShowsThePlan(t *testing.T) {
	hs := newHarness(t, stBaseline, 100, 30)
	evs, _ := scriptAt(stBlast)
	var keep []gamedays.Event
	for _, ev := range evs[2:] {
		if ev.Type == gamedays.EvPreflight {
			ev.Plan = []string{"tc qdisc add dev eth0 root netem delay 200ms"}
		}
		keep = append(keep, ev)
	}
	keep = append(keep,
		gamedays.Event{Type: gamedays.EvVerdict, Verdict: "", Msg: "dry run: nothing was injected", Time: t0},
		gamedays.Event{Type: gamedays.EvRunEnd, Time: t0})
	hs.m.Update(eventsMsg(keep))
	v := hs.view()
	if !strings.Contains(v, "slow on web-2: tc qdisc add dev eth0 root netem delay 200ms") || strings.Contains(v, "Stopped before") {
		t.Errorf("dry run screen:\n%s", v)
	}
}

// OnEvent from many goroutines at once: nothing blocks, nothing is lost,
// and each goroutine's events arrive in the order it sent them.
func TestOnEventNeverBlocksNorDrops(t *testing.T) {
	c := New(Config{Runbook: parseRunbook(t)})
	t.Cleanup(c.close)
	const senders, each = 8, 2000
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				c.OnEvent(gamedays.Event{Seq: int64(g*each + i)})
			}
		})
	}
	listen := c.q.listen(c.stop)
	got := 0
	last := map[int64]int64{}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for got < senders*each {
		msg, ok := listen().(eventsMsg)
		if !ok {
			t.Fatal("listen returned something other than events")
		}
		for _, ev := range msg {
			g := ev.Seq / each
			if prev, seen := last[g]; seen && ev.Seq <= prev {
				t.Fatalf("sender %d: event %d after %d", g, ev.Seq, prev)
			}
			last[g] = ev.Seq
		}
		got += len(msg)
	}
	<-done
	if got != senders*each {
		t.Fatalf("%d events delivered, want %d", got, senders*each)
	}
}

// Messages from hosts and the engine can span lines; the frame must not.
func TestMultiLineMessagesKeepTheFrame(t *testing.T) {
	hs := newHarness(t, stObserve, 80, 24)
	inj := &targets.Injection{Attack: "slow", Member: targets.Member{Target: "web", ID: "web-2"}}
	hs.m.Update(eventsMsg{
		{Type: gamedays.EvNote, Kind: "note", Msg: "first\tsecond\nthird", Time: t0},
		{Type: gamedays.EvAbort, Source: "key", Msg: "key\nwith\nlines; rolling back 1", Time: t0},
		{Type: gamedays.EvPhase, Phase: "aborted", Time: t0},
		{Type: gamedays.EvRollbackResult, Injection: inj, OK: no(), Result: &targets.Result{Err: "sudo:\ta password\r\nis required\n"}, Time: t0},
		{Type: gamedays.EvVerdict, Verdict: "aborted", Msg: "a\nb\nc", Time: t0},
	})
	hs.m.flash = "one\ntwo"
	for _, open := range []string{"", "t"} {
		if open != "" {
			hs.press(open)
		}
		v := hs.view()
		if lines := strings.Split(v, "\n"); len(lines) != 24 {
			t.Errorf("modal %q: %d lines, want 24:\n%s", open, len(lines), v)
		}
		if strings.ContainsRune(v, '\t') {
			t.Errorf("modal %q: a tab reached the terminal", open)
		}
	}
}

func TestExportWritesTheReportOffTheUpdateLoop(t *testing.T) {
	hs := newHarness(t, stEnded, 80, 24)
	var asked string
	hs.m.writeReport = func(dir string) ([]string, error) {
		asked = dir
		return []string{dir + "/report.md", dir + "/report.html"}, nil
	}
	if cmd := hs.press("e"); cmd != nil {
		t.Fatal("e before the engine returned started an export")
	}
	hs.m.engine = &engineResult{}
	hs.m.Update(engineDoneMsg{})
	cmd := hs.press("e")
	if cmd == nil || asked != "" {
		t.Fatalf("e: cmd %v, writer called in Update: %q", cmd != nil, asked)
	}
	msg := cmd()
	if asked != "/var/lib/gameday/r1" {
		t.Errorf("report written for %q", asked)
	}
	hs.m.Update(msg)
	if !strings.Contains(hs.view(), "report written: /var/lib/gameday/r1/report.html (also report.md)") {
		t.Errorf("no confirmation:\n%s", hs.view())
	}
	hs.m.writeReport = func(string) ([]string, error) { return nil, errConnRefused }
	hs.m.Update(hs.press("e")())
	if !strings.Contains(hs.m.flash, "report failed: connection refused") {
		t.Errorf("flash after a failed export: %q", hs.m.flash)
	}
	// No browser for the PDF: the other formats are written, and said so.
	hs.m.writeReport = func(dir string) ([]string, error) {
		return []string{dir + "/report.html"}, errors.New("report.pdf not written (the other formats were): install chromium")
	}
	hs.m.Update(hs.press("e")())
	if want := "report written: /var/lib/gameday/r1/report.html; but report.pdf not written"; !strings.Contains(hs.m.flash, want) {
		t.Errorf("flash after an export without a PDF: %q, want %q", hs.m.flash, want)
	}
}

// A fault that cut gameday's own link is shown as such, with when the
// host's dead man's switch ends it.
func TestLinkLostIsShown(t *testing.T) {
	hs := newHarness(t, stObserve, 120, 40)
	inj := &targets.Injection{RunID: "r1", Attack: "slow", Kind: "network-latency", Member: targets.Member{Target: "web", ID: "web-2", Addr: "web-2:22"}, Duration: 30 * time.Second}
	ok := true
	expires := hs.m.run.Start.Add(95 * time.Second)
	hs.m.Update(eventsMsg{{Type: gamedays.EvAttackResult, Time: hs.now, Injection: inj, OK: &ok,
		Result: &targets.Result{LinkLost: true, Applied: hs.now, Expires: expires}}})
	v := hs.view()
	for _, want := range []string{"LINK LOST", "switch T+01:35", "then the link to web-2 was lost"} {
		if !strings.Contains(v, want) && !strings.Contains(hs.timeline(), want) {
			t.Errorf("neither the screen nor the timeline says %q:\n%s", want, v)
		}
	}
}

// A fault that ended on its own before its duration is shown as no longer
// active, with when and why, on the screen, in the timeline and on the
// charts.
func TestFaultEndedEarlyIsShown(t *testing.T) {
	hs := newHarness(t, stObserve, 120, 40)
	inj := &targets.Injection{RunID: "r1", Attack: "slow", Kind: "network-latency", Member: targets.Member{Target: "web", ID: "web-2", Addr: "web-2:22"}, Duration: 30 * time.Second}
	ok := true
	hs.m.Update(eventsMsg{{Type: gamedays.EvAttackResult, Time: hs.now, Injection: inj, OK: &ok, Result: &targets.Result{Applied: hs.now}}})
	if v := hs.view(); !strings.Contains(v, "ACTIVE") {
		t.Fatalf("the landed fault is not shown active:\n%s", v)
	}
	hs.m.Update(eventsMsg{{Type: gamedays.EvFaultEnded, Time: hs.now.Add(12 * time.Second), Injection: inj, Source: "fis",
		Msg: "was seen ended 12s into its 30s: FIS experiment EXP1 is stopped: Experiment stopped by stop condition"}})
	v := hs.view()
	for _, want := range []string{"ENDED EARLY", "ended T+", "was seen ended 12s into its 30s"} {
		if !strings.Contains(v, want) {
			t.Errorf("the screen does not say %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "ACTIVE") {
		t.Errorf("the ended fault is still shown active:\n%s", v)
	}
	if tl := hs.timeline(); !strings.Contains(tl, "FAULT ENDED EARLY: slow (network-latency) on web-2 (web-2:22) was seen ended 12s") {
		t.Errorf("timeline:\n%s", tl)
	}
	// The charts mark the attack's stop where its fault was gone, not at
	// the rollback still to come.
	if _, stops := attackMarks(hs.m.run); len(stops) != 1 || !stops[0].Equal(hs.now.Add(12*time.Second)) {
		t.Errorf("the charts' stop marks are %v, want one where the fault was seen ended", stops)
	}
}

// A fault its rollback found already gone is not shown as reverted by
// gameday.
func TestFaultGoneBeforeItsRollbackIsShown(t *testing.T) {
	hs := newHarness(t, stObserve, 120, 40)
	inj := &targets.Injection{RunID: "r1", Attack: "slow", Kind: "network-latency", Member: targets.Member{Target: "web", ID: "web-2", Addr: "web-2:22"}, Duration: 30 * time.Second}
	ok := true
	hs.m.Update(eventsMsg{
		{Type: gamedays.EvAttackResult, Time: hs.now, Injection: inj, OK: &ok, Result: &targets.Result{Applied: hs.now}},
		{Type: gamedays.EvRollbackIntent, Time: hs.now.Add(30 * time.Second), Injection: inj, Msg: "duration over"},
		{Type: gamedays.EvRollbackResult, Time: hs.now.Add(30 * time.Second), Injection: inj, OK: &ok, Result: &targets.Result{Gone: true, Output: "gameday: the fault was no longer in place\ngameday: reverted"}},
	})
	if v := hs.view(); !strings.Contains(v, "found gone") || !strings.Contains(v, "something else ended it") || strings.Contains(v, "✓ reverted") {
		t.Errorf("the screen does not say the fault was gone before its rollback:\n%s", v)
	}
}

// A held verdict too long for one line is wrapped, not cut: what it could
// not cover comes last and must be read.
func TestLongHeldVerdictIsReadWhole(t *testing.T) {
	hs := newHarness(t, stConclude, 80, 24)
	msg := "every expectation held over the attack window; but the fault was no longer in place when its rollback came on 1: slow on web-2 (something other than gameday ended it, when is not known), so the hypothesis was not tested over the whole attack window there"
	hs.m.Update(eventsMsg{{Type: gamedays.EvVerdict, Time: hs.now, Verdict: string(gamedays.VerdictHeld), Msg: msg}})
	v := hs.view()
	flat := strings.Join(strings.Fields(v), " ")
	if !strings.Contains(v, "Verdict: HELD") || !strings.Contains(flat, "not tested over the whole attack window there") {
		t.Errorf("the held verdict is not read whole:\n%s", v)
	}
}

func (hs *harness) timeline() string {
	var b strings.Builder
	hs.m.run.entries(func(e entry) { b.WriteString(e.text + "\n") })
	return b.String()
}

// What preflight warned of is on the blast-radius screen before Y.
func TestBlastRadiusShowsWarnings(t *testing.T) {
	hs := newHarness(t, stBlast, 200, 50)
	inj := &targets.Injection{RunID: "r1", Attack: "slow", Kind: "network-latency", Member: targets.Member{Target: "web", ID: "web-2", Addr: "web-2:22"}, Duration: 30 * time.Second}
	ok := true
	hs.m.Update(eventsMsg{{Type: gamedays.EvPreflight, Time: hs.now, Injection: inj, OK: &ok,
		Warnings: []string{"ssh web-2: spare_control is false: gameday loses web-2 from the inject until its dead man's switch ends the fault, 31s later"}}})
	if v := hs.view(); !strings.Contains(v, "WARNING: ssh web-2: spare_control is false") {
		t.Errorf("the blast radius does not warn:\n%s", v)
	}
}

// Marks and notes name the local user even where $USER is not set, as in
// a container or a service: never "someone".
func TestLocalUserWithoutUSER(t *testing.T) {
	t.Setenv("USER", "")
	t.Setenv("LOGNAME", "")
	u, err := user.Current()
	if err != nil {
		t.Skipf("this account has no name to look up: %v", err)
	}
	if got := localUser(); got == "" || got != u.Username {
		t.Errorf("localUser() = %q without $USER, want the account's name %q", got, u.Username)
	}
	t.Setenv("USER", "ana")
	if got := localUser(); got != "ana" {
		t.Errorf("localUser() = %q, want $USER", got)
	}
}

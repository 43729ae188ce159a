package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// stagedRunbook is testRunbook escalating: one host at 50ms, two at
// 100ms, all three at 200ms, each stage held 20s, priced against an SLO.
var stagedRunbook = strings.NewReplacer(
	"name: checkout survives a slow instance", "name: checkout copes with escalating latency",
	"targets:\n", "slo: {objective: 99.9%, window: 720h}\ntargets:\n",
	"  - {name: slow, target: web, kind: network-latency, params: {interface: eth0, delay: 200ms}, start_after: 5s, duration: 30s}\nobserve: {duration: 40s}\n", `  - name: slow
    target: web
    kind: network-latency
    params: {interface: eth0, delay: 50ms}
    duration: 20s
    stages:
      - {count: 1}
      - {count: 2, params: {delay: 100ms}}
      - {all: true, params: {delay: 200ms}}
observe: {duration: 1m10s}
`).Replace(testRunbook)

func parseStagedRunbook(t testing.TB) *runbook.Runbook {
	t.Helper()
	rb, err := runbook.Parse("escalate.yaml", []byte(stagedRunbook), targets.Default())
	if err != nil || len(rb.Attacks) != 1 || rb.Stages() != 3 || rb.SLO == nil {
		t.Fatalf("the staged runbook: %v, %d stage(s)", err, rb.Stages())
	}
	return rb
}

// stAsk is a staged run asking before each stage, stage 1 held and stage
// 2 waiting 15s to be confirmed.
const stAsk = stEnded + 1

// stagedScriptAt is a staged game day as the engine would publish it: up
// to the blast-radius screen (stBlast), or into the run with stage 1 held
// and stage 2 eight seconds into its hold (stRun), or with stage 2 broken
// (stConclude).
func stagedScriptAt(to stage) ([]gamedays.Event, time.Time) {
	var evs script
	at := evs.at
	web := []targets.Member{
		{Target: "web", ID: "web-1", Addr: "web-1:22"},
		{Target: "web", ID: "web-2", Addr: "web-2:22"},
		{Target: "web", ID: "web-3", Addr: "web-3:22"},
	}
	hits := [][]targets.Member{{web[1]}, {web[1], web[2]}, web}
	delays := []string{"50ms", "100ms", "200ms"}
	words := []string{"1 of web at 50ms", "2 of web at 100ms", "all of web at 200ms"}
	hold := 20 * time.Second
	inj := func(stage int, m targets.Member) *targets.Injection {
		return &targets.Injection{RunID: "r1", Attack: "slow", Kind: "network-latency", Member: m, Stage: stage,
			Params: map[string]string{"interface": "eth0", "delay": delays[stage-1]}, Duration: time.Duration(4-stage) * hold}
	}
	// Each stage starts its new members and re-injects those whose delay
	// it changes: every member it hits, since each stage raises the delay.
	plans := make([]*gamedays.StagePlan, 3)
	for i := range plans {
		p := &gamedays.StagePlan{Of: 3, Hold: hold, Words: words[i], Members: hits[i],
			Params: map[string]map[string]string{"slow": {"interface": "eth0", "delay": delays[i]}}}
		for _, m := range hits[i] {
			p.Starts = append(p.Starts, *inj(i+1, m))
		}
		plans[i] = p
	}
	at(0, gamedays.Event{Type: gamedays.EvRunStart, RunID: "r1", Msg: "checkout copes with escalating latency"})
	at(0, gamedays.Event{Type: gamedays.EvPhase, Phase: "baseline"})
	at(20*time.Second, gamedays.Event{Type: gamedays.EvBaseline, Stats: map[string]gamedays.Stats{
		"p95": {Min: 0.1, Median: 0.11, P95: 0.12, Max: 0.125, Mean: 0.11, Last: 0.11, Count: 20},
	}})
	at(20*time.Second, gamedays.Event{Type: gamedays.EvSteadyState, OK: yes()})
	at(20*time.Second, gamedays.Event{Type: gamedays.EvPhase, Phase: "hypothesis"})
	at(31*time.Second, gamedays.Event{Type: gamedays.EvPhase, Phase: "blast radius"})
	at(31*time.Second, gamedays.Event{Type: gamedays.EvResolved, Target: "web", Members: web})
	seed := int64(3)
	for i, h := range hits {
		at(31*time.Second, gamedays.Event{Type: gamedays.EvSelected, Target: "web", Members: h, Seed: &seed, Stage: i + 1})
	}
	for i, p := range plans {
		at(31*time.Second, gamedays.Event{Type: gamedays.EvStagePlan, Stage: i + 1, Msg: p.Words, StagePlan: p})
	}
	for i, m := range []targets.Member{web[1], web[2], web[0]} { // each member once, at the stage that adds it
		at(32*time.Second, gamedays.Event{Type: gamedays.EvPreflight, Injection: inj(i+1, m), OK: yes()})
	}
	if to == stBlast {
		return evs, t0.Add(33 * time.Second)
	}
	if to == stAsk {
		at(33*time.Second, gamedays.Event{Type: gamedays.EvConfirmEach, OK: yes(), Source: "option"})
	}
	at(40*time.Second, gamedays.Event{Type: gamedays.EvConfirmed, Members: web, Msg: "3 injection(s) confirmed"})
	at(40*time.Second, gamedays.Event{Type: gamedays.EvPhase, Phase: "run"})
	start := 40 * time.Second
	for n := 1; n <= 2; n++ {
		if n == 2 && to == stAsk {
			at(start, gamedays.Event{Type: gamedays.EvStageAsk, Stage: 2, Msg: words[1], StagePlan: plans[1], Until: t0.Add(start + 2*time.Minute)})
			return evs, t0.Add(start + 15*time.Second)
		}
		at(start, gamedays.Event{Type: gamedays.EvStageStart, Stage: n, Msg: words[n-1], StagePlan: plans[n-1]})
		if n > 1 {
			for _, m := range hits[n-2] {
				at(start, gamedays.Event{Type: gamedays.EvRollbackIntent, Injection: inj(n-1, m), Msg: fmt.Sprintf("stage %d changes the magnitude", n)})
				at(start, gamedays.Event{Type: gamedays.EvRollbackResult, Injection: inj(n-1, m), OK: yes(), Result: &targets.Result{Output: "qdisc removed"}})
			}
		}
		for _, m := range hits[n-1] {
			at(start, gamedays.Event{Type: gamedays.EvAttackIntent, Injection: inj(n, m)})
			at(start+time.Second, gamedays.Event{Type: gamedays.EvAttackResult, Injection: inj(n, m), OK: yes(),
				Result: &targets.Result{Output: "qdisc applied: delay " + delays[n-1]}})
		}
		if n == 2 && to == stRun {
			return evs, t0.Add(start + 8*time.Second)
		}
		held := n == 1
		value := map[bool]float64{true: 0.16, false: 0.41}[held]
		at(start+hold, gamedays.Event{Type: gamedays.EvStageResult, Stage: n, OK: &held, Checks: []gamedays.CheckResult{
			{Section: "expect", Panel: "p95", Threshold: "< 300ms", Limit: 0.3, Value: gamedays.Num(value), Held: held},
		}})
		start += hold
	}
	for _, m := range hits[1] {
		at(start, gamedays.Event{Type: gamedays.EvRollbackIntent, Injection: inj(2, m), Msg: "refuted at stage 2"})
		at(start, gamedays.Event{Type: gamedays.EvRollbackResult, Injection: inj(2, m), OK: yes(), Result: &targets.Result{Output: "qdisc removed"}})
	}
	at(start, gamedays.Event{Type: gamedays.EvPhase, Phase: "conclude"})
	at(start, gamedays.Event{Type: gamedays.EvVerdict, Verdict: "refuted", Msg: "held through stage 1 of 3 (1 of web at 50ms); refuted at stage 2: p95 410ms > 300ms"})
	return evs, t0.Add(start + 5*time.Second)
}

// stagedConsole is a console for the staged script up to a stage, with
// the whole error budget left, and the events the engine published.
func stagedConsole(t *testing.T, to stage) (*Console, []gamedays.Event) {
	t.Helper()
	rb := parseStagedRunbook(t)
	evs, now := stagedScriptAt(to)
	obs := newStaticObserver(rb, instances, int(now.Sub(t0)/time.Second)+1, now, false)
	c := New(Config{Runbook: rb, File: "escalate.yaml", RunDir: "/var/lib/gameday/r1", Metrics: obs, Version: "test",
		Remaining: func(context.Context) (float64, error) { return 1, nil }})
	c.clock = func() time.Time { return now }
	t.Cleanup(c.close)
	return c, append(evs, liveAfter(rb, obs, evs, now))
}

// stagedModel is a console's model that has seen the staged script up to
// a stage, at 120×40.
func stagedModel(t *testing.T, to stage) *model {
	t.Helper()
	return stagedModelTo(t, to, &fakeSender{})
}

// stagedModelTo is stagedModel sending its intents to f.
func stagedModelTo(t *testing.T, to stage, f *fakeSender) *model {
	t.Helper()
	c, evs := stagedConsole(t, to)
	m := c.newModel(f, nil)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(eventsMsg(evs))
	return m
}

// TestGoldenStaged renders the stage plan before anything runs and the
// stage under way. Refresh with: go test ./ui -run TestGoldenStaged -update
func TestGoldenStaged(t *testing.T) {
	cases := []goldenStage{
		{"blast_radius", stBlast, "% of the"},
		{"run", stRun, "Δ"},
		{"stage_waits", stAsk, "Δ"},
	}
	for _, tc := range cases {
		atSizes(t, tc.name, goldenSizes, func(t *testing.T, sz [2]int) {
			c, evs := stagedConsole(t, tc.stage)
			for _, ev := range evs {
				c.OnEvent(ev)
			}
			requireGoldenView(t, c, sz, tc.wait, nil, "")
		})
	}
}

// The blast-radius screen shows every stage's members and magnitude, and
// prices the whole escalation, before Y.
func TestStagePlanBeforeConfirm(t *testing.T) {
	m := stagedModel(t, stBlast)
	blast := m.screens[gamedays.PhaseBlastRadius].(*blastScreen)
	blast.budget.asked = false // the events asked in a command they returned; run it here
	m.Update(blast.askBudget()())
	v := m.View()
	grid := map[string][]string{ // member → its cells, stage by stage
		"web-2": {"50ms", "100ms", "200ms"},
		"web-3": {"·", "100ms", "200ms"},
		"web-1": {"·", "·", "200ms"},
	}
	for member, cells := range grid {
		line := lineWith(v, member+" ")
		if got := strings.Fields(line); len(got) < 4 || strings.Join(got[1:4], " ") != strings.Join(cells, " ") {
			t.Errorf("row of %s = %q, want cells %v", member, line, cells)
		}
	}
	if line := lineWith(v, "hosts"); strings.Join(strings.Fields(line), " ") != "hosts 1 of 3 2 of 3 3 of 3" {
		t.Errorf("hosts row = %q", line)
	}
	// 1/3 of the hosts for 20s, 2/3 for 20s, all for 20s: 40s of outage.
	if !strings.Contains(v, "planned blast costs up to 40s of error budget") {
		t.Errorf("the whole staged plan is not priced:\n%s", v)
	}
	if strings.Contains(v, "STAGE") || !strings.Contains(v, "Press Y") {
		t.Errorf("before the run, a stage is shown under way or Y is not asked for:\n%s", v)
	}
}

// During the run the header and the attacks say the stage under way, and
// how the ones before went.
func TestCurrentStageDuringRun(t *testing.T) {
	m := stagedModel(t, stRun)
	v := m.View()
	for _, want := range []string{
		"RUN · STAGE 2/3",
		"Stage 2 of 3: 2 of web at 100ms; judged in 0:12",
		"stage 1 ✓ held", "stage 2 ● now",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the run lacks %q:\n%s", want, v)
		}
	}
	if line := lineWith(v, "slow   web-1"); !strings.Contains(line, "pending    at stage 3") {
		t.Errorf("web-1, first hit at stage 3, is not shown as due then: %q", line)
	}
	m = stagedModel(t, stConclude)
	if s := m.run; s.Stage != 2 || len(s.StageOutcomes()) != 2 {
		t.Fatalf("the fold has stage %d and %d outcomes, want 2 and 2", s.Stage, len(s.StageOutcomes()))
	}
	if v := strings.Join(m.screens[gamedays.PhaseRun].View(), "\n"); !strings.Contains(v, "Stage 2 of 3: 2 of web at 100ms; BROKE the hypothesis") {
		t.Errorf("the broken stage is not said:\n%s", v)
	}
}

// lineWith is the first line of v containing s, without styling.
func lineWith(v, s string) string {
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// A responder in a drill is told nothing of the stages: their plans name
// the members and the magnitude.
func TestRedactedStages(t *testing.T) {
	evs, _ := stagedScriptAt(stRun)
	s := newRunState(parseStagedRunbook(t))
	s.redacted = true
	for _, ev := range evs {
		if ev, keep := redactEvent(ev); keep {
			if ev.StagePlan != nil {
				t.Fatalf("a %s event kept its stage plan", ev.Type)
			}
			s.apply(ev)
		}
	}
	if len(s.Stages) != 0 || s.stageTag() != "" {
		t.Errorf("a responder sees %d stage(s), tag %q", len(s.Stages), s.stageTag())
	}
	// Nor the words of any stage event: they name members and magnitude.
	askEvs, _ := stagedScriptAt(stAsk)
	for _, ev := range askEvs {
		if ev, keep := redactEvent(ev); keep && (strings.Contains(ev.Msg, "of web at") || ev.Type == gamedays.EvConfirmEach) {
			t.Errorf("a responder is sent %s: %q", ev.Type, ev.Msg)
		}
	}
}

// Asking before each stage: the blast radius says so and offers s to stop;
// after stage 1 holds, the run says stage 2 waits for Y and until when, Y
// sends the confirmation, and s turns asking off.
func TestStageWaitsForY(t *testing.T) {
	sent := &fakeSender{}
	m := stagedModelTo(t, stAsk, sent)
	v := m.View()
	for _, want := range []string{
		"Stage 1 of 3 held. Press Y to start stage 2 (2 of web at 100ms); without it the run aborts in 1:45",
		"Y start stage 2", "s stop asking before each stage",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the run lacks %q:\n%s", want, v)
		}
	}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("Y")})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("s")})
	if got := sent.intents(); len(got) != 2 || got[0].Type != gamedays.IntentConfirm || got[1].Type != gamedays.IntentConfirmEach || got[1].Text != "off" {
		t.Fatalf("sent %+v; want a confirmation, then asking turned off", got)
	}

	sent = &fakeSender{}
	m = stagedModelTo(t, stBlast, sent)
	if v := m.View(); !strings.Contains(v, "s ask before each stage") {
		t.Errorf("the staged blast radius does not offer s:\n%s", v)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("s")})
	if got := sent.intents(); len(got) != 1 || got[0].Type != gamedays.IntentConfirmEach || got[0].Text != "on" {
		t.Fatalf("sent %+v; want asking turned on", got)
	}
	m = stagedModel(t, stAsk)
	blast := m.screens[gamedays.PhaseBlastRadius].(*blastScreen)
	if v := strings.Join(blast.View(), "\n"); !strings.Contains(v, "Each stage after the first waits for Y before it starts") {
		t.Errorf("the blast radius does not say each stage waits:\n%s", v)
	}
}

// Each stage after the first is marked on the charts where it began, as
// an attack start; a responder's charts show no stage.
func TestEscalationsMarkTheCharts(t *testing.T) {
	m := stagedModel(t, stRun)
	got := m.run.escalations()
	if st := m.run.StageN(2); len(got) != 1 || st == nil || !got[0].Equal(st.Started) {
		t.Fatalf("escalations %v; want stage 2's start only", got)
	}
	m.run.redacted = true
	if got := m.run.escalations(); len(got) != 0 {
		t.Errorf("a responder's charts mark %v", got)
	}
}

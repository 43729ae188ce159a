package report

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/targets"
)

var writeFixtures = flag.Bool("write-fixtures", false, "rewrite the fixture journals under testdata/journals")

// fixtureRunbook is recorded in every fixture's run.start, as the engine does.
const fixtureRunbook = `version: 1
name: checkout survives slow instances
roles:
  facilitator: {name: Ana}
  scribe: {name: Ben}
  observers: [{name: Chen}]
metrics:
  step: 1s
  panels:
    p95: {query: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="checkout"}[1m])))', unit: seconds, title: P95 latency}
    error_rate: {query: 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[1m])) / sum(rate(http_requests_total{job="checkout"}[1m]))', unit: ratio, title: Error rate}
baseline:
  duration: 1m
  steady_state: {p95: "< 300ms", error_rate: "< 1%"}
hypothesis:
  statement: Adding 200ms to one of three instances keeps P95 under twice the baseline and errors under 2%.
  expect: {p95: "< baseline * 2", error_rate: "< 2%"}
guardrails:
  p95: "> 1s for 10s"
  error_rate: "> 10% for 10s"
  metrics_blind: 30s
targets:
  checkout: {ssh: {hosts: [checkout-1, checkout-2, checkout-3], user: gameday, sudo: true}}
blast_radius:
  checkout: {count: 1, seed: 7}
attacks:
  - {name: slow network, target: checkout, kind: network-latency, params: {delay: 200ms, interface: eth0}, start_after: 10s, duration: 1m}
observe: {duration: 2m}
`

// scenario shapes a synthetic journal: the events follow the engine's own
// order (see gamedays/phases.go), with numbers chosen for each ending.
type scenario struct {
	name     string
	baseP95  float64       // latency before and after the attack
	hitP95   float64       // latency while the attack is applied
	hitErr   float64       // error rate while the attack is applied
	blocked  bool          // steady state fails: nothing is injected
	abortAt  time.Duration // guardrail abort this long into the attack; 0 = none
	crashAt  time.Duration // journal stops (mid-line) this long into the attack; 0 = none
	baseline time.Duration
	attack   time.Duration
	observe  time.Duration
	step     time.Duration
	members  int // members attacked; 0 means one
}

var scenarios = []scenario{
	{name: "held", baseP95: 0.120, hitP95: 0.180, hitErr: 0.004},
	{name: "refuted", baseP95: 0.120, hitP95: 0.390, hitErr: 0.031},
	{name: "aborted", baseP95: 0.120, hitP95: 1.600, hitErr: 0.02, abortAt: 25 * time.Second},
	{name: "crashed", baseP95: 0.120, hitP95: 0.180, hitErr: 0.004, crashAt: 30 * time.Second},
	{name: "blocked", baseP95: 0.340, hitP95: 0.340, hitErr: 0.002, blocked: true},
}

func (s scenario) defaults() scenario {
	if s.baseline == 0 {
		s.baseline = time.Minute
	}
	if s.attack == 0 {
		s.attack = time.Minute
	}
	if s.observe == 0 {
		s.observe = 2 * time.Minute
	}
	if s.step == 0 {
		s.step = time.Second
	}
	return s
}

// wobble is a deterministic ripple, so charts look like a live system and
// goldens stay stable.
func wobble(i int) float64 { return math.Sin(float64(i)*0.7) * 0.5 }

func truth(b bool) *bool { return &b }

// writeScenario writes the journal of one synthetic run to path.
func writeScenario(t testing.TB, path string, s scenario) {
	t.Helper()
	s = s.defaults()
	start := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	clock := gamedays.NewManualClock(start)
	j, err := gamedays.CreateJournal(path, clock)
	if err != nil {
		t.Fatal(err)
	}
	emit := func(ev gamedays.Event) {
		if _, err := j.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	phase := "baseline"
	emitP := func(ev gamedays.Event) { ev.Phase = phase; emit(ev) }
	setPhase := func(p string) { phase = p; emitP(gamedays.Event{Type: gamedays.EvPhase}) }
	applied := false
	i := 0
	p95At := func() float64 {
		base := s.baseP95 * (1 + 0.08*wobble(i))
		if applied {
			return s.hitP95 * (1 + 0.1*wobble(i+3))
		}
		return base
	}
	errAt := func() float64 {
		if applied {
			return s.hitErr * (1 + 0.2*wobble(i+1))
		}
		return 0.002 * (1 + 0.3*wobble(i+2))
	}
	var p95s, errs []gamedays.Sample
	// tick advances the clock by steps, sampling as it goes, and journals
	// the samples in batches of 30 as a recorder would.
	tick := func(d time.Duration, stop func() bool) bool {
		for el := time.Duration(0); el < d; el += s.step {
			clock.Advance(s.step)
			i++
			now := clock.Now()
			p95s = append(p95s, gamedays.Sample{Panel: "p95", T: now, V: gamedays.Num(p95At())})
			errs = append(errs, gamedays.Sample{Panel: "error_rate", T: now, V: gamedays.Num(errAt())})
			if len(p95s) >= 30 {
				emitP(gamedays.Event{Type: gamedays.EvSample, Samples: p95s})
				emitP(gamedays.Event{Type: gamedays.EvSample, Samples: errs})
				p95s, errs = nil, nil
			}
			if stop != nil && stop() {
				return true
			}
		}
		return false
	}
	flush := func() {
		if len(p95s) > 0 {
			emitP(gamedays.Event{Type: gamedays.EvSample, Samples: p95s})
			emitP(gamedays.Event{Type: gamedays.EvSample, Samples: errs})
			p95s, errs = nil, nil
		}
	}

	emit(gamedays.Event{Type: gamedays.EvRunStart, RunID: "20261123T093000Z-" + s.name, Msg: "checkout survives slow instances",
		Runbook: fixtureRunbook, File: "runbooks/checkout-slow.yaml", Version: "v0.4.0"})
	setPhase("baseline")
	tick(s.baseline, nil)
	flush()
	bp95 := gamedays.Num(s.baseP95)
	emitP(gamedays.Event{Type: gamedays.EvBaseline, Stats: map[string]gamedays.Stats{
		"p95":        {Min: bp95 * 0.92, Median: bp95, P95: bp95 * 1.07, Max: bp95 * 1.08, Mean: bp95, Last: bp95, Count: int(s.baseline / s.step)},
		"error_rate": {Min: 0.0014, Median: 0.002, P95: 0.0026, Max: 0.0026, Mean: 0.002, Last: 0.002, Count: int(s.baseline / s.step)},
	}})
	steady := []gamedays.CheckResult{
		{Section: "steady_state", Panel: "p95", Threshold: "< 300ms", Limit: 0.3, Value: bp95 * 1.07, Baseline: gamedays.Num(math.NaN()),
			Held: s.baseP95*1.07 < 0.3, From: start, To: clock.Now(), Text: "p95 p95 of 60 steps " + fmtS(float64(bp95)*1.07) + " < 300ms"},
		{Section: "steady_state", Panel: "error_rate", Threshold: "< 1%", Limit: 0.01, Value: 0.0026, Baseline: gamedays.Num(math.NaN()),
			Held: true, From: start, To: clock.Now(), Text: "error_rate p95 of 60 steps 0.26% < 1%"},
	}
	emitP(gamedays.Event{Type: gamedays.EvSteadyState, Checks: steady, OK: truth(!s.blocked)})
	if s.blocked {
		emitP(gamedays.Event{Type: gamedays.EvNote, Author: "Ana", Kind: "note", Msg: "p95 is already high this morning; the deploy at 09:00 is suspect"})
		emitP(gamedays.Event{Type: gamedays.EvNote, Author: "Ben", Kind: "action", Msg: "find out why checkout P95 sits at 340ms since the 09:00 deploy"})
		emitP(gamedays.Event{Type: gamedays.EvVerdict, Verdict: "blocked", Msg: "steady state does not hold: " + steady[0].Text})
		emit(gamedays.Event{Type: gamedays.EvRunEnd, Phase: "done", Verdict: "blocked", Msg: "steady state does not hold: " + steady[0].Text})
		closeJournal(t, j)
		return
	}

	setPhase("hypothesis")
	expect := []gamedays.CheckResult{
		{Section: "expect", Panel: "p95", Threshold: "< baseline * 2", Limit: bp95 * 2, Value: gamedays.Num(math.NaN()), Baseline: bp95,
			Text: "p95 < " + fmtS(float64(bp95)*2) + " (baseline " + fmtS(float64(bp95)) + " × 2)"},
		{Section: "expect", Panel: "error_rate", Threshold: "< 2%", Limit: 0.02, Value: gamedays.Num(math.NaN()), Baseline: gamedays.Num(math.NaN()), Text: "error_rate < 2%"},
	}
	emitP(gamedays.Event{Type: gamedays.EvHypothesis, Msg: "Adding 200ms to one of three instances keeps P95 under twice the baseline and errors under 2%.", Checks: expect})
	emitP(gamedays.Event{Type: gamedays.EvNote, Author: "Ben", Kind: "prediction", Msg: "P95 goes to about 180ms; nobody pages"})
	clock.Advance(20 * time.Second)

	setPhase("blast radius")
	all := []targets.Member{{Target: "checkout", ID: "checkout-1"}, {Target: "checkout", ID: "checkout-2"}, {Target: "checkout", ID: "checkout-3"}}
	var more []targets.Member // members attacked beside checkout-2
	for k := 1; k < s.members; k++ {
		more = append(more, targets.Member{Target: "checkout", ID: fmt.Sprintf("checkout-%d", k+3)})
	}
	seed := int64(7)
	emitP(gamedays.Event{Type: gamedays.EvResolved, Target: "checkout", Members: append(slices.Clone(all), more...)})
	emitP(gamedays.Event{Type: gamedays.EvSelected, Target: "checkout", Members: append(slices.Clone(all[1:2]), more...), Seed: &seed})
	// emitAll journals an event of checkout-2's injection, then the same
	// for every other member attacked.
	emitAll := func(ev gamedays.Event) {
		emitP(ev)
		for _, m := range more {
			e, inj := ev, *ev.Injection
			inj.Member = m
			e.Injection = &inj
			emitP(e)
		}
	}
	inj := &targets.Injection{RunID: "20261123T093000Z-" + s.name, Attack: "slow network", Kind: "network-latency", Member: all[1],
		Params: map[string]string{"delay": "200ms", "interface": "eth0"}, Duration: s.attack}
	emitAll(gamedays.Event{Type: gamedays.EvPreflight, Injection: inj, OK: truth(true)})
	clock.Advance(15 * time.Second)
	emitP(gamedays.Event{Type: gamedays.EvConfirmed, Members: all[1:2], Msg: "1 injection(s) confirmed"})

	setPhase("run")
	runStart := clock.Now()
	tick(10*time.Second, nil)
	emitAll(gamedays.Event{Type: gamedays.EvAttackIntent, Injection: inj})
	withState := *inj
	withState.State = map[string]string{"deadman": "gameday-deadman-slow-network.service"}
	applied = true
	emitAll(gamedays.Event{Type: gamedays.EvAttackResult, Injection: &withState, OK: truth(true),
		Result: &targets.Result{Output: "tc qdisc add dev eth0 root netem delay 200ms\nscheduled rollback in 1m30s as gameday-deadman-slow-network.service"}})

	if s.crashAt > 0 {
		tick(s.crashAt, nil)
		flush()
		emitP(gamedays.Event{Type: gamedays.EvNote, Author: "Chen", Kind: "note", Msg: "dashboards lag by a minute"})
		closeJournal(t, j)
		// The process dies in the middle of the next line.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(`{"v":1,"seq":999,"time":"2026-11-23T09:33:`)
		f.Close()
		return
	}
	if s.abortAt > 0 {
		tick(s.abortAt, nil)
		flush()
		msg := "guardrail p95 > 1s for 10s: p95 above 1s for 10s (max " + fmtS(s.hitP95*1.05) + ")"
		emitP(gamedays.Event{Type: gamedays.EvGuardrail, Msg: msg, Checks: []gamedays.CheckResult{{Section: "guardrail", Panel: "p95", Threshold: "> 1s for 10s",
			Value: gamedays.Num(s.hitP95 * 1.05), Limit: 1, Baseline: gamedays.Num(math.NaN()), Text: "p95 above 1s for 10s (max " + fmtS(s.hitP95*1.05) + ")"}}})
		phase = "aborted"
		emitP(gamedays.Event{Type: gamedays.EvAbort, Source: "guardrail", Msg: msg + "; rolling back 1 injection(s)"})
		emitP(gamedays.Event{Type: gamedays.EvPhase})
		emitAll(gamedays.Event{Type: gamedays.EvRollbackIntent, Injection: &withState, Msg: "abort"})
		clock.Advance(2 * time.Second)
		applied = false
		emitAll(gamedays.Event{Type: gamedays.EvRollbackResult, Injection: &withState, OK: truth(true), Result: &targets.Result{Output: "tc qdisc del dev eth0 root\ncancelled gameday-deadman-slow-network.service"}})
		emitP(gamedays.Event{Type: gamedays.EvVerdict, Verdict: "aborted", Msg: msg})
		emitP(gamedays.Event{Type: gamedays.EvNote, Author: "Ana", Kind: "finding", Msg: "one slow instance drags the whole P95 past 1s: the load balancer keeps sending it a third of the traffic"})
		emitP(gamedays.Event{Type: gamedays.EvNote, Author: "Ben", Kind: "action", Msg: "enable outlier ejection on the checkout load balancer"})
		emit(gamedays.Event{Type: gamedays.EvRunEnd, Phase: "done", Verdict: "aborted", Msg: msg})
		closeJournal(t, j)
		return
	}
	tick(s.attack/2, nil)
	emitP(gamedays.Event{Type: gamedays.EvNote, Author: "Chen", Kind: "note", Msg: "checkout-2 shows up slow in the traces, the others do not"})
	tick(s.attack/2, nil)
	emitAll(gamedays.Event{Type: gamedays.EvRollbackIntent, Injection: &withState, Msg: "duration over"})
	applied = false
	emitAll(gamedays.Event{Type: gamedays.EvRollbackResult, Injection: &withState, OK: truth(true), Result: &targets.Result{Output: "tc qdisc del dev eth0 root"}})
	attackEnd := clock.Now()
	setPhase("observe")
	tick(s.observe-s.attack-10*time.Second, nil)
	flush()

	setPhase("conclude")
	held := s.hitP95*1.1 < s.baseP95*2
	errHeld := s.hitErr*1.2 < 0.02
	judged := []gamedays.CheckResult{
		{Section: "expect", Panel: "p95", Threshold: "< baseline * 2", Limit: bp95 * 2, Value: gamedays.Num(s.hitP95 * 1.1), Baseline: bp95, Held: held,
			From: runStart, To: attackEnd, Text: "p95 max " + fmtS(s.hitP95*1.1) + " vs < " + fmtS(float64(bp95)*2) + " (baseline " + fmtS(float64(bp95)) + " × 2)"},
		{Section: "expect", Panel: "error_rate", Threshold: "< 2%", Limit: 0.02, Value: gamedays.Num(s.hitErr * 1.2), Baseline: gamedays.Num(math.NaN()), Held: errHeld,
			From: runStart, To: attackEnd, Text: "error_rate max " + pct(s.hitErr*1.2) + " vs < 2%"},
	}
	emitP(gamedays.Event{Type: gamedays.EvExpectation, Checks: judged})
	verdict, reason := "held", "every expectation held over the attack window"
	if !held || !errHeld {
		verdict, reason = "refuted", ""
		for _, c := range judged {
			if !c.Held {
				if reason != "" {
					reason += "; "
				}
				reason += c.Text
			}
		}
	}
	emitP(gamedays.Event{Type: gamedays.EvVerdict, Verdict: verdict, Msg: reason})
	if verdict == "refuted" {
		emitP(gamedays.Event{Type: gamedays.EvNote, Author: "Ana", Kind: "finding", Msg: "retries on the slow instance double the load on the other two; errors follow"})
		emitP(gamedays.Event{Type: gamedays.EvNote, Author: "Ben", Kind: "action", Msg: "cap client retries at one, with jitter"})
	} else {
		emitP(gamedays.Event{Type: gamedays.EvNote, Author: "Ana", Kind: "finding", Msg: "P95 rose by about 50% with one slow instance in three, as predicted"})
	}
	emitP(gamedays.Event{Type: gamedays.EvNote, Author: "Ben", Kind: "action", Msg: "repeat with two slow instances next quarter"})
	clock.Advance(30 * time.Second)
	emit(gamedays.Event{Type: gamedays.EvRunEnd, Phase: "done", Verdict: verdict, Msg: reason})
	closeJournal(t, j)
}

func closeJournal(t testing.TB, j *gamedays.Journal) {
	t.Helper()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

func fmtS(v float64) string { return formatAs(v, "seconds") }
func pct(v float64) string  { return formatAs(v, "ratio") }

// TestWriteFixtures regenerates the fixture journals; run with
// -write-fixtures, then refresh the goldens with -update-golden.
func TestWriteFixtures(t *testing.T) {
	if !*writeFixtures {
		t.Skip("run with -write-fixtures to rewrite testdata/journals")
	}
	dir := filepath.Join("testdata", "journals")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range scenarios {
		path := filepath.Join(dir, s.name+".jsonl")
		os.Remove(path)
		writeScenario(t, path, s)
	}
}

// wantIn fails t for each of wants that text lacks; what names the text
// in the message.
func wantIn(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, text)
		}
	}
}

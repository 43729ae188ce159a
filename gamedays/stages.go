package gamedays

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Events of a staged run.
const (
	EvStagePlan   = "stage.plan"   // one per stage, before confirmation: what it will hit, and how hard
	EvStageStart  = "stage.start"  // the stage begins: its injections follow
	EvStageResult = "stage.result" // its hold is over: its expectations, judged over its own window
)

// StagePlan is one stage as it is shown before anything runs.
type StagePlan struct {
	Of    int           `json:"of"`
	Hold  time.Duration `json:"hold"`
	Words string        `json:"words"` // "50% of checkout at 200ms"
	// Members is every member hit while the stage holds.
	Members []targets.Member `json:"members"`
	// Params is what each attack runs with during the stage.
	Params map[string]map[string]string `json:"params"`
	// Starts are the injections the stage makes: members it adds, and
	// members whose magnitude it changes (rolled back, then re-injected).
	Starts []targets.Injection `json:"starts,omitempty"`
}

// StageOutcome is how one stage went.
type StageOutcome struct {
	Stage, Of int
	Words     string
	Held      bool
	Checks    []CheckResult
	From, To  time.Time
}

// stageStep is one stage of the engine's plan.
type stageStep struct {
	n      int
	plan   StagePlan
	inject []planned
}

// stageKey names one attack on one member across stages.
type stageKey struct{ attack, target, member string }

func stageKeyOf(inj *targets.Injection) stageKey {
	return stageKey{inj.Attack, inj.Member.Target, inj.Member.ID}
}

func (e *Engine) currentStage() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stage
}

// stagedBlastRadius resolves every target once and selects each stage's
// members from one seeded shuffle, so a stage contains the one before. It
// journals every stage's plan, preflights each attack on each member once,
// and returns those first injections for confirmation.
func (e *Engine) stagedBlastRadius(ctx context.Context) ([]planned, error) {
	resolved := map[string][]targets.Member{}
	seeds := map[string]int64{}
	for _, t := range e.attackedTargets() {
		all, seed, err := e.resolve(ctx, t)
		if err != nil {
			return nil, err
		}
		resolved[t.Name], seeds[t.Name] = all, seed
	}
	n := e.rb.Stages()
	holds := StageHolds(e.rb)
	live := map[stageKey]string{} // the params each attack on each member runs with now
	prev := map[string][]targets.Member{}
	var first []planned
	for i := range n {
		step := &stageStep{n: i + 1, plan: StagePlan{Of: n, Hold: holds[i], Params: map[string]map[string]string{}}}
		var remaining time.Duration
		for _, h := range holds[i:] {
			remaining += h
		}
		var words []string
		seen := map[stageKey]bool{}
		for _, a := range e.rb.Attacks {
			t, _ := e.rb.Target(a.Target)
			exec := e.opts.Executors[t.Family()]
			if exec == nil {
				return nil, fmt.Errorf("attack %q: no executor for %s targets", a.Name, t.Family())
			}
			br := e.rb.StageBlastRadius(a, i)
			seed := seeds[a.Target]
			chosen, err := Select(resolved[a.Target], br, seed)
			if err != nil {
				return nil, fmt.Errorf("attack %q stage %d: target %s: %w", a.Name, i+1, a.Target, err)
			}
			if lost := missing(prev[a.Name], chosen); len(lost) > 0 {
				return nil, fmt.Errorf("attack %q stage %d selects %d member(s), fewer than stage %d's %d (%s would be dropped); each stage hits at least the members of the one before", a.Name, i+1, len(chosen), i, len(prev[a.Name]), strings.Join(lost, ", "))
			}
			prev[a.Name] = chosen
			e.emit(Event{Type: EvSelected, Target: a.Target, Members: chosen, Seed: &seed, Stage: i + 1})
			params, err := e.canonical(a, a.StageParams(i))
			if err != nil {
				return nil, fmt.Errorf("attack %q stage %d: %w", a.Name, i+1, err)
			}
			step.plan.Params[a.Name] = params
			sig := fmt.Sprint(params)
			for _, m := range chosen {
				k := stageKey{a.Name, m.Target, m.ID}
				if !seen[stageKey{"", m.Target, m.ID}] {
					seen[stageKey{"", m.Target, m.ID}] = true
					step.plan.Members = append(step.plan.Members, m)
				}
				was, hit := live[k]
				if hit && was == sig {
					continue // same member, same magnitude: its fault stays
				}
				live[k] = sig
				p := planned{attack: a, exec: exec, inj: &targets.Injection{
					RunID: e.opts.RunID, Attack: a.Name, Kind: a.Kind, Member: m, Params: params, Engine: a.Engine,
					Duration: remaining, Stage: i + 1,
				}}
				step.inject = append(step.inject, p)
				step.plan.Starts = append(step.plan.Starts, *p.inj)
				if !hit {
					first = append(first, p)
				}
			}
			words = append(words, fmt.Sprintf("%s of %s%s", radiusWords(br), a.Target, magnitudeWords(a, i)))
		}
		step.plan.Words = strings.Join(words, "; ")
		e.stages = append(e.stages, step)
	}
	for _, st := range e.stages {
		e.emit(Event{Type: EvStagePlan, Stage: st.n, Msg: st.plan.Words, StagePlan: &st.plan})
	}
	if e.confirmEach() {
		on := true
		e.emit(Event{Type: EvConfirmEach, OK: &on, Source: "option"})
	}
	if err := e.preflight(ctx, first); err != nil {
		return nil, err
	}
	return first, nil
}

// StageHolds is how long each stage of rb holds: stages of several attacks
// last as long as the longest.
func StageHolds(rb *runbook.Runbook) []time.Duration {
	holds := make([]time.Duration, rb.Stages())
	for _, a := range rb.Attacks {
		for i, st := range a.Stages {
			holds[i] = max(holds[i], st.Hold)
		}
	}
	return holds
}

// missing lists the IDs of was that are not in now.
func missing(was, now []targets.Member) []string {
	var out []string
	for _, m := range was {
		if !slices.ContainsFunc(now, func(n targets.Member) bool { return n.ID == m.ID }) {
			out = append(out, m.ID)
		}
	}
	return out
}

func radiusWords(br runbook.BlastRadius) string {
	switch {
	case br.All:
		return "all"
	case br.Percent > 0:
		return fmt.Sprintf("%g%%", br.Percent)
	}
	return fmt.Sprint(br.Count)
}

// magnitudeWords says the params the stages change, as they stand at stage
// i: " at 200ms" for one, " at delay=200ms, jitter=20ms" for several.
func magnitudeWords(a runbook.Attack, i int) string {
	changed := map[string]bool{}
	for _, st := range a.Stages {
		for k := range st.Params {
			changed[k] = true
		}
	}
	if len(changed) == 0 {
		return ""
	}
	params := a.StageParams(i)
	keys := slices.Sorted(maps.Keys(changed))
	if len(keys) == 1 {
		return " at " + params[keys[0]]
	}
	parts := make([]string, len(keys))
	for j, k := range keys {
		parts[j] = k + "=" + params[k]
	}
	return " at " + strings.Join(parts, ", ")
}

// runStages runs the stages in order. Each stage first rolls back the
// members whose magnitude it changes, injects its new members and new
// magnitudes, holds while the guardrails watch, and is judged over its own
// hold. The first stage that does not hold ends the escalation; then
// everything is rolled back, newest stage first.
func (e *Engine) runStages(ctx context.Context) error {
	t0 := e.opts.Clock.Now()
	e.mu.Lock()
	e.start = t0
	e.coverWaitsLocked()
	e.mu.Unlock()
	e.startSamples(t0)
	defer e.flushSamples(true)
	live := map[stageKey]planned{}
	why := "stages over"
	for _, st := range e.stages {
		if e.aborted() {
			return errAborted
		}
		if st.n > 1 {
			if err := e.confirmStage(ctx, st); err != nil {
				return err
			}
		}
		e.mu.Lock()
		e.stage = st.n
		e.mu.Unlock()
		e.emit(Event{Type: EvStageStart, Msg: st.plan.Words, StagePlan: &st.plan})
		var old []planned
		for _, p := range st.inject {
			if o, ok := live[stageKeyOf(p.inj)]; ok {
				old = append(old, o)
			}
		}
		change := fmt.Sprintf("stage %d changes the magnitude", st.n)
		if errs := e.fanOut(ctx, old, func(_ context.Context, p planned) error {
			ctx, cancel := context.WithTimeout(context.Background(), e.rollbackDeadline(p.inj))
			defer cancel()
			return e.rollback(ctx, p.exec, p.inj, change)
		}); len(errs) > 0 {
			// Injecting the new magnitude over an old one that may remain
			// would test neither.
			e.deliver(Intent{Type: IntentAbort, Source: "rollback failed", Text: strings.Join(errs, "; ")})
			return errAborted
		}
		e.mu.Lock()
		e.planned += len(st.inject)
		e.mu.Unlock()
		e.fanOut(ctx, st.inject, func(ctx context.Context, p planned) error { return e.inject(ctx, p) })
		for _, p := range st.inject {
			live[stageKeyOf(p.inj)] = p
		}
		if e.aborted() {
			return errAborted
		}
		from := e.opts.Clock.Now()
		if err := e.sleep(ctx, from.Add(st.plan.Hold), true); err != nil {
			return err
		}
		so := e.judgeStage(st, from, e.opts.Clock.Now())
		if !so.Held {
			why = fmt.Sprintf("refuted at stage %d", st.n)
			break
		}
	}
	e.rollbackStages(why)
	return e.observeRecovery(ctx)
}

// observeRecovery watches, under the guardrails, what observe.duration
// asks beyond the escalation's planned length, after everything is rolled
// back: the recovery. Each stage was watched and judged over its own hold,
// so the escalation itself is the run phase; without more to watch there
// is no observe phase. It is counted from the rollback, not from the start,
// so a run refuted at stage 1 watches its recovery as long as one that
// held through every stage.
func (e *Engine) observeRecovery(ctx context.Context) error {
	extra := e.rb.Observe.Duration - e.rb.AttacksEnd()
	if extra <= 0 || e.aborted() {
		return nil
	}
	e.setPhase(PhaseObserve)
	return e.sleep(ctx, e.opts.Clock.Now().Add(extra), true)
}

// judgeStage checks every expectation over the stage's own hold, against
// the one baseline.
func (e *Engine) judgeStage(st *stageStep, from, to time.Time) StageOutcome {
	so := StageOutcome{Stage: st.n, Of: len(e.stages), Words: st.plan.Words, Held: true, From: from, To: to}
	for _, c := range e.rb.Hypothesis.Expect {
		if e.eval == nil {
			break
		}
		cr := checkResult("expect", e.eval.Check(c, from, to))
		so.Checks = append(so.Checks, cr)
		so.Held = so.Held && cr.Held
	}
	e.mu.Lock()
	e.stageOut = append(e.stageOut, so)
	e.mu.Unlock()
	ok := so.Held
	e.emit(Event{Type: EvStageResult, OK: &ok, Msg: st.plan.Words, Checks: so.Checks})
	return so
}

// rollbackStages reverts what the stages injected, newest stage first and
// each stage's members all at once.
func (e *Engine) rollbackStages(why string) {
	for k := len(e.stages) - 1; k >= 0; k-- {
		var ps []planned
		e.mu.Lock()
		for _, p := range e.stages[k].inject {
			if _, started := e.execOf[p.inj]; started && !e.done[p.inj] {
				ps = append(ps, p)
			}
		}
		e.mu.Unlock()
		e.fanOut(context.Background(), ps, func(_ context.Context, p planned) error {
			ctx, cancel := context.WithTimeout(context.Background(), e.rollbackDeadline(p.inj))
			defer cancel()
			return e.rollback(ctx, p.exec, p.inj, why)
		})
	}
}

// concludeStages gives the verdict of a staged run: the largest stage that
// held, and the stage that broke.
func (e *Engine) concludeStages() Outcome {
	e.mu.Lock()
	stages := slices.Clone(e.stageOut)
	e.mu.Unlock()
	out := Outcome{Verdict: VerdictHeld, Stages: stages}
	if len(stages) > 0 {
		last := stages[len(stages)-1]
		out.Expectations = last.Checks
		if !last.Held {
			out.Verdict = VerdictRefuted
		}
	}
	out.Reason = StagesVerdict(stages, len(e.stages))
	e.emit(Event{Type: EvExpectation, Checks: out.Expectations})
	e.landedOnly(&out)
	e.emit(Event{Type: EvVerdict, Verdict: string(out.Verdict), Msg: out.Reason, Failed: out.Unreverted})
	return out
}

// StagesVerdict words how far a staged run got: "held through stage 2 of 3
// (50% of checkout at 200ms); refuted at stage 3: p95 ...".
func StagesVerdict(stages []StageOutcome, of int) string {
	held := heldThrough(stages)
	var parts []string
	if held != nil {
		parts = append(parts, fmt.Sprintf("held through stage %d of %d (%s)", held.Stage, of, held.Words))
	}
	if n := len(stages); n > 0 && !stages[n-1].Held {
		last := stages[n-1]
		var broken []string
		for _, c := range last.Checks {
			if !c.Held {
				broken = append(broken, c.Text)
			}
		}
		at := fmt.Sprintf("refuted at stage %d", last.Stage)
		if held == nil {
			at = fmt.Sprintf("refuted at stage %d of %d (%s)", last.Stage, of, last.Words)
		}
		parts = append(parts, at+": "+strings.Join(broken, "; "))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("no stage of %d was judged", of)
	}
	return strings.Join(parts, "; ")
}

// heldThrough is the largest stage that held, or nil.
func heldThrough(stages []StageOutcome) *StageOutcome {
	var held *StageOutcome
	for i := range stages {
		if !stages[i].Held {
			break
		}
		held = &stages[i]
	}
	return held
}

// stageContext adds to an abort's reason where the escalation stood.
func (e *Engine) stageContext(reason string) string {
	e.mu.Lock()
	cur, of, judged := e.stage, len(e.stages), slices.Clone(e.stageOut)
	e.mu.Unlock()
	if of == 0 || cur == 0 {
		return reason
	}
	where := fmt.Sprintf("during stage %d of %d (%s)", cur, of, e.stages[cur-1].plan.Words)
	switch {
	case e.Phase() == PhaseObserve:
		where = fmt.Sprintf("while watching the recovery after stage %d of %d", cur, of)
	case len(judged) == cur && cur < of:
		where = fmt.Sprintf("after stage %d of %d, before stage %d", cur, of, cur+1)
	}
	reason += " " + where
	if held := heldThrough(judged); held != nil {
		reason += fmt.Sprintf("; held through stage %d of %d (%s)", held.Stage, of, held.Words)
	}
	return reason
}

// StageState is one stage as the journal tells it.
type StageState struct {
	N        int
	Plan     StagePlan
	Started  time.Time
	Judged   time.Time
	Held     bool
	Checks   []CheckResult
	Finished bool // judged
}

// stage folds the stage events.
func (s *State) stage(ev Event) {
	switch ev.Type {
	case EvStagePlan:
		if ev.StagePlan == nil {
			return
		}
		s.Stages = append(s.Stages, &StageState{N: ev.Stage, Plan: *ev.StagePlan})
		for _, inj := range ev.StagePlan.Starts {
			s.get(inj) // pending until its stage injects it
		}
	case EvConfirmEach:
		s.ConfirmEach = ev.OK != nil && *ev.OK
	case EvStageAsk:
		s.AskStage, s.AskUntil = ev.Stage, ev.Until
	case EvStageConfirm:
		s.AskStage, s.AskUntil = 0, time.Time{}
	case EvStageStart:
		s.Stage = ev.Stage
		if st := s.StageN(ev.Stage); st != nil {
			st.Started = ev.Time
		}
	case EvStageResult:
		if st := s.StageN(ev.Stage); st != nil {
			st.Judged, st.Finished, st.Held, st.Checks = ev.Time, true, ev.OK != nil && *ev.OK, ev.Checks
		}
	}
}

// StageN is stage n (1-based), or nil.
func (s *State) StageN(n int) *StageState {
	for _, st := range s.Stages {
		if st.N == n {
			return st
		}
	}
	return nil
}

// StageOutcomes are the stages judged so far, as the engine gave them.
func (s *State) StageOutcomes() []StageOutcome {
	var out []StageOutcome
	for _, st := range s.Stages {
		if st.Finished {
			out = append(out, StageOutcome{Stage: st.N, Of: len(s.Stages), Words: st.Plan.Words, Held: st.Held, Checks: st.Checks, From: st.Started, To: st.Judged})
		}
	}
	return out
}

// describeStage words the stage events.
func describeStage(ev Event) string {
	of := 0
	if ev.StagePlan != nil {
		of = ev.StagePlan.Of
	}
	switch ev.Type {
	case EvStagePlan:
		line := fmt.Sprintf("stage %d of %d: %s", ev.Stage, of, ev.Msg)
		if p := ev.StagePlan; p != nil {
			line += fmt.Sprintf(", %d member(s): %s, for %s", len(p.Members), memberList(p.Members), FormatDuration(p.Hold))
		}
		return line
	case EvStageStart:
		return fmt.Sprintf("stage %d of %d begins: %s", ev.Stage, of, ev.Msg)
	case EvStageAsk:
		return fmt.Sprintf("stage %d of %d waits to be confirmed: %s (until %s)", ev.Stage, of, ev.Msg, ev.Until.Format("15:04:05"))
	case EvStageConfirm:
		if ev.OK != nil && *ev.OK {
			return fmt.Sprintf("stage %d confirmed: %s", ev.Stage, ev.Msg)
		}
		return ev.Msg
	case EvConfirmEach:
		if ev.OK != nil && *ev.OK {
			return "each stage is confirmed before it starts"
		}
		return "the stages follow each other without asking"
	case EvStageResult:
		if ev.OK != nil && *ev.OK {
			return fmt.Sprintf("stage %d held (%s): %s", ev.Stage, ev.Msg, CheckTexts(ev.Checks, true))
		}
		return fmt.Sprintf("stage %d REFUTED (%s): %s", ev.Stage, ev.Msg, CheckTexts(ev.Checks, true))
	}
	return ""
}

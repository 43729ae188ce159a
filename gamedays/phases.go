package gamedays

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// baseline measures the steady state and reports whether it blocks the run.
func (e *Engine) baseline(ctx context.Context) (blocked bool, reason string) {
	from := e.opts.Clock.Now()
	e.mu.Lock()
	e.baseFrom = from
	e.mu.Unlock()
	end := from.Add(e.rb.Baseline.Duration)
	for now := from; now.Before(end); now = e.opts.Clock.Now() {
		if err := e.sleep(ctx, minTime(end, now.Add(e.rb.Metrics.Poll)), false); err != nil {
			return true, "aborted during baseline"
		}
		if why := e.unanswered(); why != "" {
			e.journalSamples(from.Add(-time.Nanosecond), e.opts.Clock.Now())
			e.emit(Event{Type: EvBlind, Msg: why})
			return true, why
		}
	}
	to := e.opts.Clock.Now()
	if e.eval == nil {
		return false, ""
	}
	// From here the samples are journalled as the game day goes, through the
	// hypothesis and the blast radius too: a hole in the report's charts
	// would read as an outage that never happened.
	e.mu.Lock()
	e.sampled = from.Add(-time.Nanosecond)
	e.flushedAt = time.Time{}
	e.mu.Unlock()
	e.flushSamples(true)
	b := metrics.TakeBaseline(e.opts.Metrics, panelNames(e.rb), from, to)
	e.eval.Baseline = b
	stats := map[string]Stats{}
	for name, s := range b.Pooled {
		stats[name] = statsOf(s)
	}
	e.emit(Event{Type: EvBaseline, Stats: stats})
	var checks []CheckResult
	var failed []string
	for _, c := range e.rb.Baseline.SteadyState {
		r := e.eval.Check(c, from, to)
		cr := checkResult("steady_state", r)
		checks = append(checks, cr)
		if r.Verdict != metrics.Held {
			failed = append(failed, cr.Text)
		}
	}
	ok := len(failed) == 0
	e.emit(Event{Type: EvSteadyState, Checks: checks, OK: &ok})
	if !ok {
		return true, "steady state does not hold: " + strings.Join(failed, "; ")
	}
	return false, ""
}

// baselineBlind is how long the baseline waits for a metrics server that
// does not answer at all, when the runbook sets no metrics_blind.
const baselineBlind = 30 * time.Second

// unanswered says why the baseline cannot go on when the metrics server has
// not answered the steady state's queries for the metrics_blind limit (or
// baselineBlind): waiting out the rest would only end blocked, later.
func (e *Engine) unanswered() string {
	if e.eval == nil {
		return ""
	}
	limit := e.rb.Guardrails.MetricsBlind
	if limit <= 0 {
		limit = baselineBlind
	}
	watched := map[string]bool{}
	for _, c := range e.rb.Baseline.SteadyState {
		watched[c.Panel] = true
	}
	now := e.opts.Clock.Now()
	for _, h := range e.opts.Metrics.Health() {
		if len(watched) > 0 && !watched[h.Panel] {
			continue
		}
		if r := metrics.Blind([]metrics.Health{h}, limit, now); r.Fired && r.Unanswered {
			why := fmt.Sprintf("the metrics server has not answered panel %s for %s", h.Panel, runbook.FormatDuration(r.For.Round(time.Second)))
			if h.LastErr != nil {
				why += ": " + h.LastErr.Error()
			}
			return why + "; the steady state cannot be measured, so nothing is injected"
		}
	}
	return ""
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func panelNames(rb *runbook.Runbook) []string {
	out := make([]string, len(rb.Metrics.Panels))
	for i, p := range rb.Metrics.Panels {
		out[i] = p.Name
	}
	return out
}

func statsOf(s metrics.Stats) Stats {
	return Stats{Min: Num(s.Min), Median: Num(s.Median), P95: Num(s.P95), Max: Num(s.Max), Mean: Num(s.Mean), Last: Num(s.Last), Count: s.Count, Gaps: s.Gaps + s.NaNs}
}

func checkResult(section string, r metrics.Result) CheckResult {
	w := r.Worst
	return CheckResult{
		Section: section, Panel: r.Check.Panel, Threshold: r.Check.Threshold.Text, Statistic: w.Statistic,
		Limit: Num(w.Limit), Value: Num(w.Value), Baseline: Num(w.Baseline),
		Held: r.Verdict == metrics.Held, NoData: r.Verdict == metrics.NoData,
		From: w.From, To: w.To, Text: w.Text,
	}
}

// journalSamples records every value of every series in (after, to], so the
// report needs nothing but the journal. Gaps are left out: absence is a gap.
func (e *Engine) journalSamples(after, to time.Time) {
	for _, p := range e.rb.Metrics.Panels {
		e.journalPanel(p.Name, after, to)
	}
}

func (e *Engine) journalPanel(panel string, after, to time.Time) {
	var batch []Sample
	for _, s := range e.opts.Metrics.Series(panel) {
		for _, pt := range e.opts.Metrics.Points(panel, s, after, to) {
			if !pt.Missing && pt.T.After(after) {
				batch = append(batch, Sample{Panel: panel, Series: s, T: pt.T, V: Num(pt.V)})
			}
		}
	}
	if len(batch) > 0 {
		e.emit(Event{Type: EvSample, Samples: batch})
	}
}

// injectWait is how often the run phase checks that every attack is in.
const injectWait = 250 * time.Millisecond

// sampleFlush is how often the run's samples are journalled while it goes.
const sampleFlush = 15 * time.Second

// startSamples journals what came since the baseline up to t0, the run's
// start, so the run's flushes carry on from there.
func (e *Engine) startSamples(t0 time.Time) {
	e.mu.Lock()
	fresh := e.sampled.IsZero()
	if fresh {
		e.sampled = t0.Add(-time.Nanosecond)
		e.flushedAt = t0
	}
	e.mu.Unlock()
	if !fresh {
		e.flushSamples(true)
	}
}

// flushSamples journals the samples since the last flush, when sampleFlush
// has passed or force is set; from the end of the baseline on.
func (e *Engine) flushSamples(force bool) {
	if e.opts.Metrics == nil {
		return
	}
	now := e.opts.Clock.Now()
	e.mu.Lock()
	base := e.sampled
	if base.IsZero() || (!force && now.Sub(e.flushedAt) < sampleFlush) {
		e.mu.Unlock()
		return
	}
	e.flushedAt = now
	e.mu.Unlock()
	fetched := e.fetched(now)
	for _, p := range e.rb.Metrics.Panels {
		e.mu.Lock()
		from, ok := e.sampledBy[p.Name]
		if !ok || from.Before(base) {
			from = base
		}
		until := fetched[p.Name]
		if !until.After(from) {
			e.mu.Unlock()
			continue
		}
		e.sampledBy[p.Name] = until
		e.mu.Unlock()
		e.journalPanel(p.Name, from, until)
	}
}

// fetched is, per panel, the newest step the poller has fetched (at most
// now): a panel's samples are journalled up to there, so a step not
// fetched yet is journalled by the next flush rather than skipped, and a
// panel whose server stopped answering holds back no other panel.
func (e *Engine) fetched(now time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	for _, p := range e.rb.Metrics.Panels {
		out[p.Name] = now
	}
	for _, h := range e.opts.Metrics.Health() {
		if !h.FetchedTo.IsZero() && h.FetchedTo.Before(now) {
			out[h.Panel] = h.FetchedTo
		}
	}
	return out
}

// hypothesis resolves every expectation against the baseline and records it.
func (e *Engine) hypothesis() {
	var checks []CheckResult
	for _, c := range e.rb.Hypothesis.Expect {
		base := Num(nan())
		limit := c.Threshold.Value
		if e.eval != nil && c.Threshold.Relative() {
			b := e.eval.Baseline.Value(c.Panel, "")
			base, limit = Num(b), c.Threshold.Limit(b)
		}
		unit := runbook.UnitNone
		if p, ok := e.rb.Panel(c.Panel); ok {
			unit = p.Unit
		}
		checks = append(checks, CheckResult{
			Section: "expect", Panel: c.Panel, Threshold: c.Threshold.Text, Limit: Num(limit), Value: Num(nan()), Baseline: base,
			Text: c.Panel + " " + c.Threshold.Describe(unit, float64(base)),
		})
	}
	e.emit(Event{Type: EvHypothesis, Msg: e.rb.Hypothesis.Statement, Checks: checks})
}

// planned is one injection the run will make.
type planned struct {
	attack runbook.Attack
	inj    *targets.Injection
	exec   targets.Executor
}

// blastRadius resolves and selects members, preflights every injection and
// returns the plan that confirmation covers.
func (e *Engine) blastRadius(ctx context.Context) ([]planned, error) {
	if e.rb.Stages() > 0 {
		return e.stagedBlastRadius(ctx)
	}
	selected := map[string][]targets.Member{}
	for _, t := range e.attackedTargets() {
		all, seed, err := e.resolve(ctx, t)
		if err != nil {
			return nil, err
		}
		br := e.rb.BlastRadius[t.Name]
		chosen, err := Select(all, br, seed)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.Name, err)
		}
		e.emit(Event{Type: EvSelected, Target: t.Name, Members: chosen, Seed: &seed})
		selected[t.Name] = chosen
	}
	var plan []planned
	for _, a := range e.rb.Attacks {
		t, _ := e.rb.Target(a.Target)
		exec := e.opts.Executors[t.Family()]
		if exec == nil {
			return nil, fmt.Errorf("attack %q: no executor for %s targets", a.Name, t.Family())
		}
		params, err := e.canonical(a, a.Params)
		if err != nil {
			return nil, fmt.Errorf("attack %q: %w", a.Name, err)
		}
		for _, m := range selected[a.Target] {
			plan = append(plan, planned{attack: a, exec: exec, inj: &targets.Injection{
				RunID: e.opts.RunID, Attack: a.Name, Kind: a.Kind, Member: m, Params: params, Engine: a.Engine, Duration: a.Duration,
			}})
		}
	}
	if err := e.preflight(ctx, plan); err != nil {
		return nil, err
	}
	return plan, nil
}

// attackedTargets are the targets the attacks name, each once, in the order
// they are first named.
func (e *Engine) attackedTargets() []runbook.Target {
	var out []runbook.Target
	seen := map[string]bool{}
	for _, a := range e.rb.Attacks {
		if !seen[a.Target] {
			seen[a.Target] = true
			t, _ := e.rb.Target(a.Target)
			out = append(out, t)
		}
	}
	return out
}

// resolve lists a target's members, journals them, and returns the seed
// its selection draws with: the runbook's, or a fresh one.
func (e *Engine) resolve(ctx context.Context, t runbook.Target) ([]targets.Member, int64, error) {
	res := e.opts.Resolvers[t.Family()]
	if res == nil {
		return nil, 0, fmt.Errorf("target %s: no resolver for %s targets", t.Name, t.Family())
	}
	all, err := res.Resolve(ctx, t)
	if err != nil {
		return nil, 0, fmt.Errorf("resolve target %s: %w", t.Name, err)
	}
	e.emit(Event{Type: EvResolved, Target: t.Name, Members: all})
	br := e.rb.BlastRadius[t.Name]
	seed := br.Seed
	if !br.HasSeed {
		seed = e.opts.Clock.Now().UnixNano()
	}
	return all, seed, nil
}

// canonical is params as the kind writes them, so that the journal records
// what ran and a magnitude written two ways ("0.2s", "200ms") is one.
func (e *Engine) canonical(a runbook.Attack, params map[string]string) (map[string]string, error) {
	if e.opts.Catalogue == nil {
		return params, nil
	}
	k, ok := e.opts.Catalogue.Spec(a.Kind)
	if !ok {
		return params, nil
	}
	v, problems := k.Parse(params)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", problems[0].Msg)
	}
	return v.Canonical(), nil
}

// preflight checks every planned injection, journalling each result.
func (e *Engine) preflight(ctx context.Context, plan []planned) error {
	var mu sync.Mutex
	var failed []MemberFailure
	errs := e.fanOut(ctx, plan, func(ctx context.Context, p planned) error {
		err := p.exec.Preflight(ctx, *p.inj)
		ok := err == nil
		ev := Event{Type: EvPreflight, Injection: p.inj, OK: &ok}
		if err != nil {
			ev.Msg = err.Error()
			mu.Lock()
			failed = append(failed, MemberFailure{Member: p.inj.Member.ID, Msg: err.Error()})
			mu.Unlock()
		}
		if e.opts.DryRun {
			ev.Plan = p.exec.Plan(*p.inj)
		}
		if w, ok := p.exec.(targets.Warner); ok {
			ev.Warnings = w.Warnings(*p.inj)
		}
		e.emit(ev)
		return err
	})
	switch {
	case len(errs) == 0:
		return nil
	case len(errs) <= listedFailures:
		return fmt.Errorf("preflight failed on %d of %d: %s", len(errs), len(plan), strings.Join(errs, "; "))
	}
	// Beyond a few, each member's own message is in its preflight event;
	// the run's reason says why, once per reason.
	return fmt.Errorf("preflight failed on %d of %d: %s", len(errs), len(plan), Summary(GroupFailures(failed)))
}

// listedFailures is how many failures a reason lists in full; more are
// grouped by reason (GroupFailures).
const listedFailures = 3

// fanOut runs fn for every planned injection with bounded parallelism and
// returns the failures as "attack on member: error".
func (e *Engine) fanOut(ctx context.Context, plan []planned, fn func(context.Context, planned) error) []string {
	sem := make(chan struct{}, e.opts.Parallel)
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for _, p := range plan {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(ctx, p); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("%s on %s: %v", p.attack.Name, p.inj.Member.ID, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// run injects on schedule, rolls each attack back when its duration is over,
// and watches the guardrails until the observe period ends.
func (e *Engine) run(ctx context.Context, plan []planned) error {
	if e.stages != nil {
		return e.runStages(ctx)
	}
	t0 := e.opts.Clock.Now()
	e.mu.Lock()
	e.planned = len(plan)
	e.start = t0
	e.mu.Unlock()
	e.startSamples(t0)
	byAttack := map[string][]planned{}
	var lastStart time.Duration
	for _, p := range plan {
		byAttack[p.attack.Name] = append(byAttack[p.attack.Name], p)
		lastStart = max(lastStart, p.attack.StartAfter)
	}
	// The run's samples are journalled however it ends, so the report of an
	// aborted run still shows what led to the abort; sleep journals them as
	// it goes, so even a killed run keeps all but the last few seconds.
	defer e.flushSamples(true)
	var wg sync.WaitGroup
	// The run phase lasts until every attack has been injected, so injects
	// are journalled under run even when they all start at once.
	var starting sync.WaitGroup
	for _, a := range e.rb.Attacks {
		ps := byAttack[a.Name]
		wg.Add(1)
		starting.Add(1)
		go func() {
			defer wg.Done()
			e.attack(ctx, t0, a, ps, starting.Done)
		}()
	}
	defer wg.Wait()
	started := make(chan struct{})
	go func() {
		starting.Wait()
		close(started)
	}()
	if err := e.sleep(ctx, t0.Add(lastStart), true); err != nil {
		return err
	}
	for waiting := true; waiting; {
		select {
		case <-started:
			waiting = false
		default:
			if err := e.sleep(ctx, e.opts.Clock.Now().Add(injectWait), true); err != nil {
				return err
			}
		}
	}
	e.setPhase(PhaseObserve)
	return e.sleep(ctx, t0.Add(e.rb.Observe.Duration), true)
}

// attack injects one attack on its members at its start and rolls it back
// when its duration is over. An abort cancels ctx; the abort's own rollback
// then takes over.
// started is called once the attack's injects have returned, or it gave up.
func (e *Engine) attack(ctx context.Context, t0 time.Time, a runbook.Attack, ps []planned, started func()) {
	var once sync.Once
	defer once.Do(started)
	if !e.waitUntil(ctx, t0.Add(a.StartAfter)) {
		return
	}
	e.fanOut(ctx, ps, func(ctx context.Context, p planned) error { return e.inject(ctx, p) })
	once.Do(started)
	if !e.waitUntil(ctx, t0.Add(a.StartAfter+a.Duration)) {
		return
	}
	e.fanOut(ctx, ps, func(_ context.Context, p planned) error {
		ctx, cancel := context.WithTimeout(context.Background(), e.rollbackDeadline(p.inj))
		defer cancel()
		return e.rollback(ctx, p.exec, p.inj, "duration over")
	})
}

// waitUntil waits on the engine clock; false means ctx ended first.
func (e *Engine) waitUntil(ctx context.Context, t time.Time) bool {
	if wait := t.Sub(e.opts.Clock.Now()); wait > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-e.opts.Clock.After(wait):
		}
	}
	return ctx.Err() == nil
}

// inject journals the intent (synced) before the call: from that moment the
// injection counts as applied until a rollback is confirmed.
func (e *Engine) inject(ctx context.Context, p planned) error {
	if e.aborted() {
		return errAborted
	}
	call := make(chan struct{})
	e.mu.Lock()
	e.applied = append(e.applied, p.inj)
	e.execOf[p.inj] = p.exec
	e.inflight[p.inj] = call
	e.since[p.inj] = e.opts.Clock.Now()
	e.mu.Unlock()
	e.emit(Event{Type: EvAttackIntent, Injection: p.inj})
	res, err := p.exec.Inject(ctx, p.inj)
	close(call)
	ok := err == nil
	if err != nil && res.Err == "" {
		res.Err = err.Error()
	}
	why := ""
	e.mu.Lock()
	e.results[p.inj] = res
	if ok {
		e.landed++
		defer e.startHints()
	} else {
		why = fmt.Sprintf("%s on %s: %s", p.inj.Attack, p.inj.Member.ID, hostReason(res))
		e.failures = append(e.failures, why)
	}
	e.mu.Unlock()
	e.emit(Event{Type: EvAttackResult, Injection: p.inj, Result: &res, OK: &ok})
	if l, lifted := e.liftOf(p.inj); lifted && ok {
		e.judgeLift(p.inj, l)
	}
	// A verdict on a fault that did not land would be a lie: unless the
	// runbook says to go on, the run stops and rolls back the rest.
	if !ok && !e.aborted() && e.rb.Abort.OnInjectFailure != runbook.OnInjectFailureContinue {
		e.deliver(Intent{Type: IntentAbort, Source: "inject failed", Text: why})
	}
	return err
}

// hostReason is a failed step's error with the host's own words: executors
// put the host's stderr in Err, or in the output's last lines.
func hostReason(r targets.Result) string {
	why := strings.TrimSpace(r.Err)
	out := strings.TrimSpace(r.Output)
	if out != "" && !strings.Contains(why, out) {
		if i := strings.LastIndexByte(out, '\n'); i >= 0 {
			out = out[i+1:]
		}
		if why == "" {
			return out
		}
		why += " (" + out + ")"
	}
	return why
}

// rollback reverts one injection within ctx's deadline, journalling the
// intent and the result.
func (e *Engine) rollback(ctx context.Context, exec targets.Executor, inj *targets.Injection, why string) error {
	e.mu.Lock()
	if e.done[inj] {
		e.mu.Unlock()
		return nil
	}
	e.mu.Unlock()
	e.emit(Event{Type: EvRollbackIntent, Injection: inj, Msg: why})
	res, err := exec.Rollback(ctx, *inj)
	ok := err == nil
	if err != nil && res.Err == "" {
		res.Err = err.Error()
	}
	if ok {
		e.mu.Lock()
		e.done[inj] = true
		// A fault its planned rollback found gone was ended by something
		// else: the verdict says its window is not the one planned. The
		// claim is kept, in the journal too, only for a fault that landed
		// and was not ended by its own switch (a link it cut), nor by an
		// abort's rollback.
		landed, returned := e.results[inj]
		res.Gone = res.Gone && returned && why != "abort" && landed.Err == "" && !landed.LinkLost
		if res.Gone && !e.endedEarly[inj] {
			e.gone = append(e.gone, inj.Attack+" on "+inj.Member.ID)
		}
		e.mu.Unlock()
	} else {
		res.Gone = false
	}
	e.emit(Event{Type: EvRollbackResult, Injection: inj, Result: &res, OK: &ok})
	return err
}

// switchGrace is how long past a lost host's dead man's switch the
// rollback keeps trying to reach it and confirm it clean.
const switchGrace = 15 * time.Second

// rollbackDeadline is the abort timeout, except for an injection whose link
// was lost at the end of its duration: its switch ends the fault, so the
// rollback waits for the switch to fire and confirms the host is clean. An
// abort never waits past its own deadline.
func (e *Engine) rollbackDeadline(inj *targets.Injection) time.Duration {
	d := e.rb.Abort.Timeout
	e.mu.Lock()
	res := e.results[inj]
	e.mu.Unlock()
	if res.LinkLost && !res.Expires.IsZero() && !e.aborted() {
		d = max(d, res.Expires.Add(switchGrace).Sub(e.opts.Clock.Now()))
	}
	return d
}

// guardrails returns why the game day must stop, or "".
func (e *Engine) guardrails() string {
	if e.eval == nil {
		return ""
	}
	for _, c := range e.rb.Guardrails.Checks {
		if r := e.eval.Guardrail(c); r.Fired {
			msg := fmt.Sprintf("guardrail %s %s: %s", c.Panel, c.Threshold.Text, r.Evidence.Text)
			e.emit(Event{Type: EvGuardrail, Msg: msg, Checks: []CheckResult{{Section: "guardrail", Panel: c.Panel, Threshold: c.Threshold.Text, Value: Num(r.Evidence.Value), Limit: Num(r.Evidence.Limit), Baseline: Num(r.Evidence.Baseline), Text: r.Evidence.Text}}})
			return msg
		}
	}
	if lim := e.rb.Guardrails.MetricsBlind; lim > 0 {
		if b := metrics.Blind(e.opts.Metrics.Health(), lim, e.opts.Clock.Now()); b.Fired {
			msg := fmt.Sprintf("metrics blind for %s (panel %s): %s", FormatDuration(b.For), b.Panel, b.Reason)
			e.emit(Event{Type: EvBlind, Msg: msg})
			return msg
		}
	}
	return ""
}

// conclude judges every expectation over the attack window.
func (e *Engine) conclude() Outcome {
	if e.stages != nil {
		return e.concludeStages()
	}
	e.mu.Lock()
	from := e.start
	e.mu.Unlock()
	to := from.Add(e.rb.AttacksEnd())
	out := Outcome{Verdict: VerdictHeld}
	var broken []string
	for _, c := range e.rb.Hypothesis.Expect {
		if e.eval == nil {
			break
		}
		cr := checkResult("expect", e.eval.Check(c, from, to))
		out.Expectations = append(out.Expectations, cr)
		if !cr.Held {
			broken = append(broken, cr.Text)
		}
	}
	broken = append(broken, e.judgeAlerts()...)
	if len(broken) > 0 {
		out.Verdict, out.Reason = VerdictRefuted, strings.Join(broken, "; ")
	} else {
		out.Reason = "every expectation held over the attack window"
	}
	e.emit(Event{Type: EvExpectation, Checks: out.Expectations})
	e.landedOnly(&out)
	e.emit(Event{Type: EvVerdict, Verdict: string(out.Verdict), Msg: out.Reason, Failed: out.Unreverted})
	return out
}

// landedOnly holds the verdict to what really happened: a run where no
// fault landed has no verdict on the hypothesis (aborted), one where some
// did says how many, and one whose rollback did not complete says so first.
func (e *Engine) landedOnly(out *Outcome) {
	e.mu.Lock()
	landed, planned, failures, gone, shortened := e.landed, e.planned, e.failures, e.gone, e.shortened
	for _, inj := range e.applied {
		if !e.done[inj] {
			out.Unreverted = append(out.Unreverted, *inj)
		}
	}
	e.mu.Unlock()
	switch {
	case planned > 0 && landed == 0:
		out.Verdict = VerdictAborted
		out.Reason = fmt.Sprintf("no fault landed: 0 of %d injection(s) applied, so the hypothesis was not tested: %s", planned, strings.Join(failures, "; "))
	case landed < planned:
		out.Reason = fmt.Sprintf("%s, with only %d of %d injection(s) applied: %s", out.Reason, landed, planned, strings.Join(failures, "; "))
	}
	if len(shortened) > 0 {
		that := "that fault was"
		if len(shortened) > 1 {
			that = "those faults were"
		}
		out.Reason += fmt.Sprintf("; but the fault ended before its time on %d: %s; so %s not there for part of the window the hypothesis was judged over", len(shortened), strings.Join(shortened, "; "), that)
	}
	if len(gone) > 0 {
		out.Reason += fmt.Sprintf("; but the fault was no longer in place when its rollback came on %d: %s (something other than gameday ended it, when is not known), so the hypothesis was not tested over the whole attack window there", len(gone), strings.Join(gone, ", "))
	}
	if n := len(out.Unreverted); n > 0 {
		var where []string
		for _, inj := range out.Unreverted {
			where = append(where, inj.Attack+" on "+inj.Member.ID)
		}
		out.Reason += fmt.Sprintf("; ROLLBACK INCOMPLETE on %d: %s may still be applied; run gameday recover", n, strings.Join(where, ", "))
	}
}

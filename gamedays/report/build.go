package report

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Build reads a journal's events into a report. truncated says the journal's
// last line was cut short (ReadJournal's *TruncatedError); the report then
// says so at the top.
func Build(events []gamedays.Event, truncated bool) (*Report, error) {
	if len(events) == 0 {
		return nil, errors.New("the journal holds no events; nothing to report")
	}
	b := &builder{
		r: &Report{
			Schema: Schema, Start: events[0].Time.UTC(), End: events[len(events)-1].Time.UTC(),
			Participants: []Participant{}, SteadyState: []Check{}, Panels: []Panel{}, BlastRadius: []Blast{},
			Attacks: []Attack{}, Guardrails: []Guardrail{}, Breaches: []Breach{}, Aborts: []Abort{},
			Unreverted: []Injection{}, Timeline: []Entry{}, Findings: []Note{}, Actions: []Note{}, Predictions: []Prediction{}, Warnings: []string{},
			Hypothesis: Hypothesis{Expectations: []Check{}}, Verdict: Verdict{Evidence: []Check{}},
		},
		st:          gamedays.NewState(nil),
		blasts:      map[string]int{},
		people:      map[string]int{},
		samples:     map[string]map[string][]metrics.Point{},
		lastSamples: -1,
	}
	b.r.Status.Truncated = truncated
	b.r.Duration = b.r.End.Sub(b.r.Start).Seconds()
	for _, ev := range events {
		b.st.Apply(ev)
		b.event(ev)
	}
	b.finish(events)
	return b.r, nil
}

type builder struct {
	r  *Report
	rb *runbook.Runbook
	// st is the journal folded by gamedays.State, the fold the console,
	// recover and the autopilot read too; the report adds only what it
	// alone shows.
	st *gamedays.State

	blasts map[string]int // target → index in r.BlastRadius
	people map[string]int // name → index in r.Participants

	baseline    map[string]gamedays.Stats
	samples     map[string]map[string][]metrics.Point // panel → series → points
	sampleOrder []string                              // panels in the order samples first named them
	verdictSeen bool
	recoverMsg  string
	// breachChecks are the guardrail evidence, which backs an aborted verdict.
	breachChecks []Check
	phases       []span
	lastSamples  int // index in r.Timeline of the entry summarising the current run of sample events
	runSamples   int // how many samples that entry covers
}

func (b *builder) t(at time.Time) float64 { return at.Sub(b.r.Start).Seconds() }

func (b *builder) entry(ev gamedays.Event, text string) {
	b.r.Timeline = append(b.r.Timeline, Entry{At: ev.Time.UTC(), T: b.t(ev.Time), Type: ev.Type, Phase: ev.Phase, Author: ev.Author, Text: text})
}

func (b *builder) event(ev gamedays.Event) {
	if ev.Type != gamedays.EvSample {
		b.lastSamples = -1
	}
	switch ev.Type {
	case gamedays.EvSample:
		b.sample(ev)
		return
	case gamedays.EvPreflight, gamedays.EvAttackIntent, gamedays.EvAttackResult, gamedays.EvRollbackIntent, gamedays.EvRollbackResult:
		if ev.Injection == nil {
			b.r.Warnings = append(b.r.Warnings, fmt.Sprintf("event %d (%s) names no injection; skipped", ev.Seq, ev.Type))
		}
	case gamedays.EvRunStart:
		b.runStart(ev)
	case gamedays.EvPhase:
		b.phase(ev)
	case gamedays.EvSteadyState:
		b.r.SteadyState = checks(ev.Checks, true)
	case gamedays.EvHypothesis:
		b.r.Hypothesis.Expectations = checks(ev.Checks, false)
	case gamedays.EvResolved, gamedays.EvSelected:
		b.blast(ev.Target)
	case gamedays.EvGuardrail, gamedays.EvBlind:
		br := Breach{At: ev.Time.UTC(), T: b.t(ev.Time), Text: ev.Msg}
		if len(ev.Checks) > 0 {
			br.Panel = ev.Checks[0].Panel
		}
		b.breachChecks = append(b.breachChecks, checks(ev.Checks, true)...)
		b.r.Breaches = append(b.r.Breaches, br)
	case gamedays.EvAbort:
		b.r.Aborts = append(b.r.Aborts, Abort{At: ev.Time.UTC(), T: b.t(ev.Time), Source: ev.Source, By: ev.Author, Reason: ev.Msg})
	case gamedays.EvNote:
		b.note(ev)
	case gamedays.EvExpectation:
		if len(ev.Checks) > 0 {
			b.r.Verdict.Evidence = checks(ev.Checks, true)
			b.judge(ev.Checks)
		}
	}
	words := ev
	if ev.Type == gamedays.EvNote && ev.Kind != gamedays.NoteJoined {
		words.Author = "" // the timeline has a column for who
	}
	b.entry(ev, b.st.Describe(words))
}

func (b *builder) runStart(ev gamedays.Event) {
	b.r.RunID, b.r.Title, b.r.RunbookFile, b.r.ToolVersion, b.r.RunbookSource = ev.RunID, ev.Msg, ev.File, ev.Version, ev.Runbook
	if ev.TimeScale > 0 && ev.TimeScale != 1 {
		b.r.TimeScale = ev.TimeScale
	}
	if err := b.st.ParseErr; err != nil && b.rb == nil {
		b.r.Warnings = append(b.r.Warnings, "the runbook recorded in the journal does not parse with this version of gameday, so units, guardrails and selection rules are missing: "+firstLine(err.Error()))
	}
	b.rb = b.st.Runbook
}

func (b *builder) phase(ev gamedays.Event) {
	if n := len(b.phases); n > 0 && b.phases[n-1].to < 0 {
		b.phases[n-1].to = b.t(ev.Time)
	}
	b.phases = append(b.phases, span{name: ev.Phase, from: b.t(ev.Time), to: -1})
}

// blast keeps the report's blast radius in step with the state's targets.
func (b *builder) blast(target string) {
	for _, t := range b.st.Targets {
		if t.Name != target {
			continue
		}
		i, ok := b.blasts[target]
		if !ok {
			i = len(b.r.BlastRadius)
			b.blasts[target] = i
			b.r.BlastRadius = append(b.r.BlastRadius, Blast{Target: target})
		}
		bl := &b.r.BlastRadius[i]
		bl.Resolved, bl.Selected, bl.Seed = memberIDs(t.Resolved), memberIDs(t.Selected), t.Seed
	}
}

// windowSlack is how much longer than planned a fault may last before the
// report flags it: the rollback's own round trip.
const windowSlack = time.Second

// attacks lists every injection whose intent was journalled, as the state
// folded it, with its real window.
func (b *builder) attacks() {
	for _, is := range b.st.Injections {
		if !is.Intended {
			continue
		}
		inj := is.Injection
		params := inj.Params
		if params == nil {
			params = map[string]string{}
		}
		a := Attack{
			Name: inj.Attack, Target: inj.Member.Target, Member: inj.Member.ID, Kind: inj.Kind,
			Params: params, Duration: inj.Duration.Seconds(),
			InjectedAt: timePtr(is.IntentAt), Result: "unknown", Rollback: "none",
			Output: trimOutput(is.InjectOutput), Error: is.InjectErr,
			RollbackReason: is.RollbackWhy, RollbackOutput: trimOutput(is.RollbackOutput), RollbackError: is.RollbackErr,
			LinkLost: is.LinkLost, EndedEarly: is.EndedWhy, Gone: is.Gone,
		}
		switch is.Inject {
		case gamedays.StepOK:
			a.Result = "applied"
		case gamedays.StepFailed:
			a.Result = "failed"
		}
		if is.Rollback != "" {
			a.Rollback = is.Rollback
		}
		if is.Rollback == gamedays.StepOK && is.Irreversible {
			a.Rollback = "nothing to undo"
		}
		if is.Rollback == gamedays.StepOK {
			a.RolledBackAt = timePtr(is.RevertedAt)
		}
		if is.Inject == gamedays.StepOK {
			from, to, open := is.Window()
			a.AppliedAt = timePtr(from)
			if !open {
				a.EndedAt = timePtr(to)
			}
			if over, ok := is.Overran(windowSlack); ok {
				a.Overran = over.Seconds()
			}
		}
		b.r.Attacks = append(b.r.Attacks, a)
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (b *builder) sample(ev gamedays.Event) {
	n := 0
	for _, s := range ev.Samples {
		series, ok := b.samples[s.Panel]
		if !ok {
			series = map[string][]metrics.Point{}
			b.samples[s.Panel] = series
			b.sampleOrder = append(b.sampleOrder, s.Panel)
		}
		series[s.Series] = append(series[s.Series], metrics.Point{T: s.T, V: float64(s.V)})
		n++
	}
	// Samples are summarised: a run of sample events is one timeline line.
	if b.lastSamples < 0 {
		b.lastSamples, b.runSamples = len(b.r.Timeline), 0
		b.entry(ev, "")
	}
	b.runSamples += n
	b.r.Timeline[b.lastSamples].Text = fmt.Sprintf("metrics: %d sample(s) journalled", b.runSamples)
}

func (b *builder) note(ev gamedays.Event) {
	switch {
	case ev.Kind == gamedays.NoteJoined && ev.Author != "":
		b.person(ev.Author, ev.Msg).Joined = true
		return
	case ev.Kind == gamedays.NoteLeft:
		return
	case ev.Author != "":
		b.person(ev.Author, "").Notes++
	}
	n := Note{At: ev.Time.UTC(), T: b.t(ev.Time), Author: ev.Author, Text: ev.Msg}
	switch ev.Kind {
	case "finding":
		b.r.Findings = append(b.r.Findings, n)
	case "action":
		b.r.Actions = append(b.r.Actions, n)
	case "prediction":
		b.r.Predictions = append(b.r.Predictions, Prediction{Note: n})
	}
}

func (b *builder) person(name, role string) *Participant {
	i, ok := b.people[name]
	if !ok {
		i = len(b.r.Participants)
		b.people[name] = i
		b.r.Participants = append(b.r.Participants, Participant{Name: name, Roles: []string{}})
	}
	p := &b.r.Participants[i]
	if role != "" && !slices.Contains(p.Roles, role) {
		p.Roles = append(p.Roles, role)
	}
	return p
}

// judge copies the verdicts of the judged expectations onto the hypothesis,
// so one table shows expected and measured side by side.
func (b *builder) judge(judged []gamedays.CheckResult) {
	for i, e := range b.r.Hypothesis.Expectations {
		for _, j := range judged {
			if j.Panel == e.Panel && j.Threshold == e.Threshold {
				b.r.Hypothesis.Expectations[i] = checkOf(j, true)
			}
		}
	}
}

func (b *builder) finish(events []gamedays.Event) {
	r := b.r
	if n := len(b.phases); n > 0 && b.phases[n-1].to < 0 {
		b.phases[n-1].to = r.Duration
	}
	if b.rb != nil {
		if r.Title == "" {
			r.Title = b.rb.Name
		}
		// The runbook's roles come first, in role order; people who only
		// wrote notes follow.
		authors := r.Participants
		r.Participants, b.people = []Participant{}, map[string]int{}
		for _, m := range b.rb.Roles.Members() {
			b.person(m.Name, m.Role)
		}
		for _, a := range authors {
			p := b.person(a.Name, "")
			for _, role := range a.Roles {
				p = b.person(a.Name, role)
			}
			p.Notes += a.Notes
			p.Joined = p.Joined || a.Joined
		}
		for i := range r.BlastRadius {
			if br, ok := b.rb.BlastRadius[r.BlastRadius[i].Target]; ok {
				r.BlastRadius[i].Selection = selection(br)
			}
		}
	}
	if r.Title == "" {
		r.Title = strings.TrimSpace("game day " + r.RunID)
	}
	for i := range r.Participants {
		if len(r.Participants[i].Roles) == 0 {
			r.Participants[i].Roles = append(r.Participants[i].Roles, "note author")
		}
	}
	b.attacks()
	b.stages()
	b.unreverted()
	b.verdict()
	b.status()
	b.panels()
	b.guardrails()
	r.Alerts, r.OtherAlerts = b.st.AlertResults, b.st.OtherAlerts()
	if d := b.st.Drill; !d.Injected.IsZero() && (d.Drill || hasDrillMarks(events)) {
		r.Drill = &Drill{TTD: seconds(d.TTD, !d.Detected.IsZero()), TTM: seconds(d.TTM, !d.Mitigated.IsZero()),
			DetectedBy: d.DetectedBy, MitigatedBy: d.MitigatedBy, Detected: d.DetectedWhat, Mitigated: d.MitigatedWhat,
			Hints: d.Hints, FalseAlarms: d.FalseAlarms, Gone: seconds(d.GoneAfter, !d.Gone.IsZero()), GoneWhat: d.GoneWhat}
		for _, a := range r.Alerts {
			if !a.Forbid {
				r.Drill.Alerts = append(r.Drill.Alerts, DrillAlert{Alert: a.Alert,
					Fired: seconds(a.Firing.Sub(d.Injected), !a.Firing.IsZero()),
					Paged: seconds(a.Notified.Sub(d.Injected), !a.Notified.IsZero())})
			}
		}
	}
	if len(r.Verdict.Evidence) == 0 {
		r.Verdict.Evidence = b.evidence()
	}
	b.predictions()
	b.chartData()
}

func hasDrillMarks(events []gamedays.Event) bool {
	for _, ev := range events {
		if ev.Type == gamedays.EvNote && (ev.Kind == gamedays.NoteDetected || ev.Kind == gamedays.NoteMitigated) {
			return true
		}
	}
	return false
}

func seconds(d time.Duration, ok bool) gamedays.Num {
	if !ok {
		return gamedays.Num(math.NaN())
	}
	return gamedays.Num(d.Seconds())
}

// unreverted lists what may still be applied: every intent in the journal
// without a confirmed rollback, as recovery sees it.
func (b *builder) unreverted() {
	for _, inj := range b.st.Unreverted() {
		why := "no rollback was confirmed in the journal"
		if is, ok := b.st.Injection(gamedays.KeyOf(inj)); ok && is.Rollback == gamedays.StepFailed {
			why = "rollback failed: " + is.RollbackErr
		}
		b.r.Unreverted = append(b.r.Unreverted, Injection{Attack: inj.Attack, Kind: inj.Kind, Member: inj.Member.ID, Why: why})
	}
}

// verdict is the state's: the engine's verdict event, else the run.end's.
func (b *builder) verdict() {
	st, r := b.st, b.r
	r.Verdict.Value, r.Verdict.Reason = string(st.Verdict), st.VerdictMsg
	r.Hypothesis.Statement = st.Statement
	r.Status.Complete = st.Ended
	r.Status.Recovered = st.Recovered
	b.recoverMsg = st.RecoverMsg
	b.baseline = st.Baseline
}

func (b *builder) status() {
	r := b.r
	s := &r.Status
	v := r.Verdict.Value
	switch {
	case !s.Complete:
		s.Outcome = "incomplete"
	case v == "":
		s.Outcome = "dry-run"
	default:
		s.Outcome = v
	}
	var parts []string
	switch {
	case !s.Complete && s.Truncated:
		parts = append(parts, "This run did not finish: the journal's last line is cut short and there is no run.end event, so gameday was killed or crashed while writing. The report covers the journal up to that point.")
	case !s.Complete:
		parts = append(parts, "This run did not finish: the journal ends without a run.end event (gameday was killed, crashed, or is still running). The report covers the journal up to that point.")
	case s.Truncated:
		parts = append(parts, "The journal's last line is cut short; it was ignored.")
	}
	if b.recoverMsg != "" {
		parts = append(parts, "`gameday recover` ran on this journal afterwards: "+b.recoverMsg+".")
	}
	switch v {
	case string(gamedays.VerdictAborted):
		parts = append(parts, "This run was ABORTED: "+r.Verdict.Reason+".")
	case string(gamedays.VerdictBlocked):
		parts = append(parts, "This run was BLOCKED before anything was injected: "+r.Verdict.Reason+".")
	}
	if s.Complete && v == "" {
		parts = append(parts, "This was a dry run: nothing was injected.")
	}
	if n := len(r.Unreverted); n > 0 {
		parts = append(parts, fmt.Sprintf("%d injection(s) may STILL BE APPLIED; run `gameday recover` on this run.", n))
	}
	s.Notice = strings.Join(parts, " ")
}

// panels joins the baseline statistics with the same statistics over the
// attack window, in the runbook's panel order.
func (b *builder) panels() {
	var names []string
	if b.rb != nil {
		for _, p := range b.rb.Metrics.Panels {
			names = append(names, p.Name)
		}
	}
	for _, n := range b.sampleOrder {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	var extra []string
	for n := range b.baseline {
		if !slices.Contains(names, n) {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	names = append(names, extra...)
	from, to, ok := b.attackWindow()
	for _, n := range names {
		p := Panel{Name: n, Title: n, Baseline: nanStats(), Attack: nanStats(), Delta: gamedays.Num(math.NaN())}
		if b.rb != nil {
			if rp, ok := b.rb.Panel(n); ok {
				p.Unit = string(rp.Unit)
				if rp.Title != "" {
					p.Title = rp.Title
				}
			}
		}
		if s, ok := b.baseline[n]; ok {
			p.Baseline = Stats{Min: s.Min, Median: s.Median, P95: s.P95, Max: s.Max, Count: s.Count}
		}
		if ok {
			var pts []metrics.Point
			for _, series := range b.samples[n] {
				for _, pt := range series {
					if !pt.T.Before(from) && !pt.T.After(to) {
						pts = append(pts, pt)
					}
				}
			}
			s := metrics.Summarize(from, to, pts)
			p.Attack = Stats{Min: gamedays.Num(s.Min), Median: gamedays.Num(s.Median), P95: gamedays.Num(s.P95), Max: gamedays.Num(s.Max), Count: s.Count}
		}
		p.Delta = p.Attack.Median - p.Baseline.Median
		b.r.Panels = append(b.r.Panels, p)
	}
}

func nanStats() Stats {
	nan := gamedays.Num(math.NaN())
	return Stats{Min: nan, Median: nan, P95: nan, Max: nan}
}

// attackWindow is from the first inject to the last rollback (or the end of
// the journal while something was still applied).
func (b *builder) attackWindow() (from, to time.Time, ok bool) {
	for _, a := range b.r.Attacks {
		if a.InjectedAt == nil {
			continue
		}
		end := b.r.End
		if a.RolledBackAt != nil {
			end = *a.RolledBackAt
		}
		if !ok || a.InjectedAt.Before(from) {
			from = *a.InjectedAt
		}
		if !ok || end.After(to) {
			to = end
		}
		ok = true
	}
	return from, to, ok
}

func (b *builder) guardrails() {
	if b.rb == nil {
		return
	}
	for _, c := range b.rb.Guardrails.Checks {
		base := math.NaN()
		if s, ok := b.baseline[c.Panel]; ok {
			base = float64(s.Median)
		}
		limit := c.Threshold.Limit(base)
		if c.Threshold.Relative() && math.IsNaN(base) {
			limit = math.NaN()
		}
		b.r.Guardrails = append(b.r.Guardrails, Guardrail{Panel: c.Panel, Threshold: c.Threshold.Text, Limit: gamedays.Num(limit)})
	}
	if d := b.rb.Guardrails.MetricsBlind; d > 0 {
		b.r.Guardrails = append(b.r.Guardrails, Guardrail{Panel: "(any)", Threshold: "metrics blind for " + runbook.FormatDuration(d), Limit: gamedays.Num(d.Seconds())})
	}
}

// evidence is what backs a verdict that no expectation judged: the steady
// state that failed for blocked, the breach for aborted.
func (b *builder) evidence() []Check {
	r := b.r
	switch r.Verdict.Value {
	case string(gamedays.VerdictBlocked):
		var out []Check
		for _, c := range r.SteadyState {
			if c.Held == nil || !*c.Held {
				out = append(out, c)
			}
		}
		if out != nil {
			return out
		}
	case string(gamedays.VerdictAborted):
		if b.breachChecks != nil {
			return b.breachChecks
		}
	}
	return []Check{}
}

func checks(in []gamedays.CheckResult, judged bool) []Check {
	out := make([]Check, 0, len(in))
	for _, c := range in {
		out = append(out, checkOf(c, judged))
	}
	return out
}

func checkOf(c gamedays.CheckResult, judged bool) Check {
	out := Check{Panel: c.Panel, Threshold: c.Threshold, Limit: c.Limit, Value: c.Value, Baseline: c.Baseline, NoData: c.NoData, Text: c.Text}
	if judged {
		held := c.Held
		out.Held = &held
	}
	return out
}

func checkTexts(cs []gamedays.CheckResult) string {
	var parts []string
	for _, c := range cs {
		if c.Text != "" {
			parts = append(parts, c.Text)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

func holds(ok *bool) string {
	if ok != nil && *ok {
		return "holds"
	}
	return "does NOT hold"
}

func okText(ok *bool, msg string) string {
	if ok != nil && *ok {
		return "ok"
	}
	if msg == "" {
		return "failed"
	}
	return "FAILED: " + msg
}

func verdictWord(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

func memberIDs(members []targets.Member) []string {
	out := make([]string, 0, len(members))
	for _, m := range members {
		out = append(out, m.ID)
	}
	return out
}

func injectionName(ev gamedays.Event) string {
	if ev.Injection == nil {
		return "?"
	}
	return ev.Injection.Attack + " (" + ev.Injection.Kind + ") on " + ev.Injection.Member.ID
}

func selection(br runbook.BlastRadius) string {
	var s string
	switch {
	case br.All:
		s = "all members"
	case br.Percent > 0:
		s = fmt.Sprintf("%g%% of members, rounded up", br.Percent)
	default:
		s = fmt.Sprintf("%d member(s)", br.Count)
	}
	if br.Max > 0 {
		s += fmt.Sprintf(", at most %d", br.Max)
	}
	if br.HasSeed {
		s += ", seed set in the runbook"
	} else {
		s += ", seed drawn at run time"
	}
	return s
}

// outputLimit bounds each attack's output in the report; the journal keeps it whole.
const outputLimit = 400

func trimOutput(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= outputLimit {
		return s
	}
	cut := outputLimit
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf(" … (%d more bytes)", len(s)-cut)
}

func isRuneStart(c byte) bool { return c&0xC0 != 0x80 }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

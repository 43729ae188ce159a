package metrics

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/runbook"
)

// Source is where evaluations read series from. *Poller is one; a test or
// the report builder can supply another.
type Source interface {
	Step() time.Duration
	Series(panel string) []string
	Points(panel, series string, from, to time.Time) []Point
	End(panel, series string) time.Time
}

// Verdict is the outcome of a steady-state or expectation check.
type Verdict string

// Verdicts. NoData is its own answer: a window without values proves
// nothing, so it is neither held nor broken.
const (
	Held   Verdict = "held"
	Broken Verdict = "broken"
	NoData Verdict = "no data"
)

// HoldQuantile is how much of a window must satisfy a check for it to hold.
// A check holds when its condition is true for at least 95% of the steps
// that have values: one slow scrape does not break a baseline, a sustained
// regression does. The value compared is therefore the window's 95th
// percentile for upper bounds (<, <=) and its 5th percentile for lower
// bounds (>, >=).
const HoldQuantile = 0.95

// Baseline holds each panel's statistics over the baseline window, per
// series and pooled over the panel's series.
type Baseline struct {
	From, To time.Time
	Series   map[string]map[string]Stats // panel → series → stats
	Pooled   map[string]Stats            // panel → all series together
}

// TakeBaseline summarises every series of the named panels over [from, to].
func TakeBaseline(src Source, panels []string, from, to time.Time) Baseline {
	b := Baseline{From: from, To: to, Series: map[string]map[string]Stats{}, Pooled: map[string]Stats{}}
	for _, pn := range panels {
		per := map[string]Stats{}
		var all []Point
		for _, s := range src.Series(pn) {
			pts := src.Points(pn, s, from, to)
			per[s] = Summarize(from, to, pts)
			all = append(all, pts...)
		}
		b.Series[pn] = per
		b.Pooled[pn] = Summarize(from, to, all)
	}
	return b
}

// Value is the baseline a relative threshold multiplies or offsets: the
// series' median over the baseline window (robust to a stray spike), or the
// panel's pooled median for a series that appeared after the baseline. NaN
// when the baseline saw no data.
func (b Baseline) Value(panel, series string) float64 {
	if s, ok := b.Series[panel][series]; ok && !s.Empty() {
		return s.Median
	}
	if s, ok := b.Pooled[panel]; ok && !s.Empty() {
		return s.Median
	}
	return math.NaN()
}

// Evidence is why a verdict was reached, enough to put in the journal and
// the report without the series.
type Evidence struct {
	Panel  string
	Series string
	Check  string // the threshold as written
	// Statistic names what Value is, e.g. "p95 of 120 steps".
	Statistic string
	Value     float64
	Limit     float64 // the threshold's limit with the baseline applied
	Baseline  float64 // NaN unless the threshold is relative
	From, To  time.Time
	Count     int
	Gaps      int
	NaNs      int
	Verdict   Verdict
	// Text is one line for people: the verdict, the numbers, the window.
	Text string
}

// Result is a check evaluated over a window, across the panel's series.
type Result struct {
	Check   runbook.Check
	Verdict Verdict
	// Worst is the series that decided the verdict: a broken one if any,
	// else the one closest to its limit.
	Worst  Evidence
	Series []Evidence
}

// Evaluator evaluates runbook checks against a source.
type Evaluator struct {
	Source   Source
	Panels   map[string]runbook.Panel
	Baseline Baseline
}

// NewEvaluator returns an evaluator over src for the given panels.
func NewEvaluator(src Source, panels []runbook.Panel) *Evaluator {
	m := make(map[string]runbook.Panel, len(panels))
	for _, p := range panels {
		m[p.Name] = p
	}
	return &Evaluator{Source: src, Panels: m}
}

// Check evaluates a steady-state or expectation check over [from, to].
// Every series of the panel must hold; a panel with no series, or series
// with no values, gives NoData.
func (e *Evaluator) Check(c runbook.Check, from, to time.Time) Result {
	res := Result{Check: c, Verdict: NoData}
	unit := e.Panels[c.Panel].Unit
	series := e.Source.Series(c.Panel)
	if len(series) == 0 {
		res.Worst = Evidence{Panel: c.Panel, Check: c.Threshold.Text, From: from, To: to, Verdict: NoData,
			Value: math.NaN(), Limit: math.NaN(), Baseline: math.NaN(),
			Text: fmt.Sprintf("%s: no data: the query returned no series between %s and %s", c.Panel, clock(from), clock(to))}
		return res
	}
	var worstMargin float64 = math.Inf(1)
	for _, s := range series {
		ev := e.evaluateSeries(c, unit, s, from, to)
		res.Series = append(res.Series, ev)
		switch {
		case ev.Verdict == Broken:
			if res.Verdict != Broken {
				res.Worst = ev
			}
			res.Verdict = Broken
		case ev.Verdict == NoData && res.Verdict != Broken:
			// Any blind series keeps the verdict from being "held": we
			// cannot vouch for a host we could not see.
			res.Verdict, res.Worst = NoData, ev
		case ev.Verdict == Held && res.Verdict != Broken && !hasNoData(res.Series):
			res.Verdict = Held
			if m := margin(ev); m < worstMargin || res.Worst.Text == "" {
				worstMargin, res.Worst = m, ev
			}
		}
	}
	return res
}

func hasNoData(evs []Evidence) bool {
	for _, e := range evs {
		if e.Verdict == NoData {
			return true
		}
	}
	return false
}

// margin is how far a held value is from its limit, relative, so the series
// shown for a held panel is the one closest to breaking.
func margin(ev Evidence) float64 {
	if ev.Limit == 0 || math.IsInf(ev.Limit, 0) {
		return math.Abs(ev.Limit - ev.Value)
	}
	return math.Abs((ev.Limit - ev.Value) / ev.Limit)
}

func (e *Evaluator) evaluateSeries(c runbook.Check, unit runbook.Unit, series string, from, to time.Time) Evidence {
	th := c.Threshold
	pts := e.Source.Points(c.Panel, series, from, to)
	st := Summarize(from, to, pts)
	base := math.NaN()
	if th.Relation != runbook.Absolute {
		base = e.Baseline.Value(c.Panel, series)
	}
	ev := Evidence{Panel: c.Panel, Series: series, Check: th.Text, From: from, To: to,
		Count: st.Count, Gaps: st.Gaps, NaNs: st.NaNs, Baseline: base, Value: math.NaN(), Limit: math.NaN()}
	name := panelLabel(c.Panel, series)
	if st.Empty() {
		ev.Verdict = NoData
		ev.Text = fmt.Sprintf("%s: no data between %s and %s (%d gaps, %d NaN)", name, clock(from), clock(to), st.Gaps, st.NaNs)
		return ev
	}
	if th.Relation != runbook.Absolute && math.IsNaN(base) {
		ev.Verdict = NoData
		ev.Text = fmt.Sprintf("%s: %s needs a baseline, and the baseline window had no data", name, th.Text)
		return ev
	}
	vals := make([]float64, 0, st.Count)
	for _, p := range pts {
		if !p.Missing && !math.IsNaN(p.V) {
			vals = append(vals, p.V)
		}
	}
	slices.Sort(vals)
	q := HoldQuantile
	ev.Statistic = fmt.Sprintf("p95 of %s", steps(st.Count))
	words := "95th percentile"
	if th.Op == runbook.OpGT || th.Op == runbook.OpGE {
		q = 1 - HoldQuantile
		ev.Statistic = fmt.Sprintf("p5 of %s", steps(st.Count))
		words = "5th percentile"
	}
	ev.Value = quantile(vals, q)
	ev.Limit = th.Limit(base)
	met, known := satisfies(th, ev.Value, base)
	switch {
	case !known:
		ev.Verdict = NoData
	case met:
		ev.Verdict = Held
	default:
		ev.Verdict = Broken
	}
	// People read the value first; the statistic behind it is said in
	// words (Statistic keeps the short form for the JSON).
	ev.Text = fmt.Sprintf("%s %s: %s (%s of %s), against %s, %s–%s%s", name, ev.Verdict,
		runbook.FormatValue(ev.Value, unit), words, samples(st.Count), th.Describe(unit, base), clock(from), clock(to), gapNote(st))
	return ev
}

// satisfies reports whether v meets th, and whether that could be known.
// Met treats ±Inf as not met, which is right for "< 300ms" but wrong for a
// guardrail "> 2s": a quantile in the +Inf bucket is slower than anything,
// so infinities are compared with the limit directly here.
func satisfies(th runbook.Threshold, v, base float64) (met, known bool) {
	limit := th.Limit(base)
	if math.IsNaN(v) || math.IsNaN(limit) {
		return false, false
	}
	if !math.IsInf(v, 0) {
		return th.Met(v, base), true
	}
	switch th.Op {
	case runbook.OpLT:
		return v < limit, true
	case runbook.OpLE:
		return v <= limit, true
	case runbook.OpGT:
		return v > limit, true
	case runbook.OpGE:
		return v >= limit, true
	}
	return false, false
}

// GuardResult is a guardrail evaluated at one moment.
type GuardResult struct {
	Check runbook.Check
	// Fired: breached continuously for the threshold's `for` duration.
	Fired bool
	// Pending: breached now, not yet for long enough.
	Pending bool
	Series  string
	// Since is the step the current breach began; Breached how long it has
	// lasted in data time.
	Since    time.Time
	Breached time.Duration
	Evidence Evidence
}

// Guardrail evaluates a stop condition on each of the panel's series at
// their newest step. It fires when some series has breached at every step
// for at least the threshold's `for` duration. A gap or NaN ends a breach:
// a stop condition acts on evidence, and not seeing is metrics-blind's job.
func (e *Evaluator) Guardrail(c runbook.Check) GuardResult {
	unit := e.Panels[c.Panel].Unit
	step := e.Source.Step()
	best, found := GuardResult{Check: c}, false
	for _, s := range e.Source.Series(c.Panel) {
		g, ok := e.guardSeries(c, unit, s, step)
		if !ok {
			continue
		}
		if !found || g.Fired && !best.Fired || g.Fired == best.Fired && g.Breached > best.Breached {
			best, found = g, true
		}
	}
	return best
}

// guardSeries finds the breach run ending at the series' newest step.
func (e *Evaluator) guardSeries(c runbook.Check, unit runbook.Unit, s string, step time.Duration) (GuardResult, bool) {
	th := c.Threshold
	end := e.Source.End(c.Panel, s)
	if end.IsZero() {
		return GuardResult{}, false
	}
	base := math.NaN()
	if th.Relation != runbook.Absolute {
		base = e.Baseline.Value(c.Panel, s)
	}
	// One step more than the `for` window, so a run can be seen to span it
	// even when `for` is not a multiple of the step.
	pts := e.Source.Points(c.Panel, s, end.Add(-th.For-step), end)
	if len(pts) == 0 || !pts[len(pts)-1].T.Equal(end) {
		return GuardResult{}, false
	}
	newest := pts[len(pts)-1]
	var runStart time.Time
	run := 0
	// Walk back while breaching. A run that reaches the start of what was
	// fetched may be longer; fetch further back (bounded by the ring) so
	// Since says when the breach really began.
	for {
		broke := false
		for i := len(pts) - 1; i >= 0; i-- {
			p := pts[i]
			if p.Missing {
				broke = true
				break
			}
			if met, known := satisfies(th, p.V, base); !known || !met {
				broke = true
				break
			}
			runStart = p.T
			run++
		}
		if broke || len(pts) == 0 {
			break
		}
		older := pts[0].T.Add(-step)
		pts = e.Source.Points(c.Panel, s, older.Add(-max(th.For, time.Minute)), older)
	}
	if runStart.IsZero() {
		return GuardResult{}, false
	}
	g := GuardResult{Check: c, Series: s, Since: runStart, Breached: end.Sub(runStart)}
	g.Fired = g.Breached >= th.For
	g.Pending = !g.Fired
	state := "breached"
	if g.Fired {
		state = "fired"
	}
	g.Evidence = Evidence{Panel: c.Panel, Series: s, Check: th.Text, Statistic: "value at " + clock(end),
		Value: newest.V, Limit: th.Limit(base), Baseline: base, From: runStart, To: end, Count: run, Verdict: Broken,
		Text: fmt.Sprintf("guardrail %s %s: %s against %s; breached %s, since %s", panelLabel(c.Panel, s), state,
			runbook.FormatValue(newest.V, unit), th.Describe(unit, base), g.Breached, clock(runStart))}
	return g, true
}

// BlindResult is the metrics-blind guard evaluated at one moment.
type BlindResult struct {
	Fired  bool
	Panel  string
	Since  time.Time
	For    time.Duration
	Reason string
	// Unanswered: the server itself has not answered, as opposed to
	// answering with no data.
	Unanswered bool
}

// Blind decides metrics-blind: it fires when some panel has had no value,
// or the server has not answered its query, for at least limit. A limit of
// zero turns it off. Of the blind panels it reports the longest blind.
func Blind(health []Health, limit time.Duration, now time.Time) BlindResult {
	var worst BlindResult
	if limit <= 0 {
		return worst
	}
	for _, h := range health {
		answered := latest(h.LastAnswer, h.Started)
		seen := latest(h.LastData, h.Started)
		unanswered, noData := now.Sub(answered), now.Sub(seen)
		if h.LastData.After(h.Started) {
			noData -= h.Lag // a fresh value still trails the clock by up to Lag
		}
		r := BlindResult{Panel: h.Panel}
		switch {
		case unanswered >= limit:
			r.Since, r.For, r.Unanswered = answered, unanswered, true
			r.Reason = fmt.Sprintf("panel %s: the server has not answered for %s", h.Panel, unanswered.Round(time.Second))
			if h.LastErr != nil {
				r.Reason += ": " + h.LastErr.Error()
			}
		case noData >= limit:
			r.Since, r.For = seen, noData
			r.Reason = fmt.Sprintf("panel %s: no data for %s", h.Panel, noData.Round(time.Second))
			if h.Empty {
				r.Reason += " (the query returns no series)"
			}
		default:
			continue
		}
		r.Fired = true
		if r.For > worst.For {
			worst = r
		}
	}
	return worst
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func panelLabel(panel, series string) string {
	if series == "" {
		return panel
	}
	return panel + "[" + series + "]"
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.Format("15:04:05")
}

func gapNote(st Stats) string {
	var parts []string
	if st.Gaps > 0 {
		parts = append(parts, fmt.Sprintf("%d gaps", st.Gaps))
	}
	if st.NaNs > 0 {
		parts = append(parts, fmt.Sprintf("%d NaN", st.NaNs))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func samples(n int) string {
	if n == 1 {
		return "1 sample"
	}
	return fmt.Sprintf("%d samples", n)
}

func steps(n int) string {
	if n == 1 {
		return "1 step"
	}
	return fmt.Sprintf("%d steps", n)
}

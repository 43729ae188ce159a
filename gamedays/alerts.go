package gamedays

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/gameday/gameday/metrics/alerts"
	"github.com/gameday/gameday/runbook"
)

// Event types of the alerting: one alert reaching a state, and the
// judgement of the runbook's alerts section at conclude.
const (
	EvAlert   = "alert"
	EvAlerts  = "alerts"
	alertSlop = time.Second // Prometheus timestamps and ours may differ by this much
)

// AlertWatcher is the engine's view of the team's alerting;
// *alerts.Watcher is one.
type AlertWatcher interface {
	// Check says, before anything is injected, what makes the runbook's
	// alerts unobservable (an unknown rule, a silent Alertmanager).
	Check(ctx context.Context, file string, a runbook.Alerts) error
	// Poll returns the transitions since the last poll of alerts active
	// from since on, timed by their sources.
	Poll(ctx context.Context, since, now time.Time) ([]alerts.Transition, error)
	// Condition is the expression of the alerting rule named name, once
	// Check has read the rules.
	Condition(name string) (string, bool)
}

// AlertMark is one alert reaching one state (pending, firing, received,
// notified, resolved) at the time its source gives.
type AlertMark struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	State  string            `json:"state"`
	At     time.Time         `json:"at"`
}

// AlertResult is one expected or forbidden alert judged at conclude. Times
// are zero when the state was never reached.
type AlertResult struct {
	Alert    string    `json:"alert"` // name and labels, as the runbook gives them
	Forbid   bool      `json:"forbid,omitempty"`
	From     time.Time `json:"from"` // the inject the limits count from
	Pending  time.Time `json:"pending"`
	Firing   time.Time `json:"firing"`
	Notified time.Time `json:"notified"`
	Resolved time.Time `json:"resolved"`
	// RolledBack is the last rollback, which resolves_within counts from.
	RolledBack     time.Time     `json:"rolled_back"`
	FiresWithin    time.Duration `json:"fires_within,omitempty"`
	NotifiedWithin time.Duration `json:"notified_within,omitempty"`
	ResolvesWithin time.Duration `json:"resolves_within,omitempty"`
	// Watched is the runbook panel the alert's rule compares with a
	// number ("the error rate"; empty when no panel is the rule's), Past
	// the way it must go ("above its threshold (0.1)"), and Crossed the
	// first step from the inject on where it did (zero: never).
	Watched string    `json:"watched,omitempty"`
	Past    string    `json:"past,omitempty"`
	Crossed time.Time `json:"crossed,omitzero"`
	Held    bool      `json:"held"`
	Text    string    `json:"text"`
}

// alertBook is what the engine knows of the alerts while it runs.
type alertBook struct {
	mu           sync.Mutex
	marks        []AlertMark
	firstInject  map[string]time.Time // by attack
	runInject    time.Time
	lastRollback time.Time
}

// alertClock notes the times alerts are measured from: each attack's first
// inject and the last rollback, as journalled.
func (e *Engine) alertClock(ev Event) {
	if e.opts.Alerts == nil || ev.Injection == nil {
		return
	}
	b := &e.al
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev.Type {
	case EvAttackIntent:
		if b.firstInject == nil {
			b.firstInject = map[string]time.Time{}
		}
		if _, ok := b.firstInject[ev.Injection.Attack]; !ok {
			b.firstInject[ev.Injection.Attack] = ev.Time
		}
		if b.runInject.IsZero() {
			b.runInject = ev.Time
		}
	case EvRollbackResult:
		if ev.Time.After(b.lastRollback) {
			b.lastRollback = ev.Time
		}
	}
}

// checkAlerts says why the run cannot watch its alerts, before the baseline.
func (e *Engine) checkAlerts(ctx context.Context) string {
	a := e.rb.Alerts
	if e.opts.Alerts == nil {
		if len(a.Expect) > 0 || len(a.Forbid) > 0 {
			return "the runbook expects alerts but no Prometheus rules API is wired to watch them"
		}
		return ""
	}
	if err := e.opts.Alerts.Check(ctx, e.rb.File, a); err != nil {
		return "alerts cannot be watched, so nothing is injected: " + err.Error()
	}
	return ""
}

// pollAlerts journals the alert transitions since the last poll, from the
// run's start on.
func (e *Engine) pollAlerts(ctx context.Context) {
	e.mu.Lock()
	since := e.start
	e.mu.Unlock()
	if e.opts.Alerts == nil || since.IsZero() {
		return
	}
	ts, err := e.opts.Alerts.Poll(ctx, since.Add(-alertSlop), e.opts.Clock.Now())
	if err != nil && !e.aborted() {
		e.emit(Event{Type: EvMetricsError, Msg: "alerts: " + err.Error()})
	}
	for _, t := range ts {
		m := AlertMark{Name: t.Name(), Labels: maps.Clone(t.Labels), State: t.State, At: t.At.UTC()}
		delete(m.Labels, "alertname")
		e.al.mu.Lock()
		e.al.marks = append(e.al.marks, m)
		e.al.mu.Unlock()
		e.emit(Event{Type: EvAlert, Alert: &m})
	}
}

// awaitAlerts keeps watching after the observe period until every expected
// alert has done what the runbook asks or its limit has passed, so that a
// limit longer than the run is still judged on evidence.
func (e *Engine) awaitAlerts(ctx context.Context) error {
	if e.opts.Alerts == nil || len(e.rb.Alerts.Expect) == 0 {
		return nil
	}
	announced := false
	for {
		until := time.Time{}
		for _, r := range e.alertResults() {
			if w := r.waitUntil(); w.After(until) {
				until = w
			}
		}
		now := e.opts.Clock.Now()
		if until.IsZero() || !now.Before(until) {
			return nil
		}
		if !announced {
			announced = true
			e.emit(Event{Type: EvNote, Source: "alerts", Msg: fmt.Sprintf("watching the alerts up to %s more for their limits", FormatDuration(until.Sub(now).Round(time.Second)))})
		}
		if err := e.sleep(ctx, minTime(until, now.Add(e.rb.Metrics.Poll)), true); err != nil {
			return err
		}
	}
}

// waitUntil is when there is no more to wait for on r: zero when it is
// settled, else its latest open limit plus one poll for the evidence.
func (r AlertResult) waitUntil() time.Time {
	if r.Forbid || r.From.IsZero() {
		return time.Time{}
	}
	var until time.Time
	open := func(got time.Time, from time.Time, limit time.Duration) {
		if limit > 0 && got.IsZero() && !from.IsZero() {
			if t := from.Add(limit + alertSlop); t.After(until) {
				until = t
			}
		}
	}
	open(r.Firing, r.From, r.FiresWithin)
	open(r.Notified, r.From, r.NotifiedWithin)
	if !r.Firing.IsZero() {
		open(r.Resolved, r.RolledBack, r.ResolvesWithin)
	}
	return until
}

// judgeAlerts journals every alert's result and returns the reasons that
// refute the hypothesis.
func (e *Engine) judgeAlerts() []string {
	if e.opts.Alerts == nil {
		return nil
	}
	rs := e.alertResults()
	if len(rs) == 0 {
		return nil
	}
	var broken []string
	for _, r := range rs {
		if !r.Held {
			broken = append(broken, r.Text)
		}
	}
	e.emit(Event{Type: EvAlerts, Alerts: rs})
	return broken
}

// alertResults judges the runbook's alerts on what has been seen so far.
func (e *Engine) alertResults() []AlertResult {
	b := &e.al
	b.mu.Lock()
	marks := append([]AlertMark(nil), b.marks...)
	first, runInject, rolledBack := b.firstInject, b.runInject, b.lastRollback
	b.mu.Unlock()
	firstOf := func(match func(map[string]string) bool, state string, after time.Time) time.Time {
		for _, m := range marks {
			if m.State == state && match(withName(m)) && !m.At.Before(after) {
				return m.At
			}
		}
		return time.Time{}
	}
	var out []AlertResult
	for _, x := range e.rb.Alerts.Expect {
		from := runInject
		if x.Attack != "" {
			from = first[x.Attack]
		}
		r := AlertResult{Alert: x.Describe(), From: from, RolledBack: rolledBack,
			FiresWithin: x.FiresWithin, NotifiedWithin: x.NotifiedWithin, ResolvesWithin: x.ResolvesWithin}
		// An alert already firing before the fault proves nothing about it:
		// only transitions from the inject on count.
		start := from.Add(-alertSlop)
		r.Pending = firstOf(x.Matches, alerts.Pending, start)
		r.Firing = firstOf(x.Matches, alerts.Firing, start)
		r.Notified = firstOf(x.Matches, alerts.Notified, r.Firing)
		if !r.Firing.IsZero() {
			r.Resolved = firstOf(x.Matches, alerts.Resolved, r.Firing)
		}
		r.Watched, r.Past, r.Crossed = e.crossing(x.Name, from)
		r.Held, r.Text = judgeExpected(x, r)
		out = append(out, r)
	}
	for _, x := range e.rb.Alerts.Forbid {
		r := AlertResult{Alert: x.Describe(), Forbid: true, From: runInject, Held: true}
		for _, m := range marks {
			if m.State == alerts.Firing && x.Matches(withName(m)) && !runInject.IsZero() && !m.At.Before(runInject.Add(-alertSlop)) {
				r.Firing, r.Held = m.At, false
				r.Text = fmt.Sprintf("forbidden alert fired: %s at %s after the first inject", runbook.ExpectedAlert{Name: m.Name, Labels: m.Labels}.Describe(), FormatDuration(m.At.Sub(runInject).Round(time.Second)))
				break
			}
		}
		if r.Held {
			r.Text = "no " + r.Alert + " alert fired, as required"
		}
		out = append(out, r)
	}
	return out
}

// crossing finds the runbook panel the alert's rule compares with a number
// and the first step, from the inject on, where the panel was past it: the
// moment the alert had cause to fire.
func (e *Engine) crossing(name string, from time.Time) (panel, past string, first time.Time) {
	if e.opts.Metrics == nil || from.IsZero() {
		return "", "", first
	}
	expr, ok := e.opts.Alerts.Condition(name)
	if !ok {
		return "", "", first
	}
	w, ok := alerts.Watches(expr, e.rb.Metrics.Panels)
	if !ok {
		return "", "", first
	}
	title := w.Panel.Title
	if title == "" || title == w.Panel.Name {
		title = strings.ReplaceAll(w.Panel.Name, "_", " ")
	}
	for _, s := range e.opts.Metrics.Series(w.Panel.Name) {
		for _, pt := range e.opts.Metrics.Points(w.Panel.Name, s, from, time.Time{}) {
			if !pt.Missing && w.Crossed(pt.V) {
				if first.IsZero() || pt.T.Before(first) {
					first = pt.T
				}
				break
			}
		}
	}
	return "the " + title, fmt.Sprintf("%s its threshold (%g)", w.Words(), w.Limit), first
}

// tPlus writes d after the inject as T+m:ss, the way a facilitator calls
// out times.
func tPlus(d time.Duration) string {
	d = max(0, d.Round(time.Second))
	return fmt.Sprintf("T+%d:%02d", int(d/time.Minute), int(d%time.Minute/time.Second))
}

func withName(m AlertMark) map[string]string {
	l := maps.Clone(m.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l["alertname"] = m.Name
	return l
}

// judgeExpected words the verdict on one expected alert.
func judgeExpected(x runbook.ExpectedAlert, r AlertResult) (bool, string) {
	name := x.Describe()
	since := func(t time.Time) string { return FormatDuration(t.Sub(r.From).Round(100 * time.Millisecond)) }
	if r.From.IsZero() {
		return false, fmt.Sprintf("%s was not judged: its attack was never injected", name)
	}
	if r.Firing.IsZero() || r.Firing.Sub(r.From) > x.FiresWithin {
		why := fmt.Sprintf("monitoring gap: %s did not fire within %s", name, FormatDuration(x.FiresWithin))
		switch {
		case !r.Firing.IsZero():
			why += fmt.Sprintf("; it fired after %s", since(r.Firing))
		case !r.Pending.IsZero():
			why += fmt.Sprintf("; it was pending from %s after the inject", since(r.Pending))
		}
		switch {
		case r.Watched == "":
		case r.Crossed.IsZero():
			why += fmt.Sprintf("; %s was never %s", r.Watched, r.Past)
		default:
			why += fmt.Sprintf("; %s was %s from %s", r.Watched, r.Past, tPlus(r.Crossed.Sub(r.From)))
		}
		return false, why
	}
	text := fmt.Sprintf("%s fired %s after the inject (limit %s)", name, since(r.Firing), FormatDuration(x.FiresWithin))
	if x.NotifiedWithin > 0 {
		if r.Notified.IsZero() || r.Notified.Sub(r.From) > x.NotifiedWithin {
			why := fmt.Sprintf("monitoring gap: %s fired but was not notified within %s", name, FormatDuration(x.NotifiedWithin))
			if !r.Notified.IsZero() {
				why += fmt.Sprintf("; the page came after %s", since(r.Notified))
			}
			return false, why
		}
		text += fmt.Sprintf(", paged after %s (limit %s)", since(r.Notified), FormatDuration(x.NotifiedWithin))
	}
	if x.ResolvesWithin > 0 {
		if r.Resolved.IsZero() || r.RolledBack.IsZero() || r.Resolved.Sub(r.RolledBack) > x.ResolvesWithin {
			return false, fmt.Sprintf("%s did not resolve within %s of the last rollback", name, FormatDuration(x.ResolvesWithin))
		}
		text += fmt.Sprintf(", resolved %s after the last rollback (limit %s)", FormatDuration(r.Resolved.Sub(r.RolledBack).Round(100*time.Millisecond)), FormatDuration(x.ResolvesWithin))
	}
	return true, text
}

// describeAlert is Describe's wording of the alert events.
func (s *State) describeAlert(ev Event) string {
	if ev.Type == EvAlerts {
		held := 0
		var bad []string
		for _, r := range ev.Alerts {
			if r.Held {
				held++
			} else {
				bad = append(bad, r.Text)
			}
		}
		if len(bad) == 0 {
			return fmt.Sprintf("alerts: all %d as the runbook expects", held)
		}
		return fmt.Sprintf("alerts: %d of %d as expected; %s", held, len(ev.Alerts), strings.Join(bad, "; "))
	}
	if ev.Alert == nil {
		return "alert"
	}
	m := ev.Alert
	line := fmt.Sprintf("alert %s %s", runbook.ExpectedAlert{Name: m.Name, Labels: m.Labels}.Describe(), strings.ToUpper(m.State))
	if start := s.FirstInjectAt(); !start.IsZero() {
		line += fmt.Sprintf(" at %s after the first inject", FormatDuration(m.At.Sub(start).Round(100*time.Millisecond)))
	}
	return line
}

// FirstInjectAt is when the first attack intent was journalled: what
// alert times count from.
func (s *State) FirstInjectAt() time.Time {
	var first time.Time
	for _, in := range s.Injections {
		if !in.IntentAt.IsZero() && (first.IsZero() || in.IntentAt.Before(first)) {
			first = in.IntentAt
		}
	}
	return first
}

func alertLevel(ev Event) Level {
	if ev.Alert != nil && ev.Alert.State == alerts.Firing {
		return LevelWarn
	}
	for _, r := range ev.Alerts {
		if !r.Held {
			return LevelBad
		}
	}
	if ev.Type == EvAlerts {
		return LevelOK
	}
	return LevelInfo
}

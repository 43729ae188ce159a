package alerts

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gameday/gameday/runbook"
)

// Watcher follows alerts for one game day: the ALERTS series for exact
// pending, firing and resolved times, Alertmanager for what it received,
// and the webhook for what was paged.
type Watcher struct {
	Prom         v1.API
	PromURL      string        // for messages
	Alertmanager *Alertmanager // nil: not watched
	Webhook      *Webhook      // nil: time to page is not measured

	interval time.Duration // the slowest evaluation interval of the groups
	groups   []Group       // as Check read them
	alerts   map[string]*seen
	received map[string]bool
}

// seen is what is known of one alert instance.
type seen struct {
	labels                  map[string]string
	pending, firing         time.Time
	last                    time.Time // the latest firing sample
	resolved                bool
	pendingSent, firingSent bool
}

// Check reads the rule groups and says, before anything is injected, when
// an expected alert is defined in none of them, Alertmanager does not
// answer, or notified_within is asked for without a webhook. file names the
// runbook in errors.
func (w *Watcher) Check(ctx context.Context, file string, a runbook.Alerts) error {
	groups, err := Rules(ctx, w.Prom)
	if err != nil {
		return fmt.Errorf("prometheus at %s: %w", w.PromURL, err)
	}
	w.groups = groups
	var errs []error
	for i, e := range a.Expect {
		where := fmt.Sprintf("%s:%d:%d: alerts.expect[%d]", file, e.Pos.Line, e.Pos.Col, i)
		r, g, ok := Find(groups, e.Name)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no alerting rule named %s at %s; looked in %s", where, e.Name, w.PromURL, Looked(groups)))
			continue
		}
		w.interval = max(w.interval, g.Interval)
		if r.For >= e.FiresWithin {
			errs = append(errs, fmt.Errorf("%s: %s cannot fire within %s: its rule (group %s) waits for: %s", where, e.Name, runbook.FormatDuration(e.FiresWithin), g.Name, runbook.FormatDuration(r.For)))
		}
		if e.NotifiedWithin > 0 && w.Webhook == nil {
			errs = append(errs, fmt.Errorf("%s: notified_within needs gameday's webhook receiver: run with --alert-webhook ADDR and route Alertmanager to it (docs/alerting.md)", where))
		}
	}
	if w.Alertmanager != nil {
		if err := w.Alertmanager.Check(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: alerts.alertmanager: %w", file, err))
		}
	}
	return errors.Join(errs...)
}

// Interval is the slowest evaluation interval of the groups the expected
// alerts are in, once Check has run: ALERTS times are that precise.
func (w *Watcher) Interval() time.Duration { return w.interval }

// Condition is the expression of the alerting rule named name, once Check
// has read the rules.
func (w *Watcher) Condition(name string) (string, bool) {
	r, _, ok := Find(w.groups, name)
	return r.Query, ok
}

// Poll returns the transitions that happened since the last poll, for
// alerts active from since on. Times are the sources' own: Prometheus's
// evaluation timestamps in ALERTS, the webhook's arrival time.
func (w *Watcher) Poll(ctx context.Context, since, now time.Time) ([]Transition, error) {
	if w.alerts == nil {
		w.alerts, w.received = map[string]*seen{}, map[string]bool{}
	}
	if err := w.readALERTS(ctx, since, now); err != nil {
		return nil, err
	}
	out := w.transitions(now)
	if w.Alertmanager != nil {
		am, err := w.Alertmanager.Alerts(ctx)
		if err != nil {
			return out, err
		}
		for _, x := range am {
			key := Key(x.Labels)
			if !w.received[key] && x.Status.State != "unprocessed" {
				w.received[key] = true
				out = append(out, Transition{Labels: x.Labels, State: Received, At: now})
			}
		}
	}
	if w.Webhook != nil {
		out = append(out, w.Webhook.Drain()...)
	}
	return out, nil
}

// readALERTS records, per alert, the first pending and firing times and
// the last firing sample that Prometheus's ALERTS series holds from since.
func (w *Watcher) readALERTS(ctx context.Context, since, now time.Time) error {
	window := now.Sub(since).Truncate(time.Second) + time.Second
	q := fmt.Sprintf("ALERTS[%ds]", int(window.Seconds()))
	v, _, _, err := w.Prom.Query(ctx, q, now)
	if err != nil {
		return fmt.Errorf("prometheus at %s: %s: %w", w.PromURL, q, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return fmt.Errorf("prometheus at %s: %s answered %s, want a matrix", w.PromURL, q, v.Type())
	}
	for _, s := range m {
		labels := map[string]string{}
		for k, v := range s.Metric {
			if k != model.MetricNameLabel && k != alertState {
				labels[string(k)] = string(v)
			}
		}
		key := Key(labels)
		a := w.alerts[key]
		if a == nil {
			a = &seen{labels: labels}
			w.alerts[key] = a
		}
		a.record(string(s.Metric[alertState]), s.Values, since)
	}
	return nil
}

// record keeps the earliest pending and firing times, and the latest
// firing sample, of one ALERTS series.
func (a *seen) record(state string, values []model.SamplePair, since time.Time) {
	for _, p := range values {
		t := p.Timestamp.Time()
		if t.Before(since) {
			continue
		}
		switch state {
		case Pending:
			if a.pending.IsZero() || t.Before(a.pending) {
				a.pending = t
			}
		case Firing:
			if a.firing.IsZero() || t.Before(a.firing) {
				a.firing = t
			}
			a.last = t
		}
	}
}

// transitions says, once each, when an alert went pending, firing and
// resolved. An alert is resolved once Prometheus has not written it firing
// for two evaluations: Prometheus writes ALERTS at every evaluation while
// it fires, and ends the series (a stale marker) at the evaluation it
// resolves, one interval after the last sample.
func (w *Watcher) transitions(now time.Time) []Transition {
	var out []Transition
	step := max(w.interval, time.Second)
	for _, key := range slices.Sorted(maps.Keys(w.alerts)) {
		a := w.alerts[key]
		if !a.pending.IsZero() && !a.pendingSent {
			a.pendingSent = true
			out = append(out, Transition{Labels: a.labels, State: Pending, At: a.pending})
		}
		if !a.firing.IsZero() && !a.firingSent {
			a.firingSent = true
			out = append(out, Transition{Labels: a.labels, State: Firing, At: a.firing})
		}
		if a.firingSent && !a.resolved && now.Sub(a.last) > 2*step {
			a.resolved = true
			out = append(out, Transition{Labels: a.labels, State: Resolved, At: a.last.Add(step)})
		}
	}
	return out
}

// alertState is the label ALERTS carries the state in.
const alertState model.LabelName = "alertstate"

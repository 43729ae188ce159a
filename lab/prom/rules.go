package prom

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/template"
)

// Alert states, as Prometheus names them.
const (
	stateInactive = "inactive"
	statePending  = "pending"
	stateFiring   = "firing"
)

// resolvedRetention is how long Prometheus keeps a resolved alert, so it
// can still tell Alertmanager it resolved.
const resolvedRetention = 15 * time.Minute

// ruleSet is the rule groups loaded and the loops evaluating them.
type ruleSet struct {
	mu     sync.Mutex
	groups []*ruleGroup
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// ruleGroup is one group of a rule file, evaluated in order at its own
// interval, as Prometheus evaluates it.
type ruleGroup struct {
	name, file string
	interval   time.Duration
	rules      []*rule
	// mu guards what the API reads while the group evaluates.
	mu       sync.Mutex
	lastEval time.Time
	evalDur  time.Duration
	// alertsSeries are the ALERTS series of the last evaluation, to
	// stale-mark those that end, as Prometheus does.
	alertsSeries map[uint64]labels.Labels
}

// rule is an alerting rule (alert set) or a recording rule (record set).
type rule struct {
	alert, record string
	expr          string // as Prometheus prints it
	hold, keep    time.Duration
	labels, anns  map[string]string
	active        map[uint64]*alert
	health        string
	lastErr       string
	lastEval      time.Time
	evalDur       time.Duration
}

// alert is one instance of an alerting rule.
type alert struct {
	lset                          labels.Labels
	anns                          map[string]string
	state                         string
	value                         float64
	activeAt, firedAt, resolvedAt time.Time
	keepFiringSince               time.Time
}

// SetRules replaces the alerting and recording rules with those of a
// Prometheus rule file, parsed and validated by Prometheus's own rulefmt.
// file names the rules in /api/v1/rules; groups without an interval are
// evaluated at the scrape interval.
func (s *Server) SetRules(file string, src []byte) error {
	rgs, errs := rulefmt.Parse(src, false, model.UTF8Validation, s.parser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("lab metrics: rules %s: %s", file, strings.Join(msgs, "; "))
	}
	var groups []*ruleGroup
	for _, g := range rgs.Groups {
		rg := &ruleGroup{name: g.Name, file: file, interval: time.Duration(g.Interval)}
		if rg.interval <= 0 {
			rg.interval = s.interval
		}
		for _, r := range g.Rules {
			expr, err := s.parser.ParseExpr(r.Expr)
			if err != nil {
				return fmt.Errorf("lab metrics: rules %s: group %s: %w", file, g.Name, err)
			}
			lbls := maps.Clone(g.Labels)
			if lbls == nil {
				lbls = map[string]string{}
			}
			maps.Copy(lbls, r.Labels)
			rg.rules = append(rg.rules, &rule{
				alert: r.Alert, record: r.Record, expr: expr.String(),
				hold: time.Duration(r.For), keep: time.Duration(r.KeepFiringFor),
				labels: lbls, anns: r.Annotations, active: map[uint64]*alert{}, health: "unknown",
			})
		}
		groups = append(groups, rg)
	}

	rs := &s.rules
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.cancel != nil {
		rs.cancel()
		rs.done.Wait()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	rs.groups, rs.cancel = groups, cancel
	for _, g := range groups {
		rs.done.Add(1)
		go func() {
			defer rs.done.Done()
			s.evalLoop(ctx, g)
		}()
	}
	return nil
}

// stopRules ends the evaluation loops.
func (s *Server) stopRules() {
	s.rules.mu.Lock()
	defer s.rules.mu.Unlock()
	if s.rules.cancel != nil {
		s.rules.cancel()
	}
	s.rules.done.Wait()
}

// evalLoop evaluates g at every multiple of its interval until ctx ends.
func (s *Server) evalLoop(ctx context.Context, g *ruleGroup) {
	for {
		next := time.Now().Truncate(g.interval).Add(g.interval)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		s.evalGroup(ctx, g, next)
	}
}

// evalGroup evaluates every rule of g at ts, in order, and writes what
// they produce: recorded series, and ALERTS for each pending or firing
// alert, with stale markers for the ALERTS series that ended.
func (s *Server) evalGroup(ctx context.Context, g *ruleGroup, ts time.Time) {
	start := time.Now()
	t := timestamp.FromTime(ts)
	now := map[uint64]labels.Labels{}
	for _, r := range g.rules {
		began := time.Now()
		vec, err := s.instant(ctx, r.expr, ts)
		app := s.db.Appender(ctx)
		g.mu.Lock()
		r.lastEval = ts
		if err != nil {
			r.health, r.lastErr = "err", err.Error()
		} else {
			r.health, r.lastErr = "ok", ""
			if r.record != "" {
				for _, smpl := range vec {
					b := labels.NewBuilder(smpl.Metric)
					b.Set(labels.MetricName, r.record)
					for k, v := range r.labels {
						b.Set(k, v)
					}
					_, _ = app.Append(0, b.Labels(), t, smpl.F)
				}
			} else {
				for _, lset := range r.evalAlert(ctx, s, vec, ts) {
					now[lset.Hash()] = lset
					_, _ = app.Append(0, lset, t, 1)
				}
			}
		}
		r.evalDur = time.Since(began)
		g.mu.Unlock()
		_ = app.Commit()
	}
	app := s.db.Appender(ctx)
	g.mu.Lock()
	for h, lset := range g.alertsSeries {
		if _, ok := now[h]; !ok {
			_, _ = app.Append(0, lset, t, staleNaN)
		}
	}
	g.alertsSeries, g.lastEval, g.evalDur = now, ts, time.Since(start)
	g.mu.Unlock()
	_ = app.Commit()
}

// instant runs q at ts with the server's engine.
func (s *Server) instant(ctx context.Context, q string, ts time.Time) (promql.Vector, error) {
	qry, err := s.engine.NewInstantQuery(ctx, s.db, nil, q, ts)
	if err != nil {
		return nil, err
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	vec, err := res.Vector()
	if err != nil {
		return nil, fmt.Errorf("%s: an alerting or recording rule must return a vector: %w", q, err)
	}
	return vec, nil
}

// evalAlert moves the rule's alerts on by one evaluation, as Prometheus's
// AlertingRule.Eval does: a new result is pending from ts, fires once it
// has been active for the rule's for:, and a firing alert missing from the
// result resolves (after keep_firing_for). It returns the ALERTS series of
// the alerts now pending or firing.
func (r *rule) evalAlert(ctx context.Context, s *Server, vec promql.Vector, ts time.Time) []labels.Labels {
	seen := map[uint64]bool{}
	for _, smpl := range vec {
		b := labels.NewBuilder(smpl.Metric)
		b.Del(labels.MetricName)
		data := template.AlertTemplateData(smpl.Metric.Map(), nil, "", promql.Sample{F: smpl.F, Metric: smpl.Metric})
		for k, v := range r.labels {
			b.Set(k, s.expand(ctx, r.alert, v, data, ts))
		}
		b.Set(labels.AlertName, r.alert)
		lset := b.Labels()
		h := lset.Hash()
		seen[h] = true
		anns := map[string]string{}
		for k, v := range r.anns {
			anns[k] = s.expand(ctx, r.alert, v, data, ts)
		}
		if a, ok := r.active[h]; ok && a.state != stateInactive {
			a.value, a.anns = smpl.F, anns
			continue
		}
		r.active[h] = &alert{lset: lset, anns: anns, state: statePending, value: smpl.F, activeAt: ts}
	}
	var out []labels.Labels
	for h, a := range r.active {
		if !seen[h] {
			keepFiring := false
			if a.state == stateFiring && r.keep > 0 {
				if a.keepFiringSince.IsZero() {
					a.keepFiringSince = ts
				}
				keepFiring = ts.Sub(a.keepFiringSince) < r.keep
			}
			if a.state == statePending || (!a.resolvedAt.IsZero() && ts.Sub(a.resolvedAt) > resolvedRetention) {
				delete(r.active, h)
			}
			if a.state != stateInactive && !keepFiring {
				a.state, a.resolvedAt = stateInactive, ts
			}
			if !keepFiring {
				continue
			}
		} else {
			a.keepFiringSince = time.Time{}
		}
		if a.state == statePending && ts.Sub(a.activeAt) >= r.hold {
			a.state, a.firedAt = stateFiring, ts
		}
		b := labels.NewBuilder(a.lset)
		b.Set(labels.MetricName, "ALERTS")
		b.Set("alertstate", a.state)
		out = append(out, b.Labels())
	}
	return out
}

// expand fills in a label or annotation template the way Prometheus does
// ({{ $labels.instance }}, {{ $value }}); on error the text stays as
// written, with the error, as Prometheus shows it.
func (s *Server) expand(ctx context.Context, name, text string, data any, ts time.Time) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	e := template.NewTemplateExpander(ctx, defs+text, "__alert_"+name, data, model.Time(timestamp.FromTime(ts)),
		func(ctx context.Context, q string, t time.Time) (promql.Vector, error) { return s.instant(ctx, q, t) }, nil, nil)
	out, err := e.Expand()
	if err != nil {
		return fmt.Sprintf("<error expanding template: %v>", err)
	}
	return out
}

// The JSON of /api/v1/rules and /api/v1/alerts, field for field as
// Prometheus writes it.
type (
	groupJSON struct {
		Name           string     `json:"name"`
		File           string     `json:"file"`
		Rules          []ruleJSON `json:"rules"`
		Interval       float64    `json:"interval"`
		Limit          int        `json:"limit"`
		EvaluationTime float64    `json:"evaluationTime"`
		LastEvaluation time.Time  `json:"lastEvaluation"`
	}
	ruleJSON struct {
		State          string            `json:"state,omitempty"`
		Name           string            `json:"name"`
		Query          string            `json:"query"`
		Duration       *float64          `json:"duration,omitempty"`
		KeepFiringFor  *float64          `json:"keepFiringFor,omitempty"`
		Labels         map[string]string `json:"labels"`
		Annotations    map[string]string `json:"annotations,omitempty"`
		Alerts         []alertJSON       `json:"alerts,omitempty"`
		Health         string            `json:"health"`
		LastError      string            `json:"lastError,omitempty"`
		EvaluationTime float64           `json:"evaluationTime"`
		LastEvaluation time.Time         `json:"lastEvaluation"`
		Type           string            `json:"type"`
	}
	alertJSON struct {
		Labels          map[string]string `json:"labels"`
		Annotations     map[string]string `json:"annotations"`
		State           string            `json:"state"`
		ActiveAt        *time.Time        `json:"activeAt,omitempty"`
		KeepFiringSince *time.Time        `json:"keepFiringSince,omitempty"`
		Value           string            `json:"value"`
	}
)

// ruleGroups is what /api/v1/rules answers.
func (s *Server) ruleGroups() []groupJSON {
	s.rules.mu.Lock()
	groups := slices.Clone(s.rules.groups)
	s.rules.mu.Unlock()
	out := make([]groupJSON, 0, len(groups))
	for _, g := range groups {
		g.mu.Lock()
		gj := groupJSON{Name: g.name, File: g.file, Interval: g.interval.Seconds(), EvaluationTime: g.evalDur.Seconds(), LastEvaluation: g.lastEval, Rules: []ruleJSON{}}
		for _, r := range g.rules {
			rj := ruleJSON{Name: r.record, Query: r.expr, Labels: r.labels, Health: r.health, LastError: r.lastErr,
				EvaluationTime: r.evalDur.Seconds(), LastEvaluation: r.lastEval, Type: "recording"}
			if r.alert != "" {
				hold, keep := r.hold.Seconds(), r.keep.Seconds()
				rj.Name, rj.Type, rj.Duration, rj.KeepFiringFor, rj.Annotations = r.alert, "alerting", &hold, &keep, r.anns
				rj.Alerts = r.alertsJSON()
				rj.State = stateInactive
				for _, a := range rj.Alerts {
					if a.State == stateFiring || rj.State == stateInactive {
						rj.State = a.State
					}
				}
				if rj.Alerts == nil {
					rj.Alerts = []alertJSON{}
				}
			}
			gj.Rules = append(gj.Rules, rj)
		}
		g.mu.Unlock()
		out = append(out, gj)
	}
	return out
}

// alertsJSON lists the rule's pending and firing alerts; the caller holds
// the group's lock.
func (r *rule) alertsJSON() []alertJSON {
	var out []alertJSON
	for _, a := range r.active {
		if a.state == stateInactive {
			continue
		}
		at := a.activeAt
		aj := alertJSON{Labels: a.lset.Map(), Annotations: a.anns, State: a.state, ActiveAt: &at, Value: formatValue(a.value)}
		if aj.Annotations == nil {
			aj.Annotations = map[string]string{}
		}
		if !a.keepFiringSince.IsZero() {
			k := a.keepFiringSince
			aj.KeepFiringSince = &k
		}
		out = append(out, aj)
	}
	slices.SortFunc(out, func(a, b alertJSON) int {
		return strings.Compare(labels.FromMap(a.Labels).String(), labels.FromMap(b.Labels).String())
	})
	return out
}

// formatValue writes an alert's value as Prometheus does.
func formatValue(v float64) string {
	return strconv.FormatFloat(v, 'e', -1, 64)
}

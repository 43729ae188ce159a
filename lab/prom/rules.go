package prom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
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
// Prometheus rule file (read strictly, as Prometheus reads it).
// file names the rules in /api/v1/rules; groups without an interval are
// evaluated at the scrape interval.
func (s *Server) SetRules(file string, src []byte) error {
	groups, err := parseRules(s.parser, file, src, s.interval)
	if err != nil {
		return err
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

// CheckRules says whether src is a rule file the lab can evaluate.
func CheckRules(file string, src []byte) error {
	_, err := parseRules(parser.NewParser(parser.Options{}), file, src, DefaultInterval)
	return err
}

// ruleFile is Prometheus's rule file format, field for field.
type ruleFile struct {
	Groups []struct {
		Name        string            `yaml:"name"`
		Interval    string            `yaml:"interval"`
		QueryOffset string            `yaml:"query_offset"`
		Limit       int               `yaml:"limit"`
		Labels      map[string]string `yaml:"labels"`
		Rules       []struct {
			Record        string            `yaml:"record"`
			Alert         string            `yaml:"alert"`
			Expr          string            `yaml:"expr"`
			For           string            `yaml:"for"`
			KeepFiringFor string            `yaml:"keep_firing_for"`
			Labels        map[string]string `yaml:"labels"`
			Annotations   map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// parseRules reads a rule file strictly, as Prometheus does (unknown
// fields, a rule both or neither alert and record, a bad expression or
// duration are errors); groups without an interval get interval. The
// file is read here rather than by Prometheus's rulefmt, which brings its
// template engine and nearly triples the binary.
func parseRules(p parser.Parser, file string, src []byte, interval time.Duration) ([]*ruleGroup, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("lab metrics: rules %s: %s", file, fmt.Sprintf(format, args...))
	}
	var rf ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil && !errors.Is(err, io.EOF) {
		return nil, fail("%v", err)
	}
	dur := func(where, s string) (time.Duration, error) {
		if s == "" {
			return 0, nil
		}
		d, err := model.ParseDuration(s)
		if err != nil {
			return 0, fail("%s: %v", where, err)
		}
		return time.Duration(d), nil
	}
	var groups []*ruleGroup
	seen := map[string]bool{}
	for gi, g := range rf.Groups {
		if g.Name == "" {
			return nil, fail("group %d: no name", gi+1)
		}
		if seen[g.Name] {
			return nil, fail("group %q: named twice", g.Name)
		}
		seen[g.Name] = true
		every, err := dur(fmt.Sprintf("group %q: interval", g.Name), g.Interval)
		if err != nil {
			return nil, err
		}
		rg := &ruleGroup{name: g.Name, file: file, interval: every}
		if rg.interval <= 0 {
			rg.interval = interval
		}
		for ri, r := range g.Rules {
			where := fmt.Sprintf("group %q, rule %d", g.Name, ri+1)
			if (r.Record == "") == (r.Alert == "") {
				return nil, fail("%s: one of 'record' or 'alert' must be set", where)
			}
			if r.Record != "" && (r.For != "" || r.KeepFiringFor != "" || r.Annotations != nil) {
				return nil, fail("%s: a recording rule has no for, keep_firing_for or annotations", where)
			}
			if r.Record != "" && !model.UTF8Validation.IsValidMetricName(r.Record) {
				return nil, fail("%s: invalid recording rule name %q", where, r.Record)
			}
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				return nil, fail("%s: could not parse expression: %v", where, err)
			}
			hold, err := dur(where+": for", r.For)
			if err != nil {
				return nil, err
			}
			keep, err := dur(where+": keep_firing_for", r.KeepFiringFor)
			if err != nil {
				return nil, err
			}
			lbls := maps.Clone(g.Labels)
			if lbls == nil {
				lbls = map[string]string{}
			}
			maps.Copy(lbls, r.Labels)
			rg.rules = append(rg.rules, &rule{
				alert: r.Alert, record: r.Record, expr: expr.String(), hold: hold, keep: keep,
				labels: lbls, anns: r.Annotations, active: map[uint64]*alert{}, health: "unknown",
			})
		}
		groups = append(groups, rg)
	}
	return groups, nil
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
				for _, lset := range r.evalAlert(vec, ts) {
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
func (r *rule) evalAlert(vec promql.Vector, ts time.Time) []labels.Labels {
	seen := map[uint64]bool{}
	for _, smpl := range vec {
		b := labels.NewBuilder(smpl.Metric)
		b.Del(labels.MetricName)
		for k, v := range r.labels {
			b.Set(k, expand(v, smpl.Metric, smpl.F))
		}
		b.Set(labels.AlertName, r.alert)
		lset := b.Labels()
		h := lset.Hash()
		seen[h] = true
		anns := map[string]string{}
		for k, v := range r.anns {
			anns[k] = expand(v, smpl.Metric, smpl.F)
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

// templateRef is a reference to an alert's labels or value in a label or
// annotation: {{ $labels.instance }}, {{ $value }}.
var templateRef = regexp.MustCompile(`\{\{\s*\$(labels\.([a-zA-Z_][a-zA-Z0-9_]*)|value)\s*\}\}`)

// expand fills in {{ $labels.NAME }} and {{ $value }} as Prometheus's
// templates do; other template text stays as written (the lab does not
// carry Prometheus's template engine).
func expand(text string, metric labels.Labels, value float64) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	return templateRef.ReplaceAllStringFunc(text, func(m string) string {
		sub := templateRef.FindStringSubmatch(m)
		if sub[1] == "value" {
			return strconv.FormatFloat(value, 'g', -1, 64)
		}
		return metric.Get(sub[2])
	})
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

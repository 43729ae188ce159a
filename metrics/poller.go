package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gameday/gameday/runbook"
)

// Querier is the part of the Prometheus API the package uses. v1.API
// satisfies it; the engine's tests fake it.
type Querier interface {
	Query(ctx context.Context, query string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error)
	QueryRange(ctx context.Context, query string, r v1.Range, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error)
}

// Defaults for Config fields left zero.
const (
	DefaultStep      = 5 * time.Second
	DefaultRetain    = 12 * time.Hour
	DefaultMaxSteps  = 1000
	DefaultMaxSeries = 32
)

// Config tunes a Poller.
type Config struct {
	Panels []runbook.Panel
	// Step is the query_range resolution and the ring's step.
	Step time.Duration
	// Interval is how often Run polls; default Step.
	Interval time.Duration
	// Timeout bounds each query; default DefaultTimeout.
	Timeout time.Duration
	// Retain is how much history each series keeps; default 12h.
	Retain time.Duration
	// Since is the first step to fetch, e.g. the start of the baseline so
	// the charts open with history. Zero means the step containing now.
	Since time.Time
	// Delay holds back the newest steps by this much, for servers that
	// ingest late (remote write into Mimir or Amazon Managed Prometheus);
	// a step is fetched once and never again, so it must be complete.
	Delay time.Duration
	// MaxSteps caps the steps asked for in one request; a poller that fell
	// behind catches up over several polls instead of one huge answer.
	MaxSteps int
	// MaxSeries caps series per panel, so a query that suddenly matches
	// thousands of series cannot exhaust memory. Extra series are counted
	// in Health.Dropped.
	MaxSeries int
	// URL names the server in error messages.
	URL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnPoll, if set, is called by Run after every poll with its error.
	OnPoll func(error)
}

// ConfigFor fills a Config from the runbook's metrics section.
func ConfigFor(m runbook.Metrics, panels []runbook.Panel, url string) Config {
	return Config{Panels: panels, Step: m.Step, Interval: m.Poll, Timeout: m.Timeout, URL: url}
}

func (c Config) withDefaults() Config {
	if c.Step <= 0 {
		c.Step = DefaultStep
	}
	if c.Interval <= 0 {
		c.Interval = c.Step
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Retain <= 0 {
		c.Retain = DefaultRetain
	}
	if c.MaxSteps <= 0 {
		c.MaxSteps = DefaultMaxSteps
	}
	if c.MaxSeries <= 0 {
		c.MaxSeries = DefaultMaxSeries
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Health is what the poller knows about one panel's reachability and
// freshness; metrics-blind is decided from it.
type Health struct {
	Panel string
	// Started is when polling began; blindness is measured from here until
	// the first answer or value.
	Started time.Time
	// LastAnswer is the wall time the server last answered this panel's query.
	LastAnswer time.Time
	// LastData is the step time of the newest value that was neither a gap
	// nor NaN.
	LastData time.Time
	// LastErr is the last query's error, nil after a success.
	LastErr error
	// Empty says the last answer held no series at all.
	Empty   bool
	Series  int
	Dropped int
	// Fetched is the step range the last successful query covered.
	FetchedFrom, FetchedTo time.Time
	// Lag is how old the newest value is, at most, while everything is
	// healthy: a step's timestamp trails the clock by up to a step, plus the
	// ingestion delay held back, plus the time between polls. No-data is
	// measured beyond it, so a healthy panel is never taken for a quiet one.
	Lag time.Duration
}

type panelState struct {
	panel  runbook.Panel
	next   time.Time
	series map[string]*Ring
	order  []string
	health Health
}

// Poller fetches each panel's new steps and keeps them in rings. It is safe
// for concurrent use: one goroutine polls while others read.
type Poller struct {
	q   Querier
	cfg Config
	cap int

	pollMu sync.Mutex // one poll at a time, so a panel's next step has one writer

	mu     sync.RWMutex
	panels []*panelState
	byName map[string]*panelState
}

// NewPoller returns a poller over q. Nothing is fetched until Poll or Run.
func NewPoller(q Querier, cfg Config) *Poller {
	cfg = cfg.withDefaults()
	p := &Poller{q: q, cfg: cfg, byName: map[string]*panelState{}}
	p.cap = int(cfg.Retain/cfg.Step) + 1
	now := cfg.Now()
	for _, pn := range cfg.Panels {
		st := &panelState{panel: pn, series: map[string]*Ring{}, health: Health{Panel: pn.Name, Started: now, Lag: cfg.Step + cfg.Delay + cfg.Interval}}
		p.panels = append(p.panels, st)
		p.byName[pn.Name] = st
	}
	return p
}

// Step is the resolution of every series.
func (p *Poller) Step() time.Duration { return p.cfg.Step }

// Now is the poller's clock, so evaluations use the same time it does.
func (p *Poller) Now() time.Time { return p.cfg.Now() }

// Panels returns the panels in the order they were configured.
func (p *Poller) Panels() []runbook.Panel {
	out := make([]runbook.Panel, len(p.panels))
	for i, st := range p.panels {
		out[i] = st.panel
	}
	return out
}

// Run polls now and then every Interval until ctx ends. It returns ctx's
// error. Query failures do not stop it: they are recorded in Health and
// passed to OnPoll, and metrics-blind decides when they matter.
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		err := p.Poll(ctx)
		if p.cfg.OnPoll != nil && ctx.Err() == nil {
			p.cfg.OnPoll(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Poll fetches the steps each panel has not seen yet, all panels at once so
// one slow query does not delay the others. It returns the panels' errors
// joined, each a *QueryError.
func (p *Poller) Poll(ctx context.Context) error {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	now := p.cfg.Now()
	errs := make([]error, len(p.panels))
	var wg sync.WaitGroup
	for i, st := range p.panels {
		wg.Go(func() {
			errs[i] = p.pollPanel(ctx, st, now)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (p *Poller) align(t time.Time) time.Time {
	step := p.cfg.Step
	return time.UnixMilli(floorDiv(t.UnixMilli(), step.Milliseconds()) * step.Milliseconds())
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// window picks the steps to ask for: from the first unseen step to the
// newest complete one, never more than MaxSteps and never older than the
// rings keep.
func (p *Poller) window(st *panelState, now time.Time) (start, end time.Time, ok bool) {
	step := p.cfg.Step
	end = p.align(now.Add(-p.cfg.Delay))
	p.mu.RLock()
	start = st.next
	p.mu.RUnlock()
	if start.IsZero() {
		start = end
		if !p.cfg.Since.IsZero() {
			start = p.align(p.cfg.Since)
			if p.align(p.cfg.Since).Before(p.cfg.Since) {
				start = start.Add(step)
			}
		}
	}
	if oldest := end.Add(-time.Duration(p.cap-1) * step); start.Before(oldest) {
		start = oldest
	}
	if start.After(end) {
		return start, end, false
	}
	if last := start.Add(time.Duration(p.cfg.MaxSteps-1) * step); last.Before(end) {
		end = last
	}
	return start, end, true
}

func (p *Poller) pollPanel(ctx context.Context, st *panelState, now time.Time) error {
	start, end, ok := p.window(st, now)
	if !ok {
		return nil // polled faster than the step: nothing new yet
	}
	qctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	val, _, _, err := p.q.QueryRange(qctx, st.panel.Query, v1.Range{Start: start, End: end, Step: p.cfg.Step}, v1.WithTimeout(p.cfg.Timeout))
	if err == nil {
		if _, isMatrix := val.(model.Matrix); !isMatrix && val != nil {
			err = &v1.Error{Type: v1.ErrBadResponse, Msg: fmt.Sprintf("query_range returned a %s, want a matrix", val.Type())}
		}
	}
	if err != nil {
		err = Explain(st.panel.Name, st.panel.Query, p.cfg.URL, err)
		p.mu.Lock()
		st.health.LastErr = err
		p.mu.Unlock()
		return err
	}
	m, _ := val.(model.Matrix)
	answered := p.cfg.Now()

	p.mu.Lock()
	defer p.mu.Unlock()
	st.health.LastAnswer = answered
	st.health.LastErr = nil
	st.health.Empty = len(m) == 0
	st.health.FetchedFrom, st.health.FetchedTo = start, end
	for _, ss := range m {
		key := seriesKey(st.panel, ss.Metric)
		r, ok := st.series[key]
		if !ok {
			if len(st.series) >= p.cfg.MaxSeries {
				st.health.Dropped++
				continue
			}
			r = NewRing(p.cfg.Step, p.cap)
			// Start the new series at the window's start so steps before its
			// first sample read as gaps, not as outside the series.
			r.Extend(start)
			st.series[key] = r
			st.order = append(st.order, key)
		}
		for _, sp := range ss.Values {
			t := sp.Timestamp.Time()
			v := float64(sp.Value)
			r.Put(t, v)
			if !math.IsNaN(v) && t.After(st.health.LastData) {
				st.health.LastData = t
			}
		}
	}
	for _, r := range st.series {
		r.Extend(end)
	}
	st.health.Series = len(st.series)
	st.next = end.Add(p.cfg.Step)
	return nil
}

// seriesKey names a series within its panel: the value of the panel's By
// label when it splits, otherwise the whole label set ("" for a single
// unlabelled series, the usual case for an aggregate).
func seriesKey(pn runbook.Panel, m model.Metric) string {
	if pn.By != "" {
		if v, ok := m[model.LabelName(pn.By)]; ok {
			return string(v)
		}
	}
	if len(m) == 0 {
		return ""
	}
	return m.String()
}

// Health returns every panel's health, in panel order.
func (p *Poller) Health() []Health {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]Health, len(p.panels))
	for i, st := range p.panels {
		out[i] = st.health
	}
	return out
}

// Series returns the panel's series keys in the order they first appeared.
func (p *Poller) Series(panel string) []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	st, ok := p.byName[panel]
	if !ok {
		return nil
	}
	return append([]string(nil), st.order...)
}

// Points returns one series' steps in [from, to], gaps included; a zero
// from or to leaves that end open.
func (p *Poller) Points(panel, series string, from, to time.Time) []Point {
	p.mu.RLock()
	defer p.mu.RUnlock()
	st, ok := p.byName[panel]
	if !ok {
		return nil
	}
	r, ok := st.series[series]
	if !ok {
		return nil
	}
	return r.Points(from, to)
}

// End returns the newest step a series covers; zero if it has none.
func (p *Poller) End(panel, series string) time.Time {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if st, ok := p.byName[panel]; ok {
		if r, ok := st.series[series]; ok {
			return r.End()
		}
	}
	return time.Time{}
}

// Stats summarises one series over [from, to].
func (p *Poller) Stats(panel, series string, from, to time.Time) Stats {
	return Summarize(from, to, p.Points(panel, series, from, to))
}

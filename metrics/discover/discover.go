// Package discover finds, on a live Prometheus-compatible server, what a
// first runbook should chart: latency histograms (classic `_bucket` series
// with `le`, and native histograms) and request counters with a status-code
// label. It proposes a P95 latency and an error-ratio query per job (or
// service), each with its current value, how many series it covers, and a
// summary of its last 15 minutes from which steady-state thresholds are
// derived. Everything comes from the server's own APIs (label values,
// series, metadata, instant queries) through client_golang.
package discover

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gameday/gameday/metrics"
)

// API is the part of the Prometheus HTTP API discovery asks; v1.API has it.
type API interface {
	LabelValues(ctx context.Context, label string, matches []string, start, end time.Time, opts ...v1.Option) (model.LabelValues, v1.Warnings, v1.Infos, error)
	Series(ctx context.Context, matches []string, start, end time.Time, opts ...v1.Option) ([]model.LabelSet, v1.Warnings, v1.Infos, error)
	Metadata(ctx context.Context, metric, limit string) (map[string][]v1.Metadata, error)
	Query(ctx context.Context, query string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error)
}

// Kind is what a candidate panel measures.
type Kind string

// Kinds of candidate panels; they are also the panel names a runbook uses.
const (
	Latency Kind = "p95"
	Errors  Kind = "error_rate"
)

// Window is how far back discovery looks, both for series and for the
// summary that thresholds are derived from.
const Window = 15 * time.Minute

// Candidate is one proposed panel query.
type Candidate struct {
	Kind Kind
	// GroupLabel and Group say which part of the estate the query covers:
	// service="checkout", or job="checkout" when there is no service label.
	GroupLabel string
	Group      string
	// Metric is the histogram's or counter's name, without _bucket.
	Metric string
	// StatusLabel is the counter's status-code label (errors only).
	StatusLabel string
	// Native is a native histogram (no _bucket series).
	Native bool
	Query  string
	// Series is how many series the selector covers (buckets not counted).
	Series int
	// Now is the query's value at discovery time; NaN when it returned
	// nothing or NaN (no traffic).
	Now float64
	// Recent is the 95th percentile of the query's values over the last
	// Window (a typical high, not a one-off spike); NaN when unknown.
	Recent float64
}

// Where is the selector a person reads: job="checkout".
func (c Candidate) Where() string { return fmt.Sprintf("%s=%q", c.GroupLabel, c.Group) }

// Found is what a server offers.
type Found struct {
	URL string
	// Names is how many metric names the server has seen in Window.
	Names   int
	Latency []Candidate // best first
	Errors  []Candidate // best first
	// Histograms and Counters name every latency histogram and status
	// counter seen, for messages.
	Histograms []string
	Counters   []string
	// Notes are what the user should know but is not an error (a server
	// without metadata, a histogram without job label).
	Notes []string
}

// statusLabels are the label names that hold an HTTP status code, in the
// order they are preferred when a counter has more than one.
var statusLabels = []string{"code", "status", "status_code", "http_status", "http_status_code", "response_code", "http_response_status_code"}

// groupLabels are the labels a candidate is proposed per, most specific first.
var groupLabels = []string{"service", "job"}

// Discover asks the server at url (for messages) through api and returns
// its candidates. A server that does not answer, or that has no latency
// histogram, is an error that says what was found instead.
func Discover(ctx context.Context, api API, url string, now time.Time) (*Found, error) {
	start := now.Add(-Window)
	names, _, _, err := api.LabelValues(ctx, model.MetricNameLabel, nil, start, now)
	if err != nil {
		return nil, fmt.Errorf("Prometheus at %s does not answer the metric-name list: %w (check --prometheus, %s or metrics.url, and that the server is up)", url, explain(url, err), metrics.EnvURL)
	}
	f := &Found{URL: url, Names: len(names)}
	types := map[string]model.MetricType{}
	if md, err := api.Metadata(ctx, "", ""); err != nil {
		f.Notes = append(f.Notes, fmt.Sprintf("the server gave no metric metadata (%v); native histograms cannot be told from other metrics", err))
	} else {
		for name, ms := range md {
			if len(ms) > 0 {
				types[name] = model.MetricType(ms[0].Type)
			}
		}
	}
	nameSet := map[string]bool{}
	for _, n := range names {
		nameSet[string(n)] = true
	}

	if err := f.histograms(ctx, api, start, now, nameSet, types); err != nil {
		return nil, err
	}
	if err := f.counters(ctx, api, start, now); err != nil {
		return nil, err
	}
	if len(f.Latency) == 0 {
		return f, &NoHistogramsError{Found: f, Sample: sample(names, types)}
	}
	f.measure(ctx, api, now)
	rank(f.Latency)
	rank(f.Errors)
	if len(f.Errors) == 0 {
		f.Notes = append(f.Notes, "no request counter with a status label ("+strings.Join(statusLabels, ", ")+") was found, so no error-ratio panel is proposed")
	}
	return f, nil
}

// histograms finds classic histograms by their _bucket series with le, and
// native ones by metadata type histogram without a _bucket sibling.
func (f *Found) histograms(ctx context.Context, api API, start, end time.Time, names map[string]bool, types map[string]model.MetricType) error {
	withLE, _, _, err := api.LabelValues(ctx, model.MetricNameLabel, []string{`{le!=""}`}, start, end)
	if err != nil {
		return fmt.Errorf("list histograms at %s: %w", f.URL, explain(f.URL, err))
	}
	type hist struct {
		name   string
		native bool
	}
	var hs []hist
	for _, n := range withLE {
		if base, ok := strings.CutSuffix(string(n), "_bucket"); ok {
			hs = append(hs, hist{name: base})
		}
	}
	for name, t := range types {
		if (t == model.MetricTypeHistogram || t == model.MetricTypeGaugeHistogram) && names[name] && !names[name+"_bucket"] {
			hs = append(hs, hist{name: name, native: true})
		}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].name < hs[j].name })
	for _, h := range hs {
		f.Histograms = append(f.Histograms, h.name)
		sel := h.name + "_bucket"
		if h.native {
			sel = h.name
		}
		series, _, _, err := api.Series(ctx, []string{fmt.Sprintf("{__name__=%q}", sel)}, start, end)
		if err != nil {
			return fmt.Errorf("list series of %s at %s: %w", sel, f.URL, explain(f.URL, err))
		}
		for _, g := range groups(series, "le") {
			c := Candidate{Kind: Latency, GroupLabel: g.label, Group: g.value, Metric: h.name, Native: h.native, Series: g.series}
			c.Query = LatencyQuery(c)
			f.Latency = append(f.Latency, c)
		}
	}
	return nil
}

// counters finds counters that carry a status label.
func (f *Found) counters(ctx context.Context, api API, start, end time.Time) error {
	seen := map[string]bool{}
	for _, sl := range statusLabels {
		withStatus, _, _, err := api.LabelValues(ctx, model.MetricNameLabel, []string{fmt.Sprintf("{%s!=\"\"}", sl)}, start, end)
		if err != nil {
			return fmt.Errorf("list counters with %s at %s: %w", sl, f.URL, explain(f.URL, err))
		}
		for _, n := range withStatus {
			name := string(n)
			if seen[name] || !isCounter(name) {
				continue
			}
			seen[name] = true
			series, _, _, err := api.Series(ctx, []string{fmt.Sprintf("{__name__=%q}", name)}, start, end)
			if err != nil {
				return fmt.Errorf("list series of %s at %s: %w", name, f.URL, explain(f.URL, err))
			}
			f.Counters = append(f.Counters, name)
			for _, g := range groups(series, "") {
				c := Candidate{Kind: Errors, GroupLabel: g.label, Group: g.value, Metric: name, StatusLabel: sl, Series: g.series}
				c.Query = ErrorQuery(c)
				f.Errors = append(f.Errors, c)
			}
		}
	}
	slices.Sort(f.Counters)
	return nil
}

// isCounter keeps what counts requests: a counter (_total), or a
// histogram's _count, which counts every observation. Its _bucket series
// carry the status label too, but count per bucket, not per request.
func isCounter(name string) bool {
	return strings.HasSuffix(name, "_total") || strings.HasSuffix(name, "_count")
}

type group struct {
	label, value string
	series       int
}

// groups splits series by service (else job), counting distinct series
// with ignore (le) left out. Series with neither label are left out.
func groups(series []model.LabelSet, ignore model.LabelName) []group {
	counts := map[[2]string]map[model.Fingerprint]bool{}
	for _, s := range series {
		for _, gl := range groupLabels {
			v, ok := s[model.LabelName(gl)]
			if !ok || v == "" {
				continue
			}
			k := [2]string{gl, string(v)}
			ls := s.Clone()
			delete(ls, ignore)
			if counts[k] == nil {
				counts[k] = map[model.Fingerprint]bool{}
			}
			counts[k][ls.Fingerprint()] = true
			break
		}
	}
	var out []group
	for k, fps := range counts {
		out = append(out, group{label: k[0], value: k[1], series: len(fps)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].label+out[i].value < out[j].label+out[j].value })
	return out
}

// measure fills Now and Recent of every candidate, all queries at once.
func (f *Found) measure(ctx context.Context, api API, now time.Time) {
	var wg sync.WaitGroup
	for _, list := range [][]Candidate{f.Latency, f.Errors} {
		for i := range list {
			c := &list[i]
			wg.Add(2)
			go func() { defer wg.Done(); c.Now = scalar(ctx, api, c.Query, now) }()
			go func() { defer wg.Done(); c.Recent = scalar(ctx, api, RecentQuery(c.Query), now) }()
		}
	}
	wg.Wait()
}

// scalar is the first value q returns at t, NaN when it returns none.
func scalar(ctx context.Context, api API, q string, t time.Time) float64 {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, _, _, err := api.Query(ctx, q, t)
	if err != nil {
		return math.NaN()
	}
	if vec, ok := v.(model.Vector); ok && len(vec) > 0 {
		return float64(vec[0].Value)
	}
	return math.NaN()
}

// rank puts the candidates a person most likely wants first: those with a
// value now, then those covering more series, then request-like names.
func rank(cs []Candidate) {
	score := func(c Candidate) int {
		s := 0
		if !math.IsNaN(c.Now) {
			s += 8
		}
		for _, w := range []string{"request", "http", "grpc", "rpc"} {
			if strings.Contains(c.Metric, w) {
				s += 2
				break
			}
		}
		if strings.HasSuffix(c.Metric, "_total") {
			s++ // a counter of its own is the one meant for ratios
		}
		return s
	}
	sort.SliceStable(cs, func(i, j int) bool {
		si, sj := score(cs[i]), score(cs[j])
		if si != sj {
			return si > sj
		}
		if cs[i].Series != cs[j].Series {
			return cs[i].Series > cs[j].Series
		}
		return cs[i].Metric+cs[i].Group < cs[j].Metric+cs[j].Group
	})
}

// Best returns the latency and error candidates to use when nobody
// chooses: in group when given, else the best latency candidate and the
// best error candidate of the same group (any group if it has none).
// ok is false when group matches no latency candidate.
func (f *Found) Best(group string) (lat Candidate, errs *Candidate, ok bool) {
	for _, c := range f.Latency {
		if group == "" || c.Group == group {
			lat, ok = c, true
			break
		}
	}
	if !ok {
		return Candidate{}, nil, false
	}
	for i, c := range f.Errors {
		if c.Group == lat.Group && c.GroupLabel == lat.GroupLabel {
			return lat, &f.Errors[i], true
		}
	}
	return lat, nil, true
}

// Groups lists the groups that have a latency candidate, for messages.
func (f *Found) Groups() []string {
	var out []string
	for _, c := range f.Latency {
		if w := c.Where(); !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// NoHistogramsError is a server without any latency histogram.
type NoHistogramsError struct {
	Found  *Found
	Sample []string
}

func (e *NoHistogramsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Prometheus at %s has no latency histogram (no *_bucket series with an le label, no native histogram in its metadata) among %d metric name(s) of the last %s", e.Found.URL, e.Found.Names, Window)
	if len(e.Found.Counters) > 0 {
		fmt.Fprintf(&b, "; it has request counters with a status label: %s", strings.Join(e.Found.Counters, ", "))
	}
	if len(e.Sample) > 0 {
		fmt.Fprintf(&b, "; found instead: %s", strings.Join(e.Sample, ", "))
	}
	b.WriteString(". Is the service scraped by this server, and does it export a latency histogram? A runbook can still chart any query: write metrics.panels by hand (docs/runbook.md)")
	return b.String()
}

// sample names up to a dozen metrics with their types, to show what the
// server does have.
func sample(names model.LabelValues, types map[string]model.MetricType) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(string(n), "scrape_") || string(n) == "up" {
			continue
		}
		s := string(n)
		if t, ok := types[s]; ok && t != "" && t != model.MetricTypeUnknown {
			s += " (" + string(t) + ")"
		}
		out = append(out, s)
		if len(out) == 12 {
			out = append(out, fmt.Sprintf("... %d in all", len(names)))
			break
		}
	}
	return out
}

// explain words a failure to reach the server; it keeps the cause.
func explain(url string, err error) error {
	var apiErr *v1.Error
	if errors.As(err, &apiErr) && apiErr.Type == v1.ErrClient {
		return fmt.Errorf("%w (is %s a Prometheus-compatible server?)", err, url)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer in time: %w", err)
	}
	return err
}

package prom

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// Error types and their HTTP statuses, as Prometheus's API reports them.
const (
	errBadData  = "bad_data"
	errExec     = "execution"
	errTimeout  = "timeout"
	errCanceled = "canceled"
	errInternal = "internal"
)

// statusClientClosed is the status Prometheus gives a canceled query.
const statusClientClosed = 499

// maxPoints is Prometheus's cap on the steps of one range query.
const maxPoints = 11000

// Prometheus's bounds for an open-ended time range.
var (
	minTime = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	maxTime = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()
)

type apiError struct {
	typ string
	err error
}

func (e *apiError) status() int {
	switch e.typ {
	case errBadData:
		return http.StatusBadRequest
	case errExec:
		return http.StatusUnprocessableEntity
	case errCanceled:
		return statusClientClosed
	case errTimeout:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

func badParam(err error, name string) *apiError {
	return &apiError{errBadData, fmt.Errorf("invalid parameter %q: %w", name, err)}
}

// queryError classifies an engine error the way Prometheus's API does.
func queryError(err error) *apiError {
	var (
		canceled promql.ErrQueryCanceled
		timeout  promql.ErrQueryTimeout
		stor     promql.ErrStorage
	)
	switch {
	case errors.As(err, &canceled), errors.Is(err, context.Canceled):
		return &apiError{errCanceled, err}
	case errors.As(err, &timeout):
		return &apiError{errTimeout, err}
	case errors.As(err, &stor):
		return &apiError{errInternal, err}
	}
	return &apiError{errExec, err}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(h func(*http.Request) (any, annotations.Annotations, string, *apiError)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodPost {
				w.Header().Set("Allow", "GET, POST")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			if err := r.ParseForm(); err != nil {
				writeError(w, &apiError{errBadData, fmt.Errorf("error parsing form values: %w", err)})
				return
			}
			data, warns, query, aerr := h(r)
			if aerr != nil {
				writeError(w, aerr)
				return
			}
			writeData(w, data, warns, query)
		}
	}
	mux.HandleFunc("/api/v1/query", api(s.instantQuery))
	mux.HandleFunc("/api/v1/query_range", api(s.rangeQuery))
	mux.HandleFunc("/api/v1/labels", api(s.labelNames))
	mux.HandleFunc("/api/v1/label/{name}/values", api(s.labelValues))
	mux.HandleFunc("/api/v1/series", api(s.series))
	mux.HandleFunc("/api/v1/targets", api(s.targets))
	mux.HandleFunc("/api/v1/rules", api(s.rulesAPI))
	mux.HandleFunc("/api/v1/alerts", api(s.alertsAPI))
	mux.HandleFunc("/-/ready", plain("Prometheus Server is Ready.\n"))
	mux.HandleFunc("/-/healthy", plain("Prometheus Server is Healthy.\n"))
	return mux
}

func plain(msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(msg))
		}
	}
}

func (s *Server) instantQuery(r *http.Request) (any, annotations.Annotations, string, *apiError) {
	q := r.FormValue("query")
	ts, err := timeParam(r, "time", time.Now())
	if err != nil {
		return nil, nil, q, badParam(err, "time")
	}
	ctx, cancel, opts, aerr := queryParams(r)
	if aerr != nil {
		return nil, nil, q, aerr
	}
	defer cancel()
	qry, err := s.engine.NewInstantQuery(ctx, s.db, opts, q, ts)
	if err != nil {
		return nil, nil, q, badParam(err, "query")
	}
	return s.exec(ctx, qry, q)
}

func (s *Server) rangeQuery(r *http.Request) (any, annotations.Annotations, string, *apiError) {
	q := r.FormValue("query")
	start, err := parseTime(r.FormValue("start"))
	if err != nil {
		return nil, nil, q, badParam(err, "start")
	}
	end, err := parseTime(r.FormValue("end"))
	if err != nil {
		return nil, nil, q, badParam(err, "end")
	}
	if end.Before(start) {
		return nil, nil, q, badParam(errors.New("end timestamp must not be before start time"), "end")
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		return nil, nil, q, badParam(err, "step")
	}
	if step <= 0 {
		return nil, nil, q, badParam(errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"), "step")
	}
	if end.Sub(start)/step > maxPoints {
		return nil, nil, q, &apiError{errBadData, errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")}
	}
	ctx, cancel, opts, aerr := queryParams(r)
	if aerr != nil {
		return nil, nil, q, aerr
	}
	defer cancel()
	qry, err := s.engine.NewRangeQuery(ctx, s.db, opts, q, start, end, step)
	if err != nil {
		return nil, nil, q, badParam(err, "query")
	}
	return s.exec(ctx, qry, q)
}

func (s *Server) exec(ctx context.Context, qry promql.Query, q string) (any, annotations.Annotations, string, *apiError) {
	res := qry.Exec(ctx)
	if res.Err != nil {
		qry.Close()
		return nil, res.Warnings, q, queryError(res.Err)
	}
	// The answer points into the query's pooled memory: it is encoded
	// first and the query closed after.
	return &queryData{res: res, close: qry.Close}, res.Warnings, q, nil
}

// queryData is a query's answer, encoded as Prometheus's data object.
type queryData struct {
	res   *promql.Result
	close func()
}

// queryParams reads what both query endpoints take besides the query and
// its times: timeout and lookback_delta.
func queryParams(r *http.Request) (context.Context, context.CancelFunc, promql.QueryOpts, *apiError) {
	ctx, cancel := context.WithCancel(r.Context())
	if to := r.FormValue("timeout"); to != "" {
		d, err := parseDuration(to)
		if err != nil {
			cancel()
			return nil, nil, nil, badParam(err, "timeout")
		}
		cancel()
		ctx, cancel = context.WithTimeout(r.Context(), d)
	}
	var lookback time.Duration
	if v := r.FormValue("lookback_delta"); v != "" {
		d, err := parseDuration(v)
		if err != nil {
			cancel()
			return nil, nil, nil, &apiError{errBadData, fmt.Errorf("error parsing lookback delta duration: %w", err)}
		}
		lookback = d
	}
	return ctx, cancel, promql.NewPrometheusQueryOpts(false, lookback, nil), nil
}

func (s *Server) selectors(r *http.Request) ([][]*labels.Matcher, *apiError) {
	sets, err := s.parser.ParseMetricSelectors(r.Form["match[]"])
	if err != nil {
		return nil, &apiError{errBadData, err}
	}
outer:
	for _, ms := range sets {
		for _, m := range ms {
			if m != nil && !m.Matches("") {
				continue outer
			}
		}
		return nil, &apiError{errBadData, errors.New("match[] must contain at least one non-empty matcher")}
	}
	return sets, nil
}

// querier opens the store over the request's start and end, open-ended by
// default, and returns them in milliseconds.
func (s *Server) querier(r *http.Request) (storage.Querier, int64, int64, *apiError) {
	start, err := timeParam(r, "start", minTime)
	if err != nil {
		return nil, 0, 0, badParam(err, "start")
	}
	end, err := timeParam(r, "end", maxTime)
	if err != nil {
		return nil, 0, 0, badParam(err, "end")
	}
	mint, maxt := timestamp.FromTime(start), timestamp.FromTime(end)
	q, err := s.db.Querier(mint, maxt)
	if err != nil {
		return nil, 0, 0, &apiError{errExec, err}
	}
	return q, mint, maxt, nil
}

func limitParam(r *http.Request) (int, *apiError) {
	v := r.FormValue("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badParam(err, "limit")
	}
	if n < 0 {
		return 0, badParam(errors.New("limit must be non-negative"), "limit")
	}
	return n, nil
}

// metaRequest is what the metadata endpoints (label names, label values,
// series) read from a request: the limit, the match[] selectors and a
// querier over the time range asked for.
type metaRequest struct {
	limit      int
	sets       [][]*labels.Matcher
	q          storage.Querier
	mint, maxt int64
}

func (s *Server) metaRequest(r *http.Request) (metaRequest, *apiError) {
	limit, aerr := limitParam(r)
	if aerr != nil {
		return metaRequest{}, aerr
	}
	sets, aerr := s.selectors(r)
	if aerr != nil {
		return metaRequest{}, aerr
	}
	q, mint, maxt, aerr := s.querier(r)
	if aerr != nil {
		return metaRequest{}, aerr
	}
	return metaRequest{limit: limit, sets: sets, q: q, mint: mint, maxt: maxt}, nil
}

// labelNames and labelValues share their shape: a sorted list of strings
// found under the selectors, possibly truncated.
func (s *Server) labelList(r *http.Request, list func(context.Context, storage.Querier, []*labels.Matcher) ([]string, annotations.Annotations, error)) (any, annotations.Annotations, string, *apiError) {
	m, aerr := s.metaRequest(r)
	if aerr != nil {
		return nil, nil, "", aerr
	}
	defer m.q.Close()
	limit, sets, q := m.limit, m.sets, m.q
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	var warns annotations.Annotations
	seen := map[string]struct{}{}
	out := []string{}
	for _, ms := range sets {
		vals, w, err := list(r.Context(), q, ms)
		if err != nil {
			return nil, warns, "", &apiError{errExec, err}
		}
		warns.Merge(w)
		for _, v := range vals {
			if _, ok := seen[v]; !ok {
				seen[v] = struct{}{}
				out = append(out, v)
			}
		}
	}
	slices.Sort(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
		warns = warns.Add(errors.New("results truncated due to limit"))
	}
	return out, warns, "", nil
}

func (s *Server) labelNames(r *http.Request) (any, annotations.Annotations, string, *apiError) {
	return s.labelList(r, func(ctx context.Context, q storage.Querier, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelNames(ctx, nil, ms...)
	})
}

func (s *Server) labelValues(r *http.Request) (any, annotations.Annotations, string, *apiError) {
	name := r.PathValue("name")
	if !model.UTF8Validation.IsValidLabelName(name) {
		return nil, nil, "", &apiError{errBadData, fmt.Errorf("invalid label name: %q", name)}
	}
	return s.labelList(r, func(ctx context.Context, q storage.Querier, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelValues(ctx, name, nil, ms...)
	})
}

func (s *Server) series(r *http.Request) (any, annotations.Annotations, string, *apiError) {
	if len(r.Form["match[]"]) == 0 {
		return nil, nil, "", &apiError{errBadData, errors.New("no match[] parameter provided")}
	}
	m, aerr := s.metaRequest(r)
	if aerr != nil {
		return nil, nil, "", aerr
	}
	defer m.q.Close()
	limit, sets, q := m.limit, m.sets, m.q
	hints := &storage.SelectHints{Start: m.mint, End: m.maxt, Func: "series"}
	var set storage.SeriesSet
	if len(sets) == 1 {
		set = q.Select(r.Context(), false, hints, sets[0]...)
	} else {
		all := make([]storage.SeriesSet, 0, len(sets))
		for _, ms := range sets {
			all = append(all, q.Select(r.Context(), true, hints, ms...))
		}
		set = storage.NewMergeSeriesSet(all, 0, storage.ChainedSeriesMerge)
	}
	out := []labels.Labels{}
	var warns annotations.Annotations
	for set.Next() {
		if limit > 0 && len(out) == limit {
			warns = warns.Add(errors.New("results truncated due to limit"))
			break
		}
		out = append(out, set.At().Labels())
	}
	warns.Merge(set.Warnings())
	if err := set.Err(); err != nil {
		return nil, warns, "", queryError(err)
	}
	return out, warns, "", nil
}

// targetInfo is a subset of Prometheus's active target, enough to see
// which lab hosts are up and why not.
type targetInfo struct {
	Labels     map[string]string `json:"labels"`
	ScrapePool string            `json:"scrapePool"`
	ScrapeURL  string            `json:"scrapeUrl"`
	LastError  string            `json:"lastError"`
	LastScrape time.Time         `json:"lastScrape"`
	Duration   float64           `json:"lastScrapeDuration"`
	Health     string            `json:"health"`
	Interval   string            `json:"scrapeInterval"`
	Timeout    string            `json:"scrapeTimeout"`
}

func (s *Server) targets(*http.Request) (any, annotations.Annotations, string, *apiError) {
	s.mu.Lock()
	active := make([]targetInfo, 0, len(s.loops))
	for _, l := range s.loops {
		active = append(active, targetInfo{
			Labels:     map[string]string{"job": l.target.Job, "instance": l.target.Instance},
			ScrapePool: l.target.Job,
			ScrapeURL:  l.target.URL,
			LastError:  l.state.lastErr,
			LastScrape: l.state.lastTime,
			Duration:   l.state.lastDur.Seconds(),
			Health:     l.state.health,
			Interval:   model.Duration(s.interval).String(),
			Timeout:    model.Duration(s.interval).String(),
		})
	}
	s.mu.Unlock()
	slices.SortFunc(active, func(a, b targetInfo) int {
		return cmp.Or(strings.Compare(a.ScrapePool, b.ScrapePool), strings.Compare(a.Labels["instance"], b.Labels["instance"]))
	})
	return map[string]any{"activeTargets": active, "droppedTargets": []any{}}, nil, "", nil
}

func (s *Server) rulesAPI(*http.Request) (any, annotations.Annotations, string, *apiError) {
	return map[string]any{"groups": s.ruleGroups()}, nil, "", nil
}

func (s *Server) alertsAPI(*http.Request) (any, annotations.Annotations, string, *apiError) {
	alerts := []alertJSON{}
	for _, g := range s.ruleGroups() {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alerts...)
		}
	}
	return map[string]any{"alerts": alerts}, nil, "", nil
}

func timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.FormValue(name)
	if v == "" {
		return def, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time value for '%s': %w", name, err)
	}
	return t, nil
}

// parseTime accepts what Prometheus accepts: Unix seconds with up to
// millisecond precision, or RFC 3339.
func parseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(t)
		frac = math.Round(frac*1000) / 1000
		return time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	switch s {
	case minTime.Format(time.RFC3339Nano):
		return minTime, nil
	case maxTime.Format(time.RFC3339Nano):
		return maxTime, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration accepts seconds as a float or a Prometheus duration (5m, 1h30m).
func parseDuration(s string) (time.Duration, error) {
	if d, err := strconv.ParseFloat(s, 64); err == nil {
		ts := d * float64(time.Second)
		if ts > float64(math.MaxInt64) || ts < float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

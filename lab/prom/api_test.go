package prom

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
)

// startLab starts a server scraping the exporters every 200ms under job
// "checkout" and waits until every target has been scraped once. The
// client it waited with is the test's to query with.
func startLab(t *testing.T, xs ...*e2e.Service) (*Server, *http.Client) {
	t.Helper()
	var targets []Target
	for _, x := range xs {
		targets = append(targets, Target{Job: "checkout", Instance: x.Addr, URL: x.URL()})
	}
	s, err := Start(context.Background(), Options{Targets: targets, Interval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	client := &http.Client{}
	t.Cleanup(client.CloseIdleConnections)
	e2e.WaitFor(t, 10*time.Second, "every target up", func() bool {
		return len(instant(t, client, s, "up == 1")) == len(xs)
	})
	return s, client
}

func TestQueryShapes(t *testing.T) {
	a := newExporter(t, 0.05, 0.1, 10*time.Millisecond, 2)
	b := newExporter(t, 0.05, 0.1, 10*time.Millisecond, 2)
	s, client := startLab(t, a, b)

	for _, post := range []bool{false, true} {
		name := "GET"
		if post {
			name = "POST"
		}
		t.Run(name+" instant vector", func(t *testing.T) { checkInstantVector(t, s, client, post, a, b) })
	}
	t.Run("instant at a given time", func(t *testing.T) { checkInstantAt(t, s, client) })
	t.Run("range matrix", func(t *testing.T) { checkRangeMatrix(t, s, client) })
	t.Run("special values", func(t *testing.T) { checkSpecialValues(t, s, client) })
	t.Run("labels", func(t *testing.T) { checkLabels(t, s, client) })
	t.Run("series", func(t *testing.T) { checkSeries(t, s, client) })
	t.Run("errors", func(t *testing.T) { checkErrors(t, s, client) })
	t.Run("ready, healthy and methods", func(t *testing.T) { checkReadyAndMethods(t, s, client) })
}

// checkInstantVector: up of both exporters, asked by GET or POST.
func checkInstantVector(t *testing.T, s *Server, client *http.Client, post bool, a, b *e2e.Service) {
	r := call(t, client, s.URL(), "/api/v1/query", url.Values{"query": {"up"}}, post)
	typ, vs := r.query(t)
	if typ != "vector" || len(vs) != 2 {
		t.Fatalf("want a vector of 2 up series, got %s: %s", typ, r.raw)
	}
	var instances []string
	for _, v := range vs {
		if v.Metric["__name__"] != "up" || v.Metric["job"] != "checkout" {
			t.Errorf("labels %v, want __name__=up job=checkout", v.Metric)
		}
		instances = append(instances, v.Metric["instance"])
		if len(v.Value) != 2 {
			t.Fatalf("value %v, want [time, \"value\"]", v.Value)
		}
		if _, ok := v.Value[0].(float64); !ok {
			t.Errorf("timestamp %v is %T, want a JSON number", v.Value[0], v.Value[0])
		}
		if v.Value[1] != "1" {
			t.Errorf("up value %#v, want the string \"1\"", v.Value[1])
		}
	}
	slices.Sort(instances)
	want := []string{a.Addr, b.Addr}
	slices.Sort(want)
	if !slices.Equal(instances, want) {
		t.Errorf("instances %v, want %v", instances, want)
	}
}

func checkInstantAt(t *testing.T, s *Server, client *http.Client) {
	at := time.Now().Add(-time.Hour).Unix()
	r := call(t, client, s.URL(), "/api/v1/query", url.Values{"query": {"time()"}, "time": {strconv.FormatInt(at, 10)}}, false)
	if typ, _ := r.query(t); typ != "scalar" {
		t.Fatalf("resultType %q", typ)
	}
	var q queryResult
	_ = json.Unmarshal(r.Data, &q)
	want := `[` + strconv.FormatInt(at, 10) + `,"` + strconv.FormatInt(at, 10) + `"]`
	if string(q.Result) != want {
		t.Errorf("scalar result %s, want %s", q.Result, want)
	}
}

func checkRangeMatrix(t *testing.T, s *Server, client *http.Client) {
	e2e.WaitFor(t, 10*time.Second, "two seconds of data", func() bool {
		_, vs := call(t, client, s.URL(), "/api/v1/query", url.Values{"query": {"count_over_time(up[2s])"}}, false).query(t)
		return len(vs) == 2 && vs[0].Value[1] == "10" && vs[1].Value[1] == "10"
	})
	end := time.Now()
	start := end.Add(-2 * time.Second)
	r := call(t, client, s.URL(), "/api/v1/query_range", url.Values{
		"query": {`sum by (code) (rate(http_requests_total[1s]))`},
		"start": {strconv.FormatFloat(float64(start.UnixMilli())/1000, 'f', 3, 64)},
		"end":   {end.Format(time.RFC3339Nano)},
		"step":  {"0.5"},
	}, false)
	typ, vs := r.query(t)
	if typ != "matrix" || len(vs) != 2 {
		t.Fatalf("want a matrix of 2 codes, got %s: %s", typ, r.raw)
	}
	for _, v := range vs {
		if v.Value != nil || len(v.Values) == 0 {
			t.Fatalf("series %v: want values, not value: %s", v.Metric, r.raw)
		}
		if _, ok := v.Metric["__name__"]; ok {
			t.Errorf("sum by (code) kept __name__: %v", v.Metric)
		}
		prev := 0.0
		for i, p := range v.Values {
			ts := p[0].(float64)
			if i > 0 && math.Abs(ts-prev-0.5) > 1e-9 {
				t.Errorf("steps %g then %g, want 0.5s apart", prev, ts)
			}
			prev = ts
			if _, err := strconv.ParseFloat(p[1].(string), 64); err != nil {
				t.Errorf("value %v: %v", p[1], err)
			}
		}
	}
}

func checkSpecialValues(t *testing.T, s *Server, client *http.Client) {
	// Scalars go through Prometheus's MarshalJSON: float timestamp,
	// never exponent notation. Vectors go through its fast encoder:
	// millisecond timestamp digits, exponent outside [1e-6, 1e21).
	for q, want := range map[string]string{
		"0/0":          `[1700000000.5,"NaN"]`,
		"1/0":          `[1700000000.5,"+Inf"]`,
		"-1/0":         `[1700000000.5,"-Inf"]`,
		"1e-7":         `[1700000000.5,"0.0000001"]`,
		"1e21":         `[1700000000.5,"1000000000000000000000"]`,
		"vector(0/0)":  `[{"metric":{},"value":[1700000000.500,"NaN"]}]`,
		"vector(-1/0)": `[{"metric":{},"value":[1700000000.500,"-Inf"]}]`,
		"vector(1e-7)": `[{"metric":{},"value":[1700000000.500,"1e-07"]}]`,
		"vector(1e21)": `[{"metric":{},"value":[1700000000.500,"1e+21"]}]`,
		"vector(0.25)": `[{"metric":{},"value":[1700000000.500,"0.25"]}]`,
		`label_replace(vector(1), "a", "x\"<", "", "")`: `[{"metric":{"a":"x\"\u003c"},"value":[1700000000.500,"1"]}]`,
	} {
		r := call(t, client, s.URL(), "/api/v1/query", url.Values{"query": {q}, "time": {"1700000000.5"}}, false)
		var qr queryResult
		_ = json.Unmarshal(r.Data, &qr)
		if got := string(qr.Result); got != want {
			t.Errorf("%s: result %s, want %s", q, got, want)
		}
	}
	r := call(t, client, s.URL(), "/api/v1/query", url.Values{"query": {`"lab"`}, "time": {"1700000000.001"}}, false)
	if typ, _ := r.query(t); typ != "string" || !strings.Contains(r.raw, `"result":[1700000000.001,"lab"]`) {
		t.Errorf("string query: %s", r.raw)
	}
	r = call(t, client, s.URL(), "/api/v1/query", url.Values{"query": {`up{job="nope"}`}}, false)
	if !strings.Contains(r.raw, `"result":[]`) {
		t.Errorf("empty vector must be [], got %s", r.raw)
	}
}

func checkLabels(t *testing.T, s *Server, client *http.Client) {
	r := call(t, client, s.URL(), "/api/v1/labels", nil, false)
	var names []string
	if err := json.Unmarshal(r.Data, &names); err != nil || r.Status != "success" {
		t.Fatalf("labels: %v: %s", err, r.raw)
	}
	for _, want := range []string{"__name__", "code", "instance", "job", "le"} {
		if !slices.Contains(names, want) {
			t.Errorf("labels %v lack %q", names, want)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("labels not sorted: %v", names)
	}
	r = call(t, client, s.URL(), "/api/v1/labels", url.Values{"match[]": {"up"}}, true)
	_ = json.Unmarshal(r.Data, &names)
	if !slices.Equal(names, []string{"__name__", "instance", "job"}) {
		t.Errorf("labels of up: %v", names)
	}
	r = call(t, client, s.URL(), "/api/v1/label/code/values", nil, false)
	var vals []string
	_ = json.Unmarshal(r.Data, &vals)
	if !slices.Equal(vals, []string{"200", "500"}) {
		t.Errorf("code values %v, want [200 500]: %s", vals, r.raw)
	}
	r = call(t, client, s.URL(), "/api/v1/label/__name__/values", nil, false)
	_ = json.Unmarshal(r.Data, &vals)
	for _, want := range []string{"up", "scrape_duration_seconds", "http_requests_total", "http_request_duration_seconds_bucket"} {
		if !slices.Contains(vals, want) {
			t.Errorf("metric names %v lack %q", vals, want)
		}
	}
}

func checkSeries(t *testing.T, s *Server, client *http.Client) {
	r := call(t, client, s.URL(), "/api/v1/series", url.Values{"match[]": {`http_requests_total{code="500"}`}}, false)
	var series []map[string]string
	if err := json.Unmarshal(r.Data, &series); err != nil || len(series) != 2 {
		t.Fatalf("series: %v: %s", err, r.raw)
	}
}

func checkErrors(t *testing.T, s *Server, client *http.Client) {
	now := strconv.FormatInt(time.Now().Unix(), 10)
	for _, c := range []struct {
		name, path string
		params     url.Values
		code       int
		typ, msg   string
	}{
		{"syntax", "/api/v1/query", url.Values{"query": {"sum(up"}}, 400, "bad_data", `invalid parameter "query": 1:7: parse error: unclosed left parenthesis`},
		{"bad time", "/api/v1/query", url.Values{"query": {"up"}, "time": {"yesterday"}}, 400, "bad_data", `invalid parameter "time": invalid time value for 'time': cannot parse "yesterday" to a valid timestamp`},
		{"bad timeout", "/api/v1/query", url.Values{"query": {"up"}, "timeout": {"soon"}}, 400, "bad_data", `invalid parameter "timeout": cannot parse "soon" to a valid duration`},
		{"matrix in range", "/api/v1/query_range", url.Values{"query": {"up[1m]"}, "start": {now}, "end": {now}, "step": {"1"}}, 400, "bad_data", `invalid parameter "query": invalid expression type "range vector" for range query, must be Scalar or instant Vector`},
		{"end before start", "/api/v1/query_range", url.Values{"query": {"up"}, "start": {now}, "end": {"1"}, "step": {"1"}}, 400, "bad_data", `invalid parameter "end": end timestamp must not be before start time`},
		{"zero step", "/api/v1/query_range", url.Values{"query": {"up"}, "start": {now}, "end": {now}, "step": {"0"}}, 400, "bad_data", `invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer`},
		{"too many points", "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {now}, "step": {"1"}}, 400, "bad_data", `exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)`},
		{"missing start", "/api/v1/query_range", url.Values{"query": {"up"}, "end": {now}, "step": {"1"}}, 400, "bad_data", `invalid parameter "start": cannot parse "" to a valid timestamp`},
		{"many-to-many", "/api/v1/query", url.Values{"query": {"up * on() up"}}, 422, "execution", `found duplicate series for the match group {} on the right hand-side of the operation`},
		{"timeout", "/api/v1/query", url.Values{"query": {"sum(rate(http_requests_total[1m]))"}, "timeout": {"0.000000001"}}, 503, "timeout", `query timed out in `},
		{"bad label name", "/api/v1/label/%FF/values", nil, 400, "bad_data", `invalid label name: "\xff"`},
		{"empty matcher", "/api/v1/labels", url.Values{"match[]": {`{job=~".*"}`}}, 400, "bad_data", `match[] must contain at least one non-empty matcher`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, client, s.URL(), c.path, c.params, false)
			if r.code != c.code || r.Status != "error" || r.ErrorType != c.typ || !strings.HasPrefix(r.Error, c.msg) {
				t.Errorf("got %d %s/%s %q\nwant %d error/%s %q...", r.code, r.Status, r.ErrorType, r.Error, c.code, c.typ, c.msg)
			}
			if r.Data != nil {
				t.Errorf("error response carries data: %s", r.raw)
			}
		})
	}
}

func checkReadyAndMethods(t *testing.T, s *Server, client *http.Client) {
	for path, want := range map[string]string{"/-/ready": "Prometheus Server is Ready.\n", "/-/healthy": "Prometheus Server is Healthy.\n"} {
		resp, err := client.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != want {
			t.Errorf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
	req, _ := http.NewRequest(http.MethodPut, s.URL()+"/api/v1/query?query=up", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d, want 405", resp.StatusCode)
	}
}

package prom

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gameday/gameday/lab/e2e"
)

// expLatency is the i-th of n evenly spaced quantiles of an exponential
// distribution with the given mean: a deterministic stand-in for random
// draws whose P95 is mean*ln(20).
func expLatency(mean float64, i, n int) float64 {
	return -mean * math.Log(1-(float64(i)+0.5)/float64(n))
}

// newExporter is a service's instrumentation fed at a steady pace with a
// known latency distribution and error ratio, so two scrapers of it must
// agree and the true quantile is known: perTick requests every tick, with
// latencies drawn in turn from an exponential distribution of the given
// mean, and errRatio of them 500s.
func newExporter(t testing.TB, mean, errRatio float64, tick time.Duration, perTick int) *e2e.Service {
	t.Helper()
	const n = 200
	i := 0
	return e2e.StartTraffic(t, e2e.Traffic{
		Latency: mean, Errors: errRatio, ErrCode: "500", ZeroSeries: true, Buckets: prometheus.DefBuckets, Tick: tick, PerTick: perTick,
		Draw: func(mean float64, _ int) float64 {
			v := expLatency(mean, i, n)
			i = (21*i + 1) % n // a full-period permutation: every n requests cover the whole spread
			return v
		},
	})
}

// apiResponse is Prometheus's envelope, decoded loosely so tests can check
// the exact field names and types a client sees.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
	Infos     []string        `json:"infos"`

	code int
	raw  string
}

type queryResult struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

type seriesValue struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`
	Values [][]any           `json:"values"`
}

// call does a GET (or a form POST when post is set) on the API.
func call(t testing.TB, client *http.Client, base, path string, params url.Values, post bool) apiResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var req *http.Request
	var err error
	if post {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(params.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, base+path+"?"+params.Encode(), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s %s: not JSON (%v): %s", req.Method, path, err, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", req.Method, path, ct)
	}
	r.code, r.raw = resp.StatusCode, string(body)
	return r
}

func (r apiResponse) query(t testing.TB) (string, []seriesValue) {
	t.Helper()
	if r.Status != "success" {
		t.Fatalf("status %q (%d): %s", r.Status, r.code, r.raw)
	}
	var q queryResult
	if err := json.Unmarshal(r.Data, &q); err != nil {
		t.Fatalf("data: %v: %s", err, r.raw)
	}
	var vs []seriesValue
	if q.ResultType == "vector" || q.ResultType == "matrix" {
		if err := json.Unmarshal(q.Result, &vs); err != nil {
			t.Fatalf("result: %v: %s", err, r.raw)
		}
	}
	return q.ResultType, vs
}

// instant runs q at now on s and returns the series it found.
func instant(t testing.TB, client *http.Client, s *Server, q string) []seriesValue {
	t.Helper()
	_, vs := call(t, client, s.URL(), "/api/v1/query", url.Values{"query": {q}}, false).query(t)
	return vs
}

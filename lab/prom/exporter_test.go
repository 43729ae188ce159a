package prom

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// exporter is a service's instrumentation fed at a steady pace with a known
// latency distribution and error ratio, so two scrapers of it must agree and
// the true quantile is known.
type exporter struct {
	srv  *httptest.Server
	stop chan struct{}
	done chan struct{}

	mu     sync.Mutex
	paused bool // while set, /metrics answers 503
}

// expLatency is the i-th of n evenly spaced quantiles of an exponential
// distribution with the given mean: a deterministic stand-in for random
// draws whose P95 is mean*ln(20).
func expLatency(mean float64, i, n int) float64 {
	return -mean * math.Log(1-(float64(i)+0.5)/float64(n))
}

// newExporter serves http_request_duration_seconds and http_requests_total
// {code}, recording perTick requests every tick with latencies drawn in turn
// from an exponential distribution of the given mean, and errRatio of them
// as 500s spread evenly.
func newExporter(t testing.TB, mean, errRatio float64, tick time.Duration, perTick int) *exporter {
	t.Helper()
	reg := prometheus.NewRegistry()
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "Request latency.", Buckets: prometheus.DefBuckets,
	})
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "Requests by status code.",
	}, []string{"code"})
	reg.MustRegister(hist, reqs)
	x := &exporter{stop: make(chan struct{}), done: make(chan struct{})}
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	x.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x.mu.Lock()
		paused := x.paused
		x.mu.Unlock()
		if paused {
			http.Error(w, "paused", http.StatusServiceUnavailable)
			return
		}
		metrics.ServeHTTP(w, r)
	}))
	ok, bad := reqs.WithLabelValues("200"), reqs.WithLabelValues("500")
	go func() {
		defer close(x.done)
		tk := time.NewTicker(tick)
		defer tk.Stop()
		const n = 200
		i, debt := 0, 0.0
		for {
			select {
			case <-x.stop:
				return
			case <-tk.C:
			}
			for range perTick {
				hist.Observe(expLatency(mean, i, n))
				i = (21*i + 1) % n // a full-period permutation: every n requests cover the whole spread
				debt += errRatio
				if debt >= 1 {
					debt--
					bad.Inc()
				} else {
					ok.Inc()
				}
			}
		}
	}()
	t.Cleanup(x.close)
	return x
}

func (x *exporter) close() {
	select {
	case <-x.stop:
		return
	default:
	}
	close(x.stop)
	<-x.done
	x.srv.Close()
}

func (x *exporter) setPaused(p bool) {
	x.mu.Lock()
	x.paused = p
	x.mu.Unlock()
}

func (x *exporter) url() string  { return x.srv.URL + "/metrics" }
func (x *exporter) addr() string { return strings.TrimPrefix(x.srv.URL, "http://") }

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

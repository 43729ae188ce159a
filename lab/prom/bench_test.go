package prom

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/gameday/gameday/lab/e2e"
)

func heapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapInuse) / (1 << 20)
}

// BenchmarkScrape4Targets runs the lab's scraping of four exporters at 1s
// in real time, one iteration per interval, and reports the process's CPU
// as a share of one core (the exporters serving /metrics included) and the
// heap. Run with -benchtime=30x for a steady figure.
func BenchmarkScrape4Targets(b *testing.B) {
	var targets []Target
	for range 4 {
		x := newExporter(b, 0.05, 0.02, 100*time.Millisecond, 5)
		targets = append(targets, Target{Job: "checkout", Instance: x.Addr, URL: x.URL()})
	}
	s, err := Start(context.Background(), Options{Targets: targets, Interval: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// Let the first scrapes create their series before measuring.
	time.Sleep(2 * time.Second)
	b.ResetTimer()
	cpu0, wall0 := e2e.CPUTime(b), time.Now()
	for range b.N {
		time.Sleep(time.Second)
	}
	cpu, wall := e2e.CPUTime(b)-cpu0, time.Since(wall0)
	b.StopTimer()
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%core")
	b.ReportMetric(heapMB(), "heap-MB")
}

// BenchmarkScrapeOnce is the scraper's own cost for one scrape of one
// exporter: fetch, parse, append, stale check and commit.
func BenchmarkScrapeOnce(b *testing.B) {
	x := newExporter(b, 0.05, 0.02, 100*time.Millisecond, 5)
	s, err := Start(context.Background(), Options{Interval: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l := newLoop(s, Target{Job: "checkout", Instance: x.Addr, URL: x.URL()})
	l.scrape(context.Background(), time.Now())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		l.scrape(context.Background(), time.Now())
	}
	b.StopTimer()
	if l.state.health != "up" {
		b.Fatalf("scrape failed: %s", l.state.lastErr)
	}
	b.ReportMetric(float64(len(l.cache)), "series")
}

// fillHour writes an hour of one-second samples for four instances of the
// default-bucket latency histogram and the request counter, as the lab's
// scrapes would.
func fillHour(b *testing.B, s *Server, end time.Time) {
	const instances = 4
	buckets := append(append([]float64{}, prometheus.DefBuckets...), math.Inf(1))
	type series struct {
		lset labels.Labels
		inc  float64
	}
	var all []series
	for i := range instances {
		inst := fmt.Sprintf("checkout-%d", i+1)
		for _, le := range buckets {
			all = append(all, series{labels.FromStrings("__name__", "http_request_duration_seconds_bucket", "instance", inst, "job", "checkout", "le", strconv.FormatFloat(le, 'g', -1, 64)),
				200 * (1 - math.Exp(-le/0.05))})
		}
		all = append(all,
			series{labels.FromStrings("__name__", "http_request_duration_seconds_count", "instance", inst, "job", "checkout"), 200},
			series{labels.FromStrings("__name__", "http_request_duration_seconds_sum", "instance", inst, "job", "checkout"), 10},
			series{labels.FromStrings("__name__", "http_requests_total", "code", "200", "instance", inst, "job", "checkout"), 196},
			series{labels.FromStrings("__name__", "http_requests_total", "code", "500", "instance", inst, "job", "checkout"), 4},
			series{labels.FromStrings("__name__", "up", "instance", inst, "job", "checkout"), 0},
		)
	}
	start := end.Add(-time.Hour)
	for ts := start; !ts.After(end); ts = ts.Add(time.Minute) {
		app := s.db.Appender(context.Background())
		for k := range 60 {
			t := ts.Add(time.Duration(k) * time.Second)
			n := t.Sub(start).Seconds()
			for _, se := range all {
				v := 1.0
				if se.inc > 0 {
					v = se.inc * n
				}
				if _, err := app.Append(0, se.lset, t.UnixMilli(), v); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := app.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryRange1h answers the console's P95 and error-ratio panels
// over the last hour of four instances, engine and JSON encoding included
// (the handler is called directly, so no client decoding is counted), at
// the poller's default 5s step and at 1s.
func BenchmarkQueryRange1h(b *testing.B) {
	s, err := Start(context.Background(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	end := time.Now().Truncate(time.Second)
	fillHour(b, s, end)
	heap := heapMB()
	client := &http.Client{}
	defer client.CloseIdleConnections()
	for _, step := range []string{"5", "1"} {
		for name, q := range map[string]string{"p95": p95Query, "errors": errorQuery} {
			b.Run(name+"/step="+step+"s", func(b *testing.B) {
				params := url.Values{"query": {q}, "start": {strconv.FormatInt(end.Add(-time.Hour).Unix(), 10)},
					"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {step}}
				r := call(b, client, s.URL(), "/api/v1/query_range", params, false)
				if _, vs := r.query(b); len(vs) != 1 || len(vs[0].Values) < 700 {
					b.Fatalf("unexpected answer: %.300s", r.raw)
				}
				h := s.http.Handler
				b.ReportAllocs()
				b.ResetTimer()
				size := 0
				for range b.N {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/query_range?"+params.Encode(), nil))
					if rec.Code != http.StatusOK {
						b.Fatalf("%d: %s", rec.Code, rec.Body)
					}
					size = rec.Body.Len()
				}
				b.ReportMetric(float64(size), "resp-bytes")
				b.ReportMetric(heap, "heap-MB")
			})
		}
	}
}

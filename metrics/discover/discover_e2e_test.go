package discover_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/discover"
	"github.com/gameday/gameday/runbook"
)

func client(t *testing.T, url string) *metrics.Client {
	t.Helper()
	c, err := metrics.NewClient(context.Background(), runbook.Metrics{}, metrics.Options{URL: url, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A real Prometheus scraping a service with a latency histogram and a
// status counter: discovery proposes both panels for its job, with values,
// and the error ratio answers 0 while there are no errors.
func TestDiscoverOnRealPrometheus(t *testing.T) {
	svc := e2e.StartService(t)
	url := e2e.StartPrometheusScraping(t, svc.ScrapeJob("checkout"))
	c := client(t, url)
	var f *discover.Found
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		f, err = discover.Discover(context.Background(), c.API, url, time.Now())
		if err == nil && len(f.Errors) > 0 && !math.IsNaN(f.Latency[0].Now) && !math.IsNaN(f.Errors[0].Now) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no candidates with values after 30s: %+v, %v", f, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	checkCandidates(t, f)

	// Errors start: the same query now answers their share.
	svc.Set(0.05, 0.1)
	deadline = time.Now().Add(30 * time.Second)
	for {
		f, err := discover.Discover(context.Background(), c.API, url, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, e, _ := f.Best(""); e != nil && e.Now > 0.02 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("error ratio did not rise within 30s of 10% 503s")
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkCandidates: the service's histogram and request counter are the
// best candidates, with the queries and values its traffic gives.
func checkCandidates(t *testing.T, f *discover.Found) {
	t.Helper()
	lat, errs, ok := f.Best("")
	if !ok || errs == nil {
		t.Fatalf("Best: %+v %+v %v", lat, errs, ok)
	}
	if lat.Metric != "http_request_duration_seconds" || lat.Where() != `job="checkout"` || lat.Series != 1 || lat.Native {
		t.Errorf("latency candidate %+v", lat)
	}
	if want := `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="checkout"}[1m])))`; lat.Query != want {
		t.Errorf("latency query %s\nwant %s", lat.Query, want)
	}
	// 20 requests every 100ms spread over 40..60ms: the P95 lies in the
	// 50..75ms bucket.
	if lat.Now < 0.05 || lat.Now > 0.075 {
		t.Errorf("P95 now = %g, want within the 50..75ms bucket", lat.Now)
	}
	if errs.Metric != "http_requests_total" || errs.StatusLabel != "code" || errs.Series != 1 {
		t.Errorf("error candidate %+v", errs)
	}
	if !strings.Contains(errs.Query, "or vector(0)") || errs.Now != 0 {
		t.Errorf("error ratio with no 5xx: %s = %g, want 0", errs.Query, errs.Now)
	}
	// The histogram's own _count has no code label here, so the one
	// counter is the request counter.
	if fmt.Sprint(f.Counters) != "[http_requests_total]" || fmt.Sprint(f.Histograms) != "[http_request_duration_seconds]" {
		t.Errorf("counters %v, histograms %v", f.Counters, f.Histograms)
	}

}

// A server with metrics but no histogram says so, and names what it has.
func TestDiscoverNoHistograms(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "queue_depth", Help: "Jobs waiting."})
	reg.MustRegister(g)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	url := e2e.StartPrometheusScraping(t, "  - job_name: batch\n    static_configs:\n      - targets: [\""+strings.TrimPrefix(srv.URL, "http://")+"\"]\n")
	c := client(t, url)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := discover.Discover(context.Background(), c.API, url, time.Now())
		var nh *discover.NoHistogramsError
		if !errors.As(err, &nh) {
			t.Fatalf("want NoHistogramsError, got %v", err)
		}
		if strings.Contains(err.Error(), "queue_depth (gauge)") {
			if !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "no latency histogram") {
				t.Errorf("message lacks the server or the finding: %v", err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("message never named the gauge it found: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// A server that does not answer is named, with the cause.
func TestDiscoverServerDown(t *testing.T) {
	url := fmt.Sprintf("http://127.0.0.1:%d", e2e.FreePort(t))
	_, err := discover.Discover(context.Background(), client(t, url).API, url, time.Now())
	if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("want an error naming %s and the refused connection, got %v", url, err)
	}
}

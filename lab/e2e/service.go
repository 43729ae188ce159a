package e2e

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Service is a small exporter a test starts: a latency histogram
// (http_request_duration_seconds, buckets with le) and a request counter
// by status (http_requests_total{code}), fed with steady traffic whose
// latency and error share the test sets. It is what a real service shows
// Prometheus, without the service.
type Service struct {
	Addr string // host:port of /metrics

	mu      sync.Mutex
	latency float64
	errors  float64
}

// StartService starts the exporter on loopback with 50ms latency and no
// errors, feeding 20 requests every 100ms until the test ends.
func StartService(t testing.TB) *Service {
	t.Helper()
	reg := prometheus.NewRegistry()
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "Request latency.",
		Buckets: []float64{.005, .01, .025, .05, .075, .1, .25, .5, 1, 2.5, 5},
	})
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests by status."}, []string{"code"})
	reg.MustRegister(hist, reqs)
	s := &Service{latency: 0.05}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s.Addr = strings.TrimPrefix(srv.URL, "http://")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		var owed float64
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			s.mu.Lock()
			lat, errs := s.latency, s.errors
			s.mu.Unlock()
			for i := range 20 {
				// Spread the observations over ±20% so the histogram has width.
				hist.Observe(lat * (0.8 + 0.4*float64(i)/19))
				owed += errs
				if owed >= 1 {
					owed--
					reqs.WithLabelValues("503").Inc()
				} else {
					reqs.WithLabelValues("200").Inc()
				}
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
		srv.Close()
	})
	return s
}

// Set changes the latency (seconds) and the share of requests answered 503.
func (s *Service) Set(latency, errorShare float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency, s.errors = latency, errorShare
}

// ScrapeJob is a scrape_configs entry for StartPrometheusScraping that
// scrapes the service as job.
func (s *Service) ScrapeJob(job string) string {
	return "  - job_name: " + job + "\n    static_configs:\n      - targets: [\"" + s.Addr + "\"]\n"
}

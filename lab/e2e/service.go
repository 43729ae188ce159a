package e2e

import (
	"math"
	"net/http"
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

	srv     *httptest.Server
	buckets []float64
	stop    chan struct{}
	done    chan struct{}

	mu      sync.Mutex
	latency float64
	errors  float64
	paused  bool // while set, /metrics answers 503
}

// Traffic is how a Service is fed and what it shows.
type Traffic struct {
	Latency float64 // seconds, until Set changes it
	Errors  float64 // the share of requests that fail, 0..1, until Set changes it
	// ErrCode is the status failed requests are counted under.
	ErrCode string
	// ZeroSeries exports both status series at 0 from the start, as a
	// client that initialises its label values does; otherwise each
	// appears with its first request.
	ZeroSeries bool
	Buckets    []float64
	// PerTick requests are recorded every Tick, the failures spread
	// evenly so the error share over any window is exact.
	Tick    time.Duration
	PerTick int
	// Draw is the latency of the i-th request of a tick, given the latency
	// set; nil: every request takes it. It is only called from the one
	// goroutine that feeds the service, so it may keep state.
	Draw func(latency float64, i int) float64
}

// StartService starts the exporter on loopback with 50ms latency and no
// errors, feeding 20 requests every 100ms, spread over ±20% of the
// latency, until the test ends.
func StartService(t testing.TB) *Service {
	t.Helper()
	return StartTraffic(t, Traffic{
		Latency: 0.05, ErrCode: "503",
		Buckets: []float64{.005, .01, .025, .05, .075, .1, .25, .5, 1, 2.5, 5},
		Tick:    100 * time.Millisecond, PerTick: 20,
		// Spread the observations so the histogram has width.
		Draw: func(lat float64, i int) float64 { return lat * (0.8 + 0.4*float64(i)/19) },
	})
}

// StartTraffic starts the exporter on loopback fed as tr says, until the
// test ends or Close.
func StartTraffic(t testing.TB, tr Traffic) *Service {
	t.Helper()
	reg := prometheus.NewRegistry()
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "Request latency.", Buckets: tr.Buckets,
	})
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests by status code."}, []string{"code"})
	reg.MustRegister(hist, reqs)
	s := &Service{buckets: tr.Buckets, latency: tr.Latency, errors: tr.Errors, stop: make(chan struct{}), done: make(chan struct{})}
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		paused := s.paused
		s.mu.Unlock()
		if paused {
			http.Error(w, "paused", http.StatusServiceUnavailable)
			return
		}
		metrics.ServeHTTP(w, r)
	}))
	s.Addr = strings.TrimPrefix(s.srv.URL, "http://")
	if tr.ZeroSeries {
		reqs.WithLabelValues("200")
		reqs.WithLabelValues(tr.ErrCode)
	}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(tr.Tick)
		defer tick.Stop()
		var owed float64
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			s.mu.Lock()
			lat, errs := s.latency, s.errors
			s.mu.Unlock()
			for i := range tr.PerTick {
				if tr.Draw != nil {
					hist.Observe(tr.Draw(lat, i))
				} else {
					hist.Observe(lat)
				}
				owed += errs
				if owed >= 1 {
					owed--
					reqs.WithLabelValues(tr.ErrCode).Inc()
				} else {
					reqs.WithLabelValues("200").Inc()
				}
			}
		}
	}()
	t.Cleanup(s.Close)
	return s
}

// Set changes the latency (seconds) and the share of requests that fail,
// and returns when it did.
func (s *Service) Set(latency, errorShare float64) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency, s.errors = latency, errorShare
	return time.Now()
}

// Pause makes /metrics answer 503 until it is called with false: a
// target that is up but fails its scrapes.
func (s *Service) Pause(p bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused = p
}

// Bucket is the histogram bucket (lo, hi] that holds v: where a quantile
// Prometheus estimates from the buckets must fall when v is the true one.
func (s *Service) Bucket(v float64) (lo, hi float64) {
	for _, b := range s.buckets {
		if v <= b {
			return lo, b
		}
		lo = b
	}
	return lo, math.Inf(1)
}

// URL is where the metrics are scraped.
func (s *Service) URL() string { return s.srv.URL + "/metrics" }

// Close stops the traffic and the server; a second call does nothing.
func (s *Service) Close() {
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	<-s.done
	s.srv.Close()
}

// ScrapeJob is a scrape_configs entry for StartPrometheusScraping that
// scrapes the service as job.
func (s *Service) ScrapeJob(job string) string {
	return "  - job_name: " + job + "\n    static_configs:\n      - targets: [\"" + s.Addr + "\"]\n"
}

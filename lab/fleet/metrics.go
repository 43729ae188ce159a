package fleet

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets resolve the lab's range: a ~30ms median, faults of a few
// hundred milliseconds, and the load balancer's timeout near one second.
var latencyBuckets = []float64{.005, .01, .02, .03, .04, .05, .075, .1, .15, .2, .25, .3, .4, .5, .75, 1, 1.5, 2, 3, 5, 10}

// preset codes exist from the start, so an error ratio over a quiet fleet is
// 0 rather than an empty result that looks like missing data.
var presetCodes = []string{"200", "500", "502", "503", "504"}

// httpMetrics are one server's request metrics on its own registry, named as
// a typical Go service exports them.
type httpMetrics struct {
	reg      *prometheus.Registry
	duration prometheus.Histogram
	requests *prometheus.CounterVec
}

func newHTTPMetrics() *httpMetrics {
	m := &httpMetrics{
		reg: prometheus.NewRegistry(),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time from request received to response written.",
			Buckets: latencyBuckets,
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "Requests served, by HTTP status code.",
		}, []string{"code"}),
	}
	m.reg.MustRegister(m.duration, m.requests)
	for _, c := range presetCodes {
		m.requests.WithLabelValues(c)
	}
	return m
}

func (m *httpMetrics) observe(code int, took time.Duration) {
	m.duration.Observe(took.Seconds())
	m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
}

func (m *httpMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

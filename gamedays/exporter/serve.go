package exporter

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gameday/gameday/metrics"
)

// Server serves an exporter's metrics on /metrics.
type Server struct {
	ep *metrics.Endpoint
}

// Listen binds addr before the run, so an address in use is an error
// before anything is measured or injected, and serves x on our own
// registry (no process or Go runtime metrics: the run is what is shown).
func Listen(addr string, x *Exporter) (*Server, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(x); err != nil {
		return nil, fmt.Errorf("--metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	ep, err := metrics.ListenEndpoint("--metrics-listen", addr, "Prometheus to scrape", mux)
	if err != nil {
		return nil, err
	}
	return &Server{ep: ep}, nil
}

// Addr is the address the metrics are served on.
func (s *Server) Addr() string { return s.ep.Addr() }

// URL is the address of the metrics page, for a scrape config.
func (s *Server) URL() string { return "http://" + s.ep.Addr() + "/metrics" }

// Close stops serving.
func (s *Server) Close() error { return s.ep.Close() }

package exporter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server serves an exporter's metrics on /metrics.
type Server struct {
	addr string
	srv  *http.Server
	done chan struct{}
}

// Listen binds addr before the run, so an address in use is an error
// before anything is measured or injected, and serves x on our own
// registry (no process or Go runtime metrics: the run is what is shown).
func Listen(addr string, x *Exporter) (*Server, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(x); err != nil {
		return nil, fmt.Errorf("--metrics-listen: %w", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen %s: cannot listen: %w (choose a free address for Prometheus to scrape)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	s := &Server{addr: l.Addr().String(), done: make(chan struct{})}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // Serve only fails once the listener is gone
		}
	}()
	return s, nil
}

// Addr is the address the metrics are served on.
func (s *Server) Addr() string { return s.addr }

// URL is the address of the metrics page, for a scrape config.
func (s *Server) URL() string { return "http://" + s.addr + "/metrics" }

// Close stops serving.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

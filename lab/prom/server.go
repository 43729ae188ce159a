// Package prom is the lab's Prometheus: it scrapes the lab fleet's /metrics
// endpoints into memory, in Prometheus's own chunk encoding, and answers the
// Prometheus HTTP query API with Prometheus's own PromQL engine, so the
// console reaches the lab through the same client code it uses against a
// real server.
package prom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// Defaults for Options fields left zero.
const (
	DefaultInterval  = time.Second
	DefaultAddr      = "127.0.0.1:0"
	DefaultRetention = 24 * time.Hour
	// DefaultLookback is Prometheus's own lookback delta.
	DefaultLookback = 5 * time.Minute
	// DefaultQueryTimeout is Prometheus's --query.timeout default.
	DefaultQueryTimeout = 2 * time.Minute
	// maxSamples is Prometheus's --query.max-samples default.
	maxSamples = 50_000_000
)

// Target is one endpoint to scrape.
type Target struct {
	// Job becomes the job label; empty means "lab".
	Job string
	// Instance becomes the instance label and names the target; empty
	// means the host:port of URL, as Prometheus does.
	Instance string
	// URL is the full address of a /metrics endpoint.
	URL string
}

// Options configure a Server.
type Options struct {
	Targets []Target
	// Interval is the scrape interval; default 1s. Each scrape may take at
	// most this long.
	Interval time.Duration
	// Addr is where the HTTP API listens; default 127.0.0.1:0.
	Addr string
	// Retention bounds how long samples are kept in memory; default 24h.
	Retention time.Duration
}

// Server is a running scraper, sample store and query API.
type Server struct {
	interval time.Duration
	db       *store
	engine   *promql.Engine
	parser   parser.Parser
	ln       net.Listener
	http     *http.Server
	client   *http.Client

	ctx        context.Context
	cancel     context.CancelFunc
	stopAfter  func() bool
	httpDone   chan struct{}
	closeOnce  sync.Once
	closeErr   error
	mu         sync.Mutex
	loops      map[string]*loop // by instance
	closed     bool
	loopsGroup sync.WaitGroup
	rules      ruleSet
}

// Start starts scraping o.Targets and serves the API. The
// server stops when ctx is done or Close is called; Close must be called in
// either case to release everything.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	targets := make([]Target, len(o.Targets))
	seen := map[string]int{}
	for i, t := range o.Targets {
		nt, err := checkTarget(t)
		if err != nil {
			return nil, fmt.Errorf("lab metrics: target %d: %w", i, err)
		}
		if j, dup := seen[nt.Instance]; dup {
			return nil, fmt.Errorf("lab metrics: target %d: instance %q already named by target %d", i, nt.Instance, j)
		}
		seen[nt.Instance] = i
		targets[i] = nt
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	s := &Server{interval: o.Interval, loops: map[string]*loop{}, httpDone: make(chan struct{})}
	s.db = newStore(o.Retention)
	quiet := slog.New(slog.DiscardHandler)
	s.parser = parser.NewParser(parser.Options{})
	interval := o.Interval
	s.engine = promql.NewEngine(promql.EngineOpts{
		Logger:               quiet,
		MaxSamples:           maxSamples,
		Timeout:              DefaultQueryTimeout,
		LookbackDelta:        DefaultLookback,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		Parser:               s.parser,
		// A subquery without a step uses the evaluation interval; the lab
		// evaluates at its scrape interval.
		NoStepSubqueryIntervalFn: func(int64) int64 { return interval.Milliseconds() },
	})

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		_ = s.engine.Close()
		return nil, fmt.Errorf("lab metrics: listen on %s: %w", o.Addr, err)
	}
	s.ln = ln
	s.client = &http.Client{Transport: &http.Transport{
		Proxy:               nil, // lab targets are on loopback; never route them through a proxy
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     time.Minute,
		// On loopback gzip only costs CPU at both ends.
		DisableCompression: true,
	}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		// Requests inherit the server's life: Close cancels running
		// queries instead of waiting out their timeout.
		BaseContext: func(net.Listener) context.Context { return s.ctx },
	}
	go func() {
		defer close(s.httpDone)
		_ = s.http.Serve(ln)
	}()

	s.stopAfter = context.AfterFunc(ctx, func() { _ = s.Close() })
	for _, t := range targets {
		s.addLoop(t, nil)
	}
	return s, nil
}

func checkTarget(t Target) (Target, error) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return t, fmt.Errorf("URL %q: %w", t.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return t, fmt.Errorf("URL %q: want http://host:port/metrics", t.URL)
	}
	if t.Job == "" {
		t.Job = "lab"
	}
	if t.Instance == "" {
		t.Instance = u.Host
	}
	return t, nil
}

// URL is the base URL of the API, http://127.0.0.1:PORT.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// AddTarget starts scraping t. A target with the same instance is replaced.
func (s *Server) AddTarget(t Target) error {
	nt, err := checkTarget(t)
	if err != nil {
		return fmt.Errorf("lab metrics: add target: %w", err)
	}
	s.mu.Lock()
	old := s.loops[nt.Instance]
	delete(s.loops, nt.Instance)
	s.mu.Unlock()
	var from *loop
	if old != nil {
		// Same job: the series keep their labels, so the new loop takes
		// over what the old one saw and stale-marks only what the new URL
		// no longer exposes. Another job makes new series: end the old ones.
		keep := old.target.Job == nt.Job
		old.halt(!keep)
		if keep {
			from = old
		}
	}
	if !s.addLoop(nt, from) {
		return errors.New("lab metrics: add target: server closed")
	}
	return nil
}

// RemoveTarget stops scraping instance and marks its series stale at once,
// so queries stop seeing it as Prometheus does when a target disappears.
// It reports whether the instance was being scraped.
func (s *Server) RemoveTarget(instance string) bool {
	s.mu.Lock()
	l := s.loops[instance]
	delete(s.loops, instance)
	s.mu.Unlock()
	if l == nil {
		return false
	}
	l.halt(true)
	return true
}

// Targets lists the targets being scraped.
func (s *Server) Targets() []Target {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Target, 0, len(s.loops))
	for _, l := range s.loops {
		out = append(out, l.target)
	}
	slices.SortFunc(out, func(a, b Target) int { return strings.Compare(a.Instance, b.Instance) })
	return out
}

// addLoop starts scraping t; from, if set, is the stopped loop of the same
// instance and job whose series the new one carries on.
func (s *Server) addLoop(t Target, from *loop) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	l := newLoop(s, t)
	if from != nil {
		l.cache, l.iter, l.last, l.report = from.cache, from.iter, from.last, from.report
	}
	s.loops[t.Instance] = l
	s.loopsGroup.Add(1)
	go func() {
		defer s.loopsGroup.Done()
		l.run(s.ctx)
	}()
	return true
}

// Close stops scraping, the HTTP API and the engine.
// Nothing the server started is left running or listening.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.stopAfter()
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.loopsGroup.Wait()
		s.stopRules()

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := s.http.Shutdown(ctx)
		cancel()
		if err != nil {
			// Queries still running past the grace: cut them off.
			err = nil
			_ = s.http.Close()
		}
		<-s.httpDone
		s.client.CloseIdleConnections()
		s.closeErr = errors.Join(err, s.engine.Close())
	})
	return s.closeErr
}

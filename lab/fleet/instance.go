package fleet

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The service's own time per request, before any fault: log-normal, as
// request latencies are, around a 20ms median for the service's work and a
// 9ms median for its database query, so the whole lands at 25-60ms.
const (
	workMedian  = 20 * time.Millisecond
	workSigma   = 0.3
	queryMedian = 9 * time.Millisecond
	querySigma  = 0.45
)

// Instance is one checkout service instance: its HTTP server (service and
// /metrics on one port, as a real process has), its database pool, and the
// faults applied to it. The port stays the same across restarts.
type Instance struct {
	name string
	addr string
	cfg  Options

	rngMu sync.Mutex
	rng   *rand.Rand
	db    *database

	fx atomic.Pointer[effects]

	mu      sync.Mutex
	closed  bool
	powered bool // off while the host is stopped (the EC2 view)
	crashed bool // the process-kill fault took the process down
	srv     *http.Server
	faults  map[string]*activeFault
	// resetAt is when a person ended each fault with reset, until the
	// fault is applied again: its rollback then says so.
	resetAt  map[string]time.Time
	wg       sync.WaitGroup // servers, handlers, burners, timer callbacks
	restarts int
}

// effects is what the active faults do to a request, swapped whole so the
// request path reads it without a lock.
type effects struct {
	delay, jitter time.Duration
	delayShare    float64
	errShare      float64
	errStatus     int
	cpuFactor     float64
	depDelay      time.Duration
	blackhole     chan struct{} // non-nil while blackholed; closed when lifted
}

func newInstance(name string, index int, cfg Options) (*Instance, error) {
	in := &Instance{
		name:    name,
		cfg:     cfg,
		rng:     rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(index))),
		db:      newDatabase(cfg.DBPool, cfg.DBAcquireTimeout),
		powered: true,
		faults:  map[string]*activeFault{},
	}
	in.fx.Store(&effects{cpuFactor: 1})
	in.mu.Lock()
	defer in.mu.Unlock()
	if err := in.startLocked("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return in, nil
}

// Name is the instance's host name, e.g. checkout-2.
func (in *Instance) Name() string { return in.name }

// URL is the service's base URL; /metrics on it is the scrape endpoint.
func (in *Instance) URL() string { return "http://" + in.addr }

// Up reports whether the service process is running.
func (in *Instance) Up() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.srv != nil
}

// Restarts counts how often the process came back after a kill or a stop.
func (in *Instance) Restarts() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.restarts
}

// startLocked starts the process: a new registry (counters start from zero
// after a restart, as they would) and a server on the instance's port.
func (in *Instance) startLocked(addr string) error {
	ln, err := listenRetry(addr)
	if err != nil {
		return err
	}
	if in.addr == "" { // first start; the port never changes after
		in.addr = ln.Addr().String()
	}
	m := newHTTPMetrics()
	query := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "db_query_duration_seconds",
		Help:    "Time to run one database query, waiting for a pooled connection included.",
		Buckets: latencyBuckets,
	})
	m.reg.MustRegister(query)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { in.serve(w, r, m, query) })
	srv := &http.Server{Handler: in.track(mux), ReadHeaderTimeout: 5 * time.Second, ErrorLog: quietLog}
	in.srv = srv
	in.wg.Go(func() {
		srv.Serve(ln)
	})
	return nil
}

// listenRetry binds addr. A restart binds the same port again; the kernel
// may briefly hand it to an outgoing connection in between, so it retries.
func listenRetry(addr string) (net.Listener, error) {
	var err error
	for i := 0; i < 40; i++ {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, err
}

// stopLocked ends the process at once: listener and connections close, as
// when a process dies; handlers see their requests end.
func (in *Instance) stopLocked() {
	if in.srv != nil {
		in.srv.Close()
		in.srv = nil
	}
}

// restartLocked brings the process back if the host is on and nothing keeps
// it down.
func (in *Instance) restartLocked() error {
	if in.srv != nil || in.closed || !in.powered || in.crashed {
		return nil
	}
	if err := in.startLocked(in.addr); err != nil {
		return fmt.Errorf("%s: restart on %s: %w", in.name, in.addr, err)
	}
	in.restarts++
	return nil
}

// track counts handlers so Close waits for them, and holds requests while
// the instance is blackholed: the caller sees no answer at all and gives up
// on its own timeout, as with packets dropped on the floor.
func (in *Instance) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !in.enter() {
			return
		}
		defer in.wg.Done()
		if hole := in.fx.Load().blackhole; hole != nil {
			select {
			case <-r.Context().Done():
			case <-hole:
			}
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
				}
			}
			return
		}
		h.ServeHTTP(w, r)
	})
}

// enter counts one more goroutine that Close must wait for, unless the
// instance is closed already; the caller calls in.wg.Done when true.
func (in *Instance) enter() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return false
	}
	in.wg.Add(1)
	return true
}

// draw is one request's share of randomness.
type draw struct {
	work, query, extra time.Duration
	fail               bool
}

func (in *Instance) draw(fx *effects) draw {
	in.rngMu.Lock()
	defer in.rngMu.Unlock()
	d := draw{
		work:  time.Duration(float64(lognormal(in.rng, workMedian, workSigma)) * fx.cpuFactor),
		query: lognormal(in.rng, queryMedian, querySigma),
	}
	if fx.delayShare > 0 && in.rng.Float64() < fx.delayShare {
		d.extra = fx.delay + time.Duration((2*in.rng.Float64()-1)*float64(fx.jitter))
	}
	if fx.errShare > 0 && in.rng.Float64() < fx.errShare {
		d.fail = true
	}
	return d
}

func lognormal(r *rand.Rand, median time.Duration, sigma float64) time.Duration {
	return time.Duration(float64(median) * math.Exp(sigma*r.NormFloat64()))
}

// statusClientClosed is what nginx records when the caller hung up first.
const statusClientClosed = 499

// serve is the checkout endpoint: a database query, then the service's own
// work, then whatever the faults add.
func (in *Instance) serve(w http.ResponseWriter, r *http.Request, m *httpMetrics, query prometheus.Histogram) {
	start := time.Now()
	fx := in.fx.Load()
	d := in.draw(fx)
	ctx := r.Context()
	code := http.StatusOK
	qs := time.Now()
	err := in.db.query(ctx, d.query+fx.depDelay)
	query.Observe(time.Since(qs).Seconds())
	if err == nil {
		err = sleep(ctx, d.work+d.extra)
	}
	switch {
	case errors.Is(err, errPoolTimeout):
		code = http.StatusServiceUnavailable
	case err != nil:
		code = statusClientClosed
	case d.fail:
		code = fx.errStatus
	}
	if code == http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	} else if code != statusClientClosed {
		http.Error(w, http.StatusText(code), code)
	}
	m.observe(code, time.Since(start))
}

// powerOff stops the host: the process ends and, as on a reboot, every
// fault is gone.
func (in *Instance) powerOff() {
	in.mu.Lock()
	defer in.mu.Unlock()
	for name := range in.faults {
		in.revertLocked(name)
	}
	in.powered = false
	in.stopLocked()
}

// powerOn starts the host and its service.
func (in *Instance) powerOn() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.powered = true
	return in.restartLocked()
}

// close stops everything the instance runs and waits for it.
func (in *Instance) close() {
	in.mu.Lock()
	in.closed = true
	for name := range in.faults {
		in.revertLocked(name)
	}
	in.stopLocked()
	in.mu.Unlock()
	in.wg.Wait()
}

package fleet

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// LB is the load balancer in front of the instances: round robin over the
// instances its health checks find healthy, a short upstream timeout, and
// the edge metrics an SLO is measured on. Like an Envoy or an ALB, it
// notices an unreachable instance only through failed checks, so requests
// to it time out for a few seconds first; a dead one refuses connections,
// which the LB sees at once.
type LB struct {
	cfg      Options
	backends []*backend
	next     atomic.Uint64
	client   *http.Client
	metrics  *httpMetrics

	srv, admin *http.Server
	addr       string
	adminAddr  string
	stop       chan struct{}
	wg         sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	handlers sync.WaitGroup
}

type backend struct {
	inst    *Instance
	healthy atomic.Bool
	fails   int // consecutive failed checks; only the checker touches it
}

func newLB(insts []*Instance, cfg Options) (*LB, error) {
	lb := &LB{
		cfg:     cfg,
		metrics: newHTTPMetrics(),
		stop:    make(chan struct{}),
		client: &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: cfg.LBTimeout}).DialContext,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		}},
	}
	for _, in := range insts {
		b := &backend{inst: in}
		b.healthy.Store(true)
		lb.backends = append(lb.backends, b)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return nil, err
	}
	lb.addr, lb.adminAddr = ln.Addr().String(), adminLn.Addr().String()
	lb.srv = &http.Server{Handler: http.HandlerFunc(lb.serve), ReadHeaderTimeout: 5 * time.Second, ErrorLog: quietLog}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", lb.metrics.handler())
	lb.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: quietLog}
	lb.wg.Add(3)
	go func() { defer lb.wg.Done(); lb.srv.Serve(ln) }()
	go func() { defer lb.wg.Done(); lb.admin.Serve(adminLn) }()
	go func() { defer lb.wg.Done(); lb.check() }()
	return lb, nil
}

// URL is where clients send requests.
func (lb *LB) URL() string { return "http://" + lb.addr }

// MetricsURL is the LB's own scrape endpoint, on its admin port.
func (lb *LB) MetricsURL() string { return "http://" + lb.adminAddr + "/metrics" }

// Healthy reports which instances the LB currently sends traffic to.
func (lb *LB) Healthy() map[string]bool {
	out := map[string]bool{}
	for _, b := range lb.backends {
		out[b.inst.name] = b.healthy.Load()
	}
	return out
}

// pick returns the next healthy backend in turn other than skip, or nil.
func (lb *LB) pick(skip *backend) *backend {
	n := uint64(len(lb.backends))
	start := lb.next.Add(1)
	for i := uint64(0); i < n; i++ {
		if b := lb.backends[(start+i)%n]; b != skip && b.healthy.Load() {
			return b
		}
	}
	return nil
}

func (lb *LB) serve(w http.ResponseWriter, r *http.Request) {
	lb.mu.Lock()
	if lb.closed {
		lb.mu.Unlock()
		return
	}
	lb.handlers.Add(1)
	lb.mu.Unlock()
	defer lb.handlers.Done()
	start := time.Now()
	code := lb.forward(w, r)
	lb.metrics.observe(code, time.Since(start))
}

// forward proxies one request and returns the status the client got: the
// instance's, or 502 (connection failed), 503 (no healthy instance) or 504
// (no answer within the LB timeout), as a proxy reports them. A refused
// connection takes the instance out of rotation at once and the request
// goes to the next one, as nginx and Envoy do with connect failures; a
// timeout is not retried, since the instance may still be working on it.
func (lb *LB) forward(w http.ResponseWriter, r *http.Request) int {
	var tried *backend
	for attempt := 0; ; attempt++ {
		b := lb.pick(tried)
		if b == nil {
			http.Error(w, "no healthy upstream", http.StatusServiceUnavailable)
			return http.StatusServiceUnavailable
		}
		resp, cancel, err := lb.send(r, b)
		if err != nil {
			cancel()
			if errors.Is(err, syscall.ECONNREFUSED) && attempt == 0 {
				b.healthy.Store(false)
				tried = b
				continue
			}
			code := http.StatusBadGateway
			if errors.Is(err, context.DeadlineExceeded) {
				code = http.StatusGatewayTimeout
			}
			if r.Context().Err() != nil {
				code = statusClientClosed
			}
			http.Error(w, http.StatusText(code), code)
			return code
		}
		defer cancel()
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode
	}
}

// send makes one attempt at b within the LB timeout; cancel releases it
// once the body is read.
func (lb *LB) send(r *http.Request, b *backend) (*http.Response, context.CancelFunc, error) {
	ctx, cancel := context.WithTimeout(r.Context(), lb.cfg.LBTimeout)
	req, err := http.NewRequestWithContext(ctx, r.Method, b.inst.URL()+r.URL.RequestURI(), nil)
	if err != nil {
		return nil, cancel, err
	}
	resp, err := lb.client.Do(req)
	return resp, cancel, err
}

// check probes every instance's /healthz each interval: two failures in a
// row take it out of rotation, one success puts it back.
func (lb *LB) check() {
	t := time.NewTicker(lb.cfg.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-lb.stop:
			return
		case <-t.C:
		}
		var wg sync.WaitGroup
		for _, b := range lb.backends {
			wg.Go(func() {
				lb.probe(b)
			})
		}
		wg.Wait()
	}
}

func (lb *LB) probe(b *backend) {
	ctx, cancel := context.WithTimeout(context.Background(), lb.cfg.HealthTimeout)
	defer cancel()
	go func() {
		select {
		case <-lb.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	ok := false
	if req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.inst.URL()+"/healthz", nil); err == nil {
		if resp, err := lb.client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok = resp.StatusCode == http.StatusOK
		}
	}
	if ok {
		b.fails = 0
		b.healthy.Store(true)
		return
	}
	b.fails++
	if b.fails >= 2 {
		b.healthy.Store(false)
	}
}

func (lb *LB) close() {
	lb.mu.Lock()
	lb.closed = true
	lb.mu.Unlock()
	close(lb.stop)
	lb.srv.Close()
	lb.admin.Close()
	lb.wg.Wait()
	lb.handlers.Wait()
	lb.client.CloseIdleConnections()
}

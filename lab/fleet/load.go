package fleet

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// loadgen sends requests to the LB at a steady average rate with
// exponential gaps between them (Poisson arrivals, as independent users
// make), each request on its own so a slow answer does not slow the rest.
type loadgen struct {
	url      string
	rps      float64
	rng      *rand.Rand
	client   *http.Client
	inflight chan struct{}
	dropped  atomic.Int64
	stop     chan struct{}
	wg       sync.WaitGroup
}

// maxInflight bounds the requests waiting at once, so a fleet that stops
// answering costs memory in proportion to this and not to time.
const maxInflight = 512

func startLoad(url string, rps float64, seed int64) *loadgen {
	g := &loadgen{
		url:      url + "/checkout",
		rps:      rps,
		rng:      rand.New(rand.NewPCG(uint64(seed), 1<<32)),
		client:   &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: maxInflight}},
		inflight: make(chan struct{}, maxInflight),
		stop:     make(chan struct{}),
	}
	if rps <= 0 {
		return g
	}
	g.wg.Add(1)
	go g.run()
	return g
}

func (g *loadgen) run() {
	defer g.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t := time.NewTimer(0)
	defer t.Stop()
	next := time.Now()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
		}
		select {
		case g.inflight <- struct{}{}:
			g.wg.Add(1)
			go g.one(ctx)
		default:
			g.dropped.Add(1)
		}
		// Gaps are scheduled from the previous arrival, not from now, so
		// timer lateness does not lower the rate.
		// A machine that stalled gets its schedule back, not a burst.
		next = next.Add(time.Duration(g.rng.ExpFloat64() / g.rps * float64(time.Second)))
		if now := time.Now(); next.Before(now.Add(-time.Second)) {
			next = now
		}
		t.Reset(time.Until(next))
	}
}

func (g *loadgen) one(ctx context.Context) {
	defer func() { <-g.inflight; g.wg.Done() }()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		return
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// close stops sending and cancels the requests under way.
func (g *loadgen) close() {
	close(g.stop)
	g.wg.Wait()
	g.client.CloseIdleConnections()
}

// Package fleet is the lab's service: checkout instances on loopback, a load
// balancer in front of them, a load generator, the database they call, and
// the faults a lab host accepts. Everything runs in one process and each
// instance and the load balancer export their own Prometheus metrics, so
// the lab looks, from outside, like a small production service.
package fleet

import (
	"fmt"
	"io"
	"log"
	"time"

	"github.com/gameday/gameday/targets"
)

// quietLog drops net/http's own complaints (a client hanging up mid-request
// is routine in a fleet under fault injection).
var quietLog = log.New(io.Discard, "", 0)

// Options size the fleet. The zero value gives the defaults.
type Options struct {
	Instances int     // default 3
	RPS       float64 // load generator requests per second; default 50, negative for none
	Seed      int64   // latency draws and arrivals

	LBTimeout      time.Duration // LB upstream timeout; default 1s
	HealthInterval time.Duration // LB health checks; default 1s
	HealthTimeout  time.Duration // per check; default 300ms
	DBPool         int           // database connections per instance; default 8
	// DBAcquireTimeout is how long a request waits for a database
	// connection before failing with 503; default 500ms.
	DBAcquireTimeout time.Duration
	// BurnCap is the share of one core a cpu fault at 100% load really
	// burns, per instance; default 0.2. The service's slowdown follows the
	// fault's load, so the cap only spares the machine the lab runs on.
	BurnCap float64
	// Catalogue validates fault params; default targets.Default().
	Catalogue *targets.Catalogue
}

func (o Options) withDefaults() Options {
	if o.Instances <= 0 {
		o.Instances = 3
	}
	if o.RPS == 0 {
		o.RPS = 50
	}
	if o.LBTimeout <= 0 {
		o.LBTimeout = time.Second
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = time.Second
	}
	if o.HealthTimeout <= 0 {
		o.HealthTimeout = 300 * time.Millisecond
	}
	if o.DBPool <= 0 {
		o.DBPool = 8
	}
	if o.DBAcquireTimeout <= 0 {
		o.DBAcquireTimeout = 500 * time.Millisecond
	}
	if o.BurnCap <= 0 {
		o.BurnCap = 0.2
	}
	if o.Catalogue == nil {
		o.Catalogue = targets.Default()
	}
	return o
}

// Job names, as the lab's Prometheus labels the scrape targets.
const (
	JobInstance = "checkout"
	JobLB       = "checkout-lb"
)

// Target is one scrape endpoint.
type Target struct {
	Job, Instance, URL string
}

// Fleet is a running fleet.
type Fleet struct {
	insts []*Instance
	lb    *LB
	load  *loadgen
}

// Start starts the instances, the load balancer and the load.
func Start(opts Options) (*Fleet, error) {
	opts = opts.withDefaults()
	if opts.Instances > 100 {
		return nil, fmt.Errorf("fleet: %d instances is more than the lab's 100", opts.Instances)
	}
	f := &Fleet{}
	for i := 1; i <= opts.Instances; i++ {
		in, err := newInstance(fmt.Sprintf("checkout-%d", i), i, opts)
		if err != nil {
			f.Close()
			return nil, err
		}
		f.insts = append(f.insts, in)
	}
	lb, err := newLB(f.insts, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("start load balancer: %w", err)
	}
	f.lb = lb
	f.load = startLoad(lb.URL(), opts.RPS, opts.Seed)
	return f, nil
}

// Instances lists the instances, checkout-1 first.
func (f *Fleet) Instances() []*Instance { return f.insts }

// Instance returns the instance with that name.
func (f *Fleet) Instance(name string) (*Instance, bool) {
	for _, in := range f.insts {
		if in.name == name {
			return in, true
		}
	}
	return nil, false
}

// LB is the load balancer.
func (f *Fleet) LB() *LB { return f.lb }

// Targets lists every scrape endpoint: each instance, then the LB.
func (f *Fleet) Targets() []Target {
	var out []Target
	for _, in := range f.insts {
		out = append(out, Target{Job: JobInstance, Instance: in.name, URL: in.URL() + "/metrics"})
	}
	return append(out, Target{Job: JobLB, Instance: "lb", URL: f.lb.MetricsURL()})
}

// PowerOff stops a host: its process ends and its faults are gone. The lab
// also stops the host's SSH server.
func (f *Fleet) PowerOff(name string) error {
	in, ok := f.Instance(name)
	if !ok {
		return fmt.Errorf("no instance %s", name)
	}
	in.powerOff()
	return nil
}

// PowerOn starts a stopped host's service again.
func (f *Fleet) PowerOn(name string) error {
	in, ok := f.Instance(name)
	if !ok {
		return fmt.Errorf("no instance %s", name)
	}
	return in.powerOn()
}

// Close stops the load first, then the LB, then the instances, and waits
// for every goroutine they started.
func (f *Fleet) Close() error {
	if f.load != nil {
		f.load.close()
	}
	if f.lb != nil {
		f.lb.close()
	}
	for _, in := range f.insts {
		in.close()
	}
	return nil
}

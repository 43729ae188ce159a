package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Scale makes the endpoint behave like AWS under load: every call takes
// Latency before it is answered, and a share of calls is refused with the
// service's throttling error, as a real account's rate limits do at fleet
// scale. The zero value answers at once and throttles nothing.
type Scale struct {
	// Latency is added to every signed call, throttled ones included,
	// before it is answered. A call waits it without holding the server's
	// state, so concurrent calls overlap as they do against AWS.
	Latency time.Duration
	// ThrottleRate is the share of calls, 0 to 1, answered with the
	// service's throttling error (EC2 RequestLimitExceeded, SSM
	// ThrottlingException, ...). Each call is drawn on its own, so a retry
	// can be throttled again, as when a bucket stays empty.
	ThrottleRate float64
	// Seed makes the draws repeatable for a given order of calls.
	Seed uint64
}

// scaler is the state behind Scale: rates per operation and what was seen.
// Its fields are guarded by the server's mutex.
type scaler struct {
	latency   time.Duration
	rate      float64
	rates     map[string]float64 // "service:Action", "service:*"
	rnd       *rand.Rand
	throttled map[string]int
	batches   map[string][]int
}

func newScaler(sc Scale) *scaler {
	return &scaler{
		latency: sc.Latency, rate: sc.ThrottleRate, rates: map[string]float64{},
		rnd:       rand.New(rand.NewPCG(sc.Seed, sc.Seed^0x9e3779b97f4a7c15)),
		throttled: map[string]int{}, batches: map[string][]int{},
	}
}

// SetLatency changes the latency every later call takes.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scale.latency = d
}

// ThrottleRate sets the share of op's calls (0 to 1) answered with the
// service's throttling error; op is "service:Action", "service:*" or "*"
// (every operation). A rate for the operation wins over its service's,
// which wins over "*" and Options.Scale.ThrottleRate.
func (s *Server) ThrottleRate(op string, rate float64) error {
	if rate < 0 || rate > 1 {
		return fmt.Errorf("lab/aws: throttle rate %v for %s: expected 0 to 1", rate, op)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == "*" {
		s.scale.rate = rate
		return nil
	}
	s.scale.rates[op] = rate
	return nil
}

// OpStats is what the endpoint saw of one operation.
type OpStats struct {
	// Calls is every signed request, throttled ones included.
	Calls int
	// Throttled is how many were answered with the throttling error,
	// whether by Throttle or by a rate.
	Throttled int
	// Batches is, for calls that name instances (EC2's instance calls,
	// SSM SendCommand and CancelCommand), how many each call that was not
	// throttled named, in the order they came.
	Batches []int
}

// Stats reports what the endpoint saw, by "service:Action".
func (s *Server) Stats() map[string]OpStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]OpStats, len(s.calls))
	for op, n := range s.calls {
		out[op] = OpStats{Calls: n, Throttled: s.scale.throttled[op], Batches: append([]int(nil), s.scale.batches[op]...)}
	}
	return out
}

// throttles draws whether a call of op is throttled by rate and counts the
// outcome; forced is a throttle Throttle asked for. Callers hold s.mu.
func (sc *scaler) throttles(op string, forced bool) bool {
	rate, ok := sc.rates[op]
	if !ok {
		svc, _, _ := strings.Cut(op, ":")
		if rate, ok = sc.rates[svc+":*"]; !ok {
			rate = sc.rate
		}
	}
	hit := forced || (rate > 0 && sc.rnd.Float64() < rate)
	if hit {
		sc.throttled[op]++
	}
	return hit
}

// batchSize is how many instances a call of op names, for the calls whose
// batching Stats reports; ok is false for the others.
func batchSize(op string, body []byte) (n int, ok bool) {
	switch op {
	case "ec2:DescribeInstances", "ec2:StopInstances", "ec2:StartInstances", "ec2:RebootInstances", "ec2:TerminateInstances":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return 0, false
		}
		n = len(indexed(form, "InstanceId"))
		// A DescribeInstances by filters reads a page: it is not a batch.
		return n, n > 0
	case "ssm:SendCommand", "ssm:CancelCommand":
		var in struct{ InstanceIds []string }
		if json.Unmarshal(body, &in) != nil {
			return 0, false
		}
		return len(in.InstanceIds), true
	}
	return 0, false
}

// wait holds a call for the configured latency, or until its client gives
// up.
func wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// AddInstances seeds many instances at once, as a fleet of thousands is:
// the listing order is sorted once rather than per instance. Nothing is
// added if any is refused.
func (s *Server) AddInstances(ins []Instance) error {
	now := s.opts.Now()
	batch := make(map[string]*instance, len(ins))
	for _, in := range ins {
		if !strings.HasPrefix(in.ID, "i-") || len(in.ID) < 3 {
			return fmt.Errorf("lab/aws: instance id %q: expected i- followed by an id", in.ID)
		}
		if in.State == "" {
			in.State = StateRunning
		}
		if _, ok := stateCodes[in.State]; !ok {
			return fmt.Errorf("lab/aws: instance %s: state %q: expected one of pending, running, stopping, stopped, shutting-down, terminated", in.ID, in.State)
		}
		if in.AZ == "" {
			in.AZ = s.opts.Region + "a"
		}
		if in.Type == "" {
			in.Type = "t3.micro"
		}
		if in.LaunchTime.IsZero() {
			in.LaunchTime = now
		}
		in.Tags = copyTags(in.Tags)
		in.SecurityGroups = append([]string(nil), in.SecurityGroups...)
		if _, dup := batch[in.ID]; dup {
			return fmt.Errorf("lab/aws: instance %s is listed twice", in.ID)
		}
		batch[in.ID] = &instance{Instance: in}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range batch {
		if _, ok := s.instances[id]; ok {
			return fmt.Errorf("lab/aws: instance %s already exists", id)
		}
	}
	for id, in := range batch {
		s.instances[id] = in
		if len(batch) == 1 {
			s.order = sortedInsert(s.order, id)
		} else {
			s.order = append(s.order, id)
		}
	}
	if len(batch) > 1 {
		sort.Strings(s.order)
	}
	return nil
}

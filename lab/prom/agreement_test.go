package prom

import (
	"context"
	"fmt"
	"maps"
	"math"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gameday/gameday/lab/e2e"
)

// The queries the console charts by default, over a 15s window.
const (
	p95Query   = `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[15s])))`
	p95ByInst  = `histogram_quantile(0.95, sum by (le, instance) (rate(http_request_duration_seconds_bucket[15s])))`
	errorQuery = `sum(rate(http_requests_total{code=~"5.."}[15s])) / sum(rate(http_requests_total[15s]))`
	window     = 15 * time.Second
)

// Scrape-alignment tolerance. Both servers scrape the same counters once a
// second but at different instants within the second, so each 15s window
// holds a slightly different slice of the traffic (up to one scrape, 1/15
// of it, at each end). The exporters feed a fixed permutation of their
// distribution at a steady pace, so that slice barely moves ratios between
// buckets or codes. Measured differences are a few tenths of a percent;
// the bounds leave room for a loaded machine delaying one scrape.
const (
	p95RelTol   = 0.05  // relative, on P95 seconds
	errorAbsTol = 0.005 // absolute, on the 0..1 error ratio
)

// expMixQuantile is the q-quantile of an equal mixture of exponential
// distributions with the given means, found by bisection.
func expMixQuantile(q float64, means ...float64) float64 {
	lo, hi := 0.0, 100.0
	for range 200 {
		mid := (lo + hi) / 2
		tail := 0.0
		for _, m := range means {
			tail += math.Exp(-mid/m) / float64(len(means))
		}
		if 1-tail < q {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// TestAgreesWithPrometheus scrapes the same exporters with Debian's
// Prometheus and with the lab, and compares the console's two default
// queries over the same range.
func TestAgreesWithPrometheus(t *testing.T) {
	e2e.Need(t, "prometheus")
	// The aggregate P95 (0.162s) sits mid-bucket in (0.1, 0.25], so a
	// bucket check on it is not at the mercy of one request more or less.
	means := []float64{0.02, 0.04, 0.08}
	errs := []float64{0.01, 0.05, 0.20}
	var xs []*e2e.Service
	var addrs []string
	var targets []Target
	for i := range means {
		// 200 requests/s each: 2 every 10ms.
		x := newExporter(t, means[i], errs[i], 10*time.Millisecond, 2)
		xs = append(xs, x)
		addrs = append(addrs, x.Addr)
		targets = append(targets, Target{Job: "app", Instance: x.Addr, URL: x.URL()})
	}
	realURL := e2e.StartPrometheus(t, addrs...)
	lab, err := Start(context.Background(), Options{Targets: targets, Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()

	realAPI, labAPI := e2e.PrometheusAPI(t, realURL), e2e.PrometheusAPI(t, lab.URL())

	// Both must be scraping every target before the windows start.
	e2e.Eventually(t, 20*time.Second, func() string {
		r := e2e.Query(t, realAPI, `up == 1`, time.Now())
		l := e2e.Query(t, labAPI, `up == 1`, time.Now())
		if len(r) == len(xs) && len(l) == len(xs) {
			return ""
		}
		return fmt.Sprintf("not every target up after 20s: Prometheus %v, lab %v", r, l)
	})
	both := time.Now()

	// Compare 12 one-second steps whose 15s windows hold only data both
	// scraped, ending a second ago so the newest scrape is in on both.
	start := both.Add(window + 2*time.Second).Truncate(time.Second)
	end := start.Add(11 * time.Second)
	time.Sleep(time.Until(end.Add(1500 * time.Millisecond)))
	r := v1.Range{Start: start, End: end, Step: time.Second}

	trueP95 := expMixQuantile(0.95, means...)
	lo, hi := xs[0].Bucket(trueP95) // every exporter has the default buckets
	trueErr := (errs[0] + errs[1] + errs[2]) / 3

	t.Run("P95", func(t *testing.T) {
		real, mine := e2e.QueryRange(t, realAPI, p95Query, r), e2e.QueryRange(t, labAPI, p95Query, r)
		d := e2e.Agree(t, "P95", real, mine, r, p95RelTol, true)
		t.Logf("P95: largest relative difference %.4f%% over %d steps (tolerance %g%%); true P95 %.4fs", d*100, len(real[0].Values), p95RelTol*100, trueP95)
		// Both estimate the same truth: histogram_quantile interpolates
		// inside the bucket that holds it.
		for _, m := range []model.Matrix{real, mine} {
			for _, p := range m[0].Values {
				if v := float64(p.Value); v <= lo || v > hi {
					t.Errorf("P95 %g outside (%g, %g], the bucket of the true %g", v, lo, hi, trueP95)
				}
			}
		}
	})
	t.Run("P95 by instance", func(t *testing.T) {
		d := e2e.Agree(t, "P95 by instance", e2e.QueryRange(t, realAPI, p95ByInst, r), e2e.QueryRange(t, labAPI, p95ByInst, r), r, p95RelTol, true)
		t.Logf("P95 by instance: largest relative difference %.4f%%", d*100)
	})
	t.Run("error ratio", func(t *testing.T) {
		real, mine := e2e.QueryRange(t, realAPI, errorQuery, r), e2e.QueryRange(t, labAPI, errorQuery, r)
		d := e2e.Agree(t, "error ratio", real, mine, r, errorAbsTol, false)
		t.Logf("error ratio: largest absolute difference %.5f (tolerance %g); true ratio %.4f", d, errorAbsTol, trueErr)
		for _, m := range []model.Matrix{real, mine} {
			for _, p := range m[0].Values {
				if v := float64(p.Value); math.Abs(v-trueErr) > 0.01 {
					t.Errorf("error ratio %g, want the true %.4f ± 0.01", v, trueErr)
				}
			}
		}
	})

	// A target that starts failing: both report up 0 for it and drop its
	// series at once through staleness markers, not after the 5m lookback.
	t.Run("failing target", func(t *testing.T) {
		xs[2].Pause(true)
		failed := time.Now()
		time.Sleep(2500 * time.Millisecond)
		at := time.Now().Add(-200 * time.Millisecond)
		for _, q := range []string{`up`, `count by (instance) (http_requests_total)`, `scrape_samples_scraped`} {
			rv, lv := e2e.Query(t, realAPI, q, at), e2e.Query(t, labAPI, q, at)
			if !maps.Equal(values(rv), values(lv)) {
				t.Errorf("%s %s after the failure at %s:\nPrometheus %v\nlab        %v", q, at.Format("15:04:05.000"), failed.Format("15:04:05.000"), rv, lv)
			}
		}
		if v := e2e.Query(t, labAPI, fmt.Sprintf(`up{instance=%q}`, addrs[2]), at); len(v) != 1 || v[0].Value != 0 {
			t.Errorf("lab up of the failing target: %v, want 0", v)
		}
	})
}

// values maps each series of an instant answer to its value, so two
// answers compare regardless of series order.
func values(v model.Vector) map[string]model.SampleValue {
	out := map[string]model.SampleValue{}
	for _, s := range v {
		out[s.Metric.String()] = s.Value
	}
	return out
}

package lab

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Scrape-alignment tolerance. Both servers scrape the same counters once a
// second, at different instants within the second, so each 30s window
// holds a slightly different slice of the traffic: at most one second of
// thirty at each end. At 200 requests/s a one-second slice moves the edge
// error ratio by well under 0.002 and the P95 by a few percent at most
// (histogram_quantile interpolates in a bucket whose count barely changes);
// the bounds leave room for a loaded machine delaying a scrape. One host
// sees a third of the traffic, so its one-second slices weigh more in its
// own ratio: up to 0.0053 apart, measured over four runs.
const (
	labP95RelTol       = 0.05  // relative, on P95 seconds
	labErrorAbsTol     = 0.005 // absolute, on the 0..1 error ratio at the edge
	labHostErrorAbsTol = 0.015 // absolute, on one host's error ratio
)

// TestAgreesWithRealPrometheus points Debian's prometheus at the lab's own
// fleet and load balancer, with the jobs and instance labels the lab's
// scraper gives them, and compares the answers of the scenarios' panel
// queries over the same range with one host failing 30% of its requests.
func TestAgreesWithRealPrometheus(t *testing.T) {
	e2e.Need(t, "prometheus")
	l := startLab(t, Options{Hosts: 3, RPS: 200, Seed: 7})

	// The panels exactly as a scenario runs them, at full length.
	src, err := l.Runbook("errors-two-hosts", 1)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := runbook.Parse("errors-two-hosts.yaml", src, targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	panels := map[string]string{}
	for _, p := range rb.Metrics.Panels {
		panels[p.Name] = p.Query
	}
	if panels["p95"] == "" || panels["error_rate"] == "" || !strings.Contains(panels["p95"], `job="checkout-lb"`) {
		t.Fatalf("scenario panels: %v", panels)
	}
	const window = 30 * time.Second
	if !strings.Contains(panels["p95"], "[30s]") || !strings.Contains(panels["error_rate"], "[30s]") {
		t.Fatalf("panels no longer read 30s windows, update this test: %v", panels)
	}
	// Per host, so the fleet's own endpoints are compared too.
	const (
		p95ByHost   = `histogram_quantile(0.95, sum by (le, instance) (rate(http_request_duration_seconds_bucket{job="checkout"}[30s])))`
		errorByHost = `sum by (instance) (rate(http_requests_total{job="checkout",code=~"5.."}[30s])) / sum by (instance) (rate(http_requests_total{job="checkout"}[30s]))`
	)

	realURL := e2e.StartPrometheusScraping(t, scrapeConfigs(t, l))
	realAPI, labAPI := e2e.PrometheusAPI(t, realURL), e2e.PrometheusAPI(t, l.PrometheusURL)

	targetCount := len(l.Fleet().Targets())
	e2e.WaitFor(t, 15*time.Second, "both servers to scrape every target", func() bool {
		return len(e2e.Query(t, realAPI, `up{job=~"checkout|checkout-lb"} == 1`, time.Now())) == targetCount &&
			len(e2e.Query(t, labAPI, `up{job=~"checkout|checkout-lb"} == 1`, time.Now())) == targetCount
	})
	// Through the fleet's command API, as SSH and SSM deliver it.
	in, _ := l.Fleet().Instance("checkout-2")
	if out, errOut, code := in.Exec("errors --share=30% --status=500 --duration=5m"); code != 0 {
		t.Fatalf("inject errors: exit %d %s%s", code, out, errOut)
	}
	injected := time.Now()

	// 20 one-second steps whose 30s windows hold only traffic after the
	// fault, ending over a second ago so the newest scrape is in on both.
	start := injected.Add(window + 2*time.Second).Truncate(time.Second)
	r := v1.Range{Start: start, End: start.Add(19 * time.Second), Step: time.Second}
	time.Sleep(time.Until(r.End.Add(1500 * time.Millisecond)))

	check := func(name, q string, tol float64, rel bool, sane func(instance string, v float64) bool) {
		t.Run(name, func(t *testing.T) {
			real, mine := e2e.QueryRange(t, realAPI, q, r), e2e.QueryRange(t, labAPI, q, r)
			d := e2e.Agree(t, name, real, mine, r, tol, rel)
			unit := "absolute"
			if rel {
				unit, d, tol = "relative %", d*100, tol*100
			}
			t.Logf("%s: largest %s difference %.4g over %d steps (tolerance %g)", name, unit, d, len(real[0].Values), tol)
			for _, m := range []model.Matrix{real, mine} {
				for _, s := range m {
					for _, p := range s.Values {
						if v := float64(p.Value); !sane(string(s.Metric["instance"]), v) {
							t.Errorf("%s %s at %s: %g is not what the fault gives", name, s.Metric, p.Timestamp.Time().Format("15:04:05"), v)
						}
					}
				}
			}
			t.Logf("%s: Prometheus %s, lab %s (first step)", name, firstValues(real), firstValues(mine))
		})
	}
	p95Sane := func(_ string, v float64) bool { return v > 0.01 && v < 1 }
	// One host of three fails 30%: about 10% at the edge, which does not retry.
	check("p95", panels["p95"], labP95RelTol, true, p95Sane)
	check("error_rate", panels["error_rate"], labErrorAbsTol, false, func(_ string, v float64) bool { return v > 0.05 && v < 0.16 })
	check("p95 by host", p95ByHost, labP95RelTol, true, p95Sane)
	check("error_rate by host", errorByHost, labHostErrorAbsTol, false, func(inst string, v float64) bool {
		if inst == "checkout-2" {
			return v > 0.2 && v < 0.4
		}
		return v == 0
	})
}

// scrapeConfigs has Prometheus scrape what the lab's scraper scrapes, with
// the same job and instance labels.
func scrapeConfigs(t *testing.T, l *Lab) string {
	t.Helper()
	byJob := map[string][]string{}
	for _, tg := range l.Fleet().Targets() {
		u, err := url.Parse(tg.URL)
		if err != nil {
			t.Fatal(err)
		}
		byJob[tg.Job] = append(byJob[tg.Job], fmt.Sprintf("      - targets: [%q]\n        labels: {instance: %q, __metrics_path__: %q}\n", u.Host, tg.Instance, u.Path))
	}
	var b strings.Builder
	for _, job := range []string{"checkout", "checkout-lb"} {
		if len(byJob[job]) == 0 {
			t.Fatalf("the fleet has no %s target", job)
		}
		fmt.Fprintf(&b, "  - job_name: %s\n    static_configs:\n%s", job, strings.Join(byJob[job], ""))
	}
	return b.String()
}

func firstValues(m model.Matrix) string {
	var out []string
	for _, s := range m {
		name := string(s.Metric["instance"])
		if name == "" {
			name = "edge"
		}
		out = append(out, fmt.Sprintf("%s=%.4g", name, float64(s.Values[0].Value)))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/runbook"
)

// On a healthy service the common error ratio is empty, not 0; validate
// --check-metrics says why and how to write it, and the written form
// answers 0.
func TestCheckExplainsEmptyRatio(t *testing.T) {
	svc := e2e.StartService(t)
	url := e2e.StartPrometheusScraping(t, svc.ScrapeJob("checkout"))
	api := e2e.PrometheusAPI(t, url)
	e2e.WaitFor(t, 30*time.Second, "a request rate", func() bool {
		return len(e2e.Query(t, api, `sum(rate(http_requests_total[1m])) > 0`, time.Now())) > 0
	})
	panels := []runbook.Panel{
		{Name: "bare", Query: `sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))`},
		{Name: "grouped", Query: `sum by (instance) (rate(http_requests_total{code=~"5.."}[1m])) / sum by (instance) (rate(http_requests_total[1m]))`},
		{Name: "fallback", Query: `(sum(rate(http_requests_total{code=~"5.."}[1m])) or vector(0)) / sum(rate(http_requests_total[1m]))`},
		{Name: "grouped_fallback", Query: `(sum by (instance) (rate(http_requests_total{code=~"5.."}[1m])) or 0 * sum by (instance) (rate(http_requests_total[1m]))) / sum by (instance) (rate(http_requests_total[1m]))`},
		{Name: "nothing", Query: `sum(rate(nope_total{code=~"5.."}[1m])) / sum(rate(nope_total[1m]))`},
	}
	checks := CheckPanelsAt(context.Background(), api, panels, time.Now(), 5*time.Second, url)
	bare, grouped, fallback, groupedFallback, nothing := checks[0], checks[1], checks[2], checks[3], checks[4]
	if !bare.Empty || !strings.Contains(bare.String(), `numerator sum(rate(http_requests_total{code=~"5.."}[1m])) has no series`) ||
		!strings.Contains(bare.String(), `or vector(0)) / sum(rate(http_requests_total[1m]))`) {
		t.Errorf("bare ratio: %s", bare)
	}
	if !grouped.Empty || !strings.Contains(grouped.String(), "or 0 * sum by (instance)") {
		t.Errorf("grouped ratio: %s", grouped)
	}
	if !fallback.OK() || fallback.Series != 1 || !groupedFallback.OK() {
		t.Errorf("the written forms do not answer: %s; %s", fallback, groupedFallback)
	}
	if !nothing.Empty || nothing.Why != "" || !strings.Contains(nothing.String(), "check metric and label names") {
		t.Errorf("a ratio of nothing is not a numerator problem: %s", nothing)
	}
}

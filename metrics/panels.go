package metrics

import (
	"fmt"
	"strings"
	"time"

	"github.com/gameday/gameday/runbook"
)

// Names of the two panels every game day gets unless the runbook replaces them.
const (
	PanelP95       = "p95"
	PanelErrorRate = "error_rate"
)

// Conventions describe the instrumentation the default panels assume: a
// latency histogram http_request_duration_seconds and a counter
// http_requests_total labelled with the HTTP status as `code` (client_golang's
// promhttp) or `status` (many other libraries).
type Conventions struct {
	// Selector is the label matchers that pick the service, without braces,
	// e.g. `job="checkout"`. Empty selects everything.
	Selector string
	// Window is the rate() window; default 1m. Keep it at least four scrape
	// intervals or rate() has too few samples and the panel shows gaps.
	Window time.Duration
	// By splits each default panel into one series per value of this label
	// (e.g. instance) so a blast radius of one host is visible.
	By string
	// Histogram and Counter override the metric names.
	Histogram string
	Counter   string
}

func (c Conventions) withDefaults() Conventions {
	if c.Window <= 0 {
		c.Window = time.Minute
	}
	if c.Histogram == "" {
		c.Histogram = "http_request_duration_seconds"
	}
	if c.Counter == "" {
		c.Counter = "http_requests_total"
	}
	return c
}

// P95Query is the default P95 latency query for c.
func P95Query(c Conventions) string {
	c = c.withDefaults()
	return fmt.Sprintf("histogram_quantile(0.95, sum by (%s) (rate(%s_bucket%s[%s])))",
		byLabels("le", c.By), c.Histogram, braces(c.Selector, ""), promDuration(c.Window))
}

// ErrorRateQuery is the default error-rate query for c: the ratio of 5xx
// responses to all responses, 0..1.
//
// Two details matter. The status may be labelled code or status, so the
// numerator takes either. And with no 5xx at all the numerator has no
// series; `or <all> * 0` turns that into a real 0 instead of an empty result,
// which we would otherwise have to show as a gap. With no traffic at all the
// result is still empty (or NaN), which is the truth: nothing to measure.
func ErrorRateQuery(c Conventions) string {
	c = c.withDefaults()
	w := promDuration(c.Window)
	sum := "sum"
	if c.By != "" {
		sum = fmt.Sprintf("sum by (%s)", c.By)
	}
	all := fmt.Sprintf("%s (rate(%s%s[%s]))", sum, c.Counter, braces(c.Selector, ""), w)
	errs := fmt.Sprintf("%s (rate(%s%s[%s]) or rate(%s%s[%s]))", sum,
		c.Counter, braces(c.Selector, `code=~"5.."`), w,
		c.Counter, braces(c.Selector, `status=~"5.."`), w)
	return fmt.Sprintf("(%s or %s * 0) / %s", errs, all, all)
}

// DefaultPanels are the P95 and error-rate panels for c.
func DefaultPanels(c Conventions) []runbook.Panel {
	return []runbook.Panel{
		{Name: PanelP95, Title: "P95 latency", Query: P95Query(c), Unit: runbook.UnitSeconds, By: c.By},
		{Name: PanelErrorRate, Title: "Error rate", Query: ErrorRateQuery(c), Unit: runbook.UnitRatio, By: c.By},
	}
}

// Panels merges the defaults with the runbook's panels: a runbook panel with
// a default's name replaces it (a panel without a query keeps the default
// query but takes the runbook's title, unit and split); any other runbook
// panel is added after the defaults, in file order.
func Panels(defaults, fromRunbook []runbook.Panel) []runbook.Panel {
	out := make([]runbook.Panel, 0, len(defaults)+len(fromRunbook))
	used := make(map[string]bool, len(fromRunbook))
	for _, d := range defaults {
		for _, p := range fromRunbook {
			if p.Name != d.Name {
				continue
			}
			used[p.Name] = true
			if p.Query == "" {
				p.Query = d.Query
				if p.Unit == "" {
					p.Unit = d.Unit
				}
			}
			if p.Title == "" {
				p.Title = d.Title
			}
			d = p
			break
		}
		out = append(out, d)
	}
	for _, p := range fromRunbook {
		if !used[p.Name] {
			out = append(out, p)
		}
	}
	return out
}

func byLabels(first, by string) string {
	if by == "" {
		return first
	}
	return first + ", " + by
}

func braces(selector, extra string) string {
	parts := make([]string, 0, 2)
	if s := strings.TrimSpace(selector); s != "" {
		parts = append(parts, s)
	}
	if extra != "" {
		parts = append(parts, extra)
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// promDuration writes d the way PromQL reads it; Go's "1m0s" does not parse.
func promDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	default:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
}

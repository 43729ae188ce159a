package metrics

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gameday/gameday/runbook"
)

// PanelCheck is one panel's query run once against the server, for
// `gameday validate --check-metrics`.
type PanelCheck struct {
	Panel string
	Query string
	// Series is how many series the query returned.
	Series int
	// Empty: the query ran and returned nothing, so the panel would chart
	// a gap and any check on it would say "no data". Usually a wrong label
	// or metric name, or a service that is not scraped.
	Empty bool
	// AllNaN: every value was NaN, typically a ratio with no traffic.
	AllNaN bool
	// Why explains an Empty result when its cause could be found (a
	// ratio whose numerator has no series yet).
	Why string
	// Err is set when the query failed; it is a *QueryError.
	Err  error
	Took time.Duration
}

// OK reports whether the panel returned at least one usable value.
func (c PanelCheck) OK() bool { return c.Err == nil && !c.Empty && !c.AllNaN }

// String is one line for the validate report.
func (c PanelCheck) String() string {
	switch {
	case c.Err != nil:
		return fmt.Sprintf("%s: FAIL: %v", c.Panel, c.Err)
	case c.Empty && c.Why != "":
		return fmt.Sprintf("%s: EMPTY: %s", c.Panel, c.Why)
	case c.Empty:
		return fmt.Sprintf("%s: EMPTY: the query returned no series (check metric and label names, and that the service is scraped)", c.Panel)
	case c.AllNaN:
		return fmt.Sprintf("%s: NaN: %d series, every value NaN (no traffic for a ratio?)", c.Panel, c.Series)
	default:
		return fmt.Sprintf("%s: ok, %d series (%s)", c.Panel, c.Series, c.Took.Round(time.Millisecond))
	}
}

// CheckPanels runs each panel's query once, at the current time, all at
// once, and reports per panel in the given order, so `gameday validate
// --check-metrics` can name the panels that fail or return nothing before a
// game day depends on them. Each query is bounded by DefaultTimeout.
func CheckPanels(ctx context.Context, q Querier, panels []runbook.Panel) []PanelCheck {
	return CheckPanelsAt(ctx, q, panels, time.Now(), DefaultTimeout, "")
}

// CheckPanelsAt is CheckPanels with the evaluation time, per-query timeout
// and server URL (for messages) given.
func CheckPanelsAt(ctx context.Context, q Querier, panels []runbook.Panel, at time.Time, timeout time.Duration, url string) []PanelCheck {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	out := make([]PanelCheck, len(panels))
	var wg sync.WaitGroup
	for i, p := range panels {
		wg.Go(func() {
			out[i] = checkPanel(ctx, q, p, at, timeout, url)
		})
	}
	wg.Wait()
	return out
}

func checkPanel(ctx context.Context, q Querier, p runbook.Panel, at time.Time, timeout time.Duration, url string) PanelCheck {
	pc := PanelCheck{Panel: p.Name, Query: p.Query}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	val, _, _, err := q.Query(qctx, p.Query, at, v1.WithTimeout(timeout))
	pc.Took = time.Since(start)
	if err != nil {
		pc.Err = Explain(p.Name, p.Query, url, err)
		return pc
	}
	var vals []float64
	switch v := val.(type) {
	case model.Vector:
		for _, s := range v {
			vals = append(vals, float64(s.Value))
		}
	case model.Matrix:
		for _, s := range v {
			if n := len(s.Values); n > 0 {
				vals = append(vals, float64(s.Values[n-1].Value))
			}
		}
	case *model.Scalar:
		vals = append(vals, float64(v.Value))
	case nil:
	default:
		pc.Err = Explain(p.Name, p.Query, url, &v1.Error{Type: v1.ErrBadResponse,
			Msg: fmt.Sprintf("the query returns a %s; a panel needs numbers", val.Type())})
		return pc
	}
	pc.Series = len(vals)
	pc.Empty = len(vals) == 0
	if pc.Empty {
		pc.Why = explainEmptyRatio(ctx, q, p.Query, at, timeout)
	}
	if !pc.Empty {
		pc.AllNaN = true
		for _, v := range vals {
			if !math.IsNaN(v) {
				pc.AllNaN = false
				break
			}
		}
	}
	return pc
}

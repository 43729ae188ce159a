package alerts

import (
	"testing"

	"github.com/gameday/gameday/runbook"
)

func TestWatches(t *testing.T) {
	panels := []runbook.Panel{
		{Name: "p95", Query: `histogram_quantile(0.95, sum by (le) (rate(h_bucket[1m])))`},
		{Name: "error_rate", Query: `sum(rate(req{code=~"5.."}[1m])) / sum(rate(req[1m]))`},
	}
	for _, c := range []struct {
		expr, panel, op string
		limit           float64
	}{
		{`sum(rate(req{code=~"5.."}[1m]))/sum(rate(req[1m])) > 0.05`, "error_rate", ">", 0.05},
		{`(sum(rate(req{code=~"5.."}[1m])) / sum(rate(req[1m]))) >= 0.05`, "error_rate", ">=", 0.05},
		{`0.5 < histogram_quantile(0.95, sum by (le) (rate(h_bucket[1m])))`, "p95", ">", 0.5},
		{`up == 0`, "", "", 0},
		{`sum(rate(req[1m])) > 0.05`, "", "", 0},
		{`app_error_ratio > bool 0.1`, "", "", 0},
		{`not promql (`, "", "", 0},
	} {
		w, ok := Watches(c.expr, panels)
		if ok != (c.panel != "") || w.Panel.Name != c.panel || w.Op != c.op || w.Limit != c.limit {
			t.Errorf("%s: got %+v %v, want panel %q %s %g", c.expr, w, ok, c.panel, c.op, c.limit)
		}
	}
	w := Watch{Op: ">", Limit: 0.1}
	if !w.Crossed(0.2) || w.Crossed(0.1) || w.Words() != "above" {
		t.Errorf("> 0.1: crossed(0.2)=%v crossed(0.1)=%v words %q", w.Crossed(0.2), w.Crossed(0.1), w.Words())
	}
}

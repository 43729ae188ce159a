package alerts

import (
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/runbook"
)

// Watch is the runbook panel an alerting rule watches and the threshold it
// compares it with: the rule `<panel query> > 0.1` watches that panel.
type Watch struct {
	Panel runbook.Panel
	Op    string // >, <, >=, <=
	Limit float64
}

// Crossed says whether v is past the rule's threshold.
func (w Watch) Crossed(v float64) bool {
	switch w.Op {
	case ">":
		return v > w.Limit
	case ">=":
		return v >= w.Limit
	case "<":
		return v < w.Limit
	case "<=":
		return v <= w.Limit
	}
	return false
}

// Words say which way the panel went: "above", "at or below".
func (w Watch) Words() string {
	return map[string]string{">": "above", ">=": "at or above", "<": "below", "<=": "at or below"}[w.Op]
}

// Watches finds the panel a rule's expression compares with a number, so a
// verdict can say when the panel itself crossed the rule's threshold. The
// two queries are compared as PromQL, not as text, so spacing and
// parentheses do not matter.
func Watches(expr string, panels []runbook.Panel) (Watch, bool) {
	p := parser.NewParser(parser.Options{EnableExperimentalFunctions: true})
	e, err := p.ParseExpr(expr)
	if err != nil {
		return Watch{}, false
	}
	b, ok := metrics.Unparen(e).(*parser.BinaryExpr)
	if !ok || b.ReturnBool {
		return Watch{}, false
	}
	op := b.Op.String()
	side, num := metrics.Unparen(b.LHS), metrics.Unparen(b.RHS)
	if n, ok := side.(*parser.NumberLiteral); ok {
		// 0.1 < x is x > 0.1.
		side, num = num, n
		op = map[string]string{">": "<", "<": ">", ">=": "<=", "<=": ">="}[op]
	}
	n, ok := num.(*parser.NumberLiteral)
	if !ok || op == "" {
		return Watch{}, false
	}
	w := Watch{Op: op, Limit: n.Val}
	if w.Words() == "" {
		return Watch{}, false
	}
	for _, pn := range panels {
		pe, err := p.ParseExpr(pn.Query)
		if err == nil && metrics.Unparen(pe).String() == side.String() {
			w.Panel = pn
			return w, true
		}
	}
	return Watch{}, false
}

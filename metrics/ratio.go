package metrics

import (
	"context"
	"fmt"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// explainEmptyRatio says why a ratio returned nothing when the reason is
// its numerator: `sum(rate(x{code=~"5.."}[1m])) / sum(rate(x[1m]))` has no
// 5xx series on a healthy service, and a division with an empty side is
// empty, so the panel looks blind exactly when all is well. It asks each
// side once; "" means the ratio is not the cause.
func explainEmptyRatio(ctx context.Context, q Querier, query string, at time.Time, timeout time.Duration) string {
	expr, err := parser.NewParser(parser.Options{EnableExperimentalFunctions: true}).ParseExpr(query)
	if err != nil {
		return ""
	}
	expr = Unparen(expr)
	div, ok := expr.(*parser.BinaryExpr)
	if !ok || div.Op != parser.DIV {
		return ""
	}
	num, den := Unparen(div.LHS), Unparen(div.RHS)
	nNum, errNum := countSeries(ctx, q, num.String(), at, timeout)
	nDen, errDen := countSeries(ctx, q, den.String(), at, timeout)
	if errNum != nil || errDen != nil || nNum != 0 || nDen == 0 {
		return ""
	}
	fallback := "vector(0)"
	if agg, ok := num.(*parser.AggregateExpr); ok && len(agg.Grouping) > 0 {
		// vector(0) has no labels; zero per group keeps the grouping.
		fallback = "0 * " + den.String()
	}
	return fmt.Sprintf("the ratio is empty because its numerator %s has no series (no errors yet?) while the denominator has %d; a ratio is empty, not 0, until the numerator has a series. Write (%s or %s) / %s so no errors reads 0",
		num, nDen, num, fallback, den)
}

// Unparen strips the parentheses around a PromQL expression.
func Unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

func countSeries(ctx context.Context, q Querier, query string, at time.Time, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, _, _, err := q.Query(ctx, query, at, v1.WithTimeout(timeout))
	if err != nil {
		return 0, err
	}
	switch v := v.(type) {
	case model.Vector:
		return len(v), nil
	case *model.Scalar:
		return 1, nil
	}
	return 0, nil
}

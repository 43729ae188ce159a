package aws

import (
	"context"
	"fmt"
)

// allPages reads every page of a paginated call through its SDK paginator's
// HasMorePages and NextPage, and keeps what items picks from each page. op
// names the call in the error ("rds DescribeDBClusters").
func allPages[Out, Opts, T any](ctx context.Context, more func() bool, next func(context.Context, ...func(*Opts)) (*Out, error), op string, items func(*Out) []T) ([]T, error) {
	var out []T
	for more() {
		page, err := next(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, explain(err))
		}
		out = append(out, items(page)...)
	}
	return out, nil
}

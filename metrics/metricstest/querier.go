// Package metricstest is an in-process Prometheus for tests of code that
// reads metrics through a metrics.Querier: query_range answers come from a
// function, and the server can be taken down. Only tests import it; the
// real thing is tested against a real Prometheus in package metrics.
//
// It imports nothing of gameday's, so package metrics' own tests can use it.
package metricstest

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Gap, returned by a Querier's Value, leaves that step out of the answer,
// as Prometheus does for a missing or stale series. It is a NaN with a
// payload no arithmetic produces, so a plain NaN (0/0 with no traffic) is
// answered as NaN, the way the server would.
var Gap = math.Float64frombits(0x7ff8_dead_beef_0001)

// IsGap reports whether v is Gap rather than any other number or NaN.
func IsGap(v float64) bool { return math.Float64bits(v) == math.Float64bits(Gap) }

// ErrDown is the error a Querier made to fail with Down answers with.
var ErrDown = errors.New("connection refused")

// Querier answers query_range with one series per name in Series, labelled
// instance=<name>, in that order; with no names, one series with no labels
// (and "" as the series Value is asked about). Query answers an empty
// vector. Every range asked is recorded.
//
// Set Series and Value before the first query; the methods are safe for
// concurrent use. Value is called with the Querier's lock held, one call at
// a time, so it may keep state of its own but must not call the Querier.
type Querier struct {
	Series []string
	// Value is the value of a series at a step; Gap leaves the step out.
	Value func(query, series string, t time.Time) float64

	mu     sync.Mutex
	err    error
	ranges []v1.Range
}

// Query answers every instant query with an empty vector.
func (q *Querier) Query(ctx context.Context, query string, ts time.Time, _ ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error) {
	return model.Vector{}, nil, nil, nil
}

// QueryRange answers from Value at every step from r.Start to r.End, or
// with the error the Querier was made to fail with.
func (q *Querier) QueryRange(ctx context.Context, query string, r v1.Range, _ ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ranges = append(q.ranges, r)
	if q.err != nil {
		return nil, nil, nil, q.err
	}
	if len(q.Series) == 0 {
		return model.Matrix{q.stream(query, "", model.Metric{}, r)}, nil, nil, nil
	}
	m := make(model.Matrix, 0, len(q.Series))
	for _, name := range q.Series {
		m = append(m, q.stream(query, name, model.Metric{"instance": model.LabelValue(name)}, r))
	}
	return m, nil, nil, nil
}

func (q *Querier) stream(query, series string, labels model.Metric, r v1.Range) *model.SampleStream {
	s := &model.SampleStream{Metric: labels}
	for t := r.Start; !t.After(r.End); t = t.Add(r.Step) {
		if v := q.Value(query, series, t); !IsGap(v) {
			s.Values = append(s.Values, model.SamplePair{Timestamp: model.TimeFromUnixNano(t.UnixNano()), Value: model.SampleValue(v)})
		}
	}
	return s
}

// Fail makes every query_range from now on fail with err, as a server that
// is down or refusing would; nil makes it answer again.
func (q *Querier) Fail(err error) {
	q.mu.Lock()
	q.err = err
	q.mu.Unlock()
}

// Down takes the server down (ErrDown) or brings it back up.
func (q *Querier) Down(down bool) {
	if down {
		q.Fail(ErrDown)
	} else {
		q.Fail(nil)
	}
}

// Ranges returns every range asked so far, in order, failed ones included.
func (q *Querier) Ranges() []v1.Range {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]v1.Range(nil), q.ranges...)
}

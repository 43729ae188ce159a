package metricstest

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gameday/gameday/metrics"
)

var _ metrics.Querier = (*Querier)(nil)

func TestQuerierAnswersGapsNaNAndSeriesInOrder(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	q := &Querier{Series: []string{"b", "a"}, Value: func(query, series string, ts time.Time) float64 {
		switch ts.Sub(t0) {
		case time.Second:
			return Gap
		case 2 * time.Second:
			return math.NaN()
		}
		if series == "a" {
			return 1
		}
		return 2
	}}
	r := v1.Range{Start: t0, End: t0.Add(3 * time.Second), Step: time.Second}
	v, _, _, err := q.QueryRange(context.Background(), "up", r)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(model.Matrix)
	if len(m) != 2 || m[0].Metric["instance"] != "b" || m[1].Metric["instance"] != "a" {
		t.Fatalf("series %v, want b then a, labelled by instance", m)
	}
	pts := m[1].Values
	if len(pts) != 3 || pts[0].Value != 1 || !math.IsNaN(float64(pts[1].Value)) || pts[2].Value != 1 || !pts[1].Timestamp.Time().Equal(t0.Add(2*time.Second)) {
		t.Errorf("series a = %v, want 1, NaN, 1 with the gap at t0+1s left out", pts)
	}
	if IsGap(math.NaN()) || !IsGap(Gap) {
		t.Error("IsGap must tell Gap from a plain NaN")
	}
}

func TestQuerierWithoutSeriesAnswersOneUnlabelled(t *testing.T) {
	var asked []string
	q := &Querier{Value: func(query, series string, _ time.Time) float64 {
		asked = append(asked, query+"/"+series)
		return 0.5
	}}
	t0 := time.Unix(1_700_000_000, 0)
	v, _, _, err := q.QueryRange(context.Background(), "latency", v1.Range{Start: t0, End: t0, Step: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m := v.(model.Matrix)
	if len(m) != 1 || len(m[0].Metric) != 0 || len(m[0].Values) != 1 || m[0].Values[0].Value != 0.5 {
		t.Errorf("answer %v, want one unlabelled series with 0.5", m)
	}
	if len(asked) != 1 || asked[0] != "latency/" {
		t.Errorf("Value asked %q", asked)
	}
}

func TestQuerierFailsAndRecordsRanges(t *testing.T) {
	q := &Querier{Value: func(string, string, time.Time) float64 { return 1 }}
	t0 := time.Unix(1_700_000_000, 0)
	r1 := v1.Range{Start: t0, End: t0, Step: time.Second}
	r2 := v1.Range{Start: t0.Add(time.Second), End: t0.Add(time.Second), Step: time.Second}
	q.Down(true)
	if _, _, _, err := q.QueryRange(context.Background(), "x", r1); !errors.Is(err, ErrDown) {
		t.Errorf("down: %v, want ErrDown", err)
	}
	q.Down(false)
	if _, _, _, err := q.QueryRange(context.Background(), "x", r2); err != nil {
		t.Errorf("back up: %v", err)
	}
	if got := q.Ranges(); len(got) != 2 || got[0] != r1 || got[1] != r2 {
		t.Errorf("ranges %v, want both, in order", got)
	}
}

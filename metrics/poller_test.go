package metrics

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/runbook"
)

func TestPollerFetchesOnlyNewAlignedSteps(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	clk := &fakeClock{now: t0.Add(2300 * time.Millisecond)}
	fq := &metricstest.Querier{Series: []string{"a"}, Value: func(_, _ string, t time.Time) float64 { return float64(t.Unix() - t0.Unix()) }}
	p := NewPoller(fq, Config{Panels: []runbook.Panel{{Name: "x", Query: "q", By: "instance"}}, Step: time.Second, Now: clk.Now, Since: t0})
	ctx := context.Background()
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	// Faster than the step: nothing new, no request.
	clk.Add(300 * time.Millisecond)
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Add(3 * time.Second) // now t0+5.6s
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	got := fq.Ranges()
	want := []v1.Range{
		{Start: t0, End: t0.Add(2 * time.Second), Step: time.Second},
		{Start: t0.Add(3 * time.Second), End: t0.Add(5 * time.Second), Step: time.Second},
	}
	if len(got) != len(want) {
		t.Fatalf("asked %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) || got[i].Step != want[i].Step {
			t.Errorf("request %d = %v..%v, want %v..%v", i, got[i].Start, got[i].End, want[i].Start, want[i].End)
		}
	}
	pts := p.Points("x", "a", time.Time{}, time.Time{})
	if len(pts) != 6 || pts[0].V != 0 || pts[5].V != 5 {
		t.Errorf("points = %v, want 0..5", pts)
	}
}

func TestPollerKeepsGapsAndNaN(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	clk := &fakeClock{now: t0}
	fq := &metricstest.Querier{Series: []string{"a"}, Value: func(_, _ string, t time.Time) float64 {
		switch t.Unix() - t0.Unix() {
		case 2, 3:
			return metricstest.Gap // the series went stale
		case 4:
			return math.NaN() // 0/0
		case 5:
			return math.Inf(1)
		}
		return 0.1
	}}
	p := NewPoller(fq, Config{Panels: []runbook.Panel{{Name: "x", Query: "q", By: "instance"}}, Step: time.Second, Now: clk.Now, Since: t0})
	for range 7 {
		if err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Second)
	}
	pts := p.Points("x", "a", time.Time{}, time.Time{})
	if len(pts) != 7 {
		t.Fatalf("%d points, want 7: %v", len(pts), pts)
	}
	for i, p := range pts {
		switch i {
		case 2, 3:
			if !p.Missing {
				t.Errorf("step %d: %v, want a gap", i, p)
			}
		case 4:
			if p.Missing || !math.IsNaN(p.V) {
				t.Errorf("step %d: %v, want NaN kept as NaN", i, p)
			}
		case 5:
			if !math.IsInf(p.V, 1) {
				t.Errorf("step %d: %v, want +Inf", i, p)
			}
		default:
			if p.Missing || p.V != 0.1 {
				t.Errorf("step %d: %v, want 0.1", i, p)
			}
		}
	}
	st := p.Stats("x", "a", time.Time{}, time.Time{})
	if st.Count != 4 || st.Gaps != 2 || st.NaNs != 1 || st.Min != 0.1 || !math.IsInf(st.Max, 1) {
		t.Errorf("stats = %+v", st)
	}
	h := p.Health()[0]
	if !h.LastData.Equal(t0.Add(6*time.Second)) || h.LastErr != nil || h.Series != 1 {
		t.Errorf("health = %+v", h)
	}
}

func TestPollerRetriesFailedStepsAndCatchesUpInChunks(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	clk := &fakeClock{now: t0}
	fq := &metricstest.Querier{Series: []string{"a"}, Value: func(string, string, time.Time) float64 { return 1 }}
	p := NewPoller(fq, Config{Panels: []runbook.Panel{{Name: "x", Query: "q"}}, Step: time.Second, Now: clk.Now, MaxSteps: 10})
	ctx := context.Background()
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	fq.Fail(&v1.Error{Type: v1.ErrServer, Msg: "server error: 500"})
	clk.Add(5 * time.Second)
	if err := p.Poll(ctx); err == nil || !strings.Contains(err.Error(), `panel "x"`) {
		t.Fatalf("err = %v, want the panel named", err)
	}
	if p.Health()[0].LastErr == nil {
		t.Error("health does not record the failure")
	}
	fq.Fail(nil)
	clk.Add(20 * time.Second) // now t0+25s; steps 1..25 are due
	for range 3 {
		if err := p.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := fq.Ranges()
	// t0, then the failed 1..5, then 1..10, 11..20, 21..25: the failed steps
	// are fetched again, never more than MaxSteps at once.
	wantStart := []int64{0, 1, 1, 11, 21}
	wantEnd := []int64{0, 5, 10, 20, 25}
	if len(got) != len(wantStart) {
		t.Fatalf("asked %d ranges, want %d: %v", len(got), len(wantStart), got)
	}
	for i := range got {
		if s, e := got[i].Start.Unix()-t0.Unix(), got[i].End.Unix()-t0.Unix(); s != wantStart[i] || e != wantEnd[i] {
			t.Errorf("range %d = %d..%d, want %d..%d", i, s, e, wantStart[i], wantEnd[i])
		}
	}
	if st := p.Stats("x", `{instance="a"}`, time.Time{}, time.Time{}); st.Count != 26 || st.Gaps != 0 {
		t.Errorf("after catching up: %+v, want 26 values and no gaps", st)
	}
}

func TestPollerCapsSeries(t *testing.T) {
	fq := &metricstest.Querier{Series: []string{"a", "b", "c", "d"}, Value: func(string, string, time.Time) float64 { return 1 }}
	p := NewPoller(fq, Config{Panels: []runbook.Panel{{Name: "x", Query: "q", By: "instance"}}, Step: time.Second, MaxSeries: 3})
	if err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := p.Health()[0]; h.Series != 3 || h.Dropped != 1 {
		t.Errorf("health = %+v, want 3 series kept and 1 dropped", h)
	}
}

func TestPollerRunStops(t *testing.T) {
	fq := &metricstest.Querier{Series: []string{"a"}, Value: func(string, string, time.Time) float64 { return 1 }}
	polled := make(chan error, 100)
	p := NewPoller(fq, Config{Panels: []runbook.Panel{{Name: "x", Query: "q"}}, Step: 10 * time.Millisecond,
		OnPoll: func(err error) { polled <- err }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	select {
	case err := <-polled:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run never polled")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestRing(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	r := NewRing(time.Second, 4)
	if _, ok := r.Last(); ok || r.Len() != 0 {
		t.Fatal("empty ring has data")
	}
	for i := range 6 {
		r.Put(t0.Add(time.Duration(i)*time.Second), float64(i))
	}
	if r.Len() != 4 || !r.Start().Equal(t0.Add(2*time.Second)) || !r.End().Equal(t0.Add(5*time.Second)) {
		t.Fatalf("ring spans %v..%v (%d), want the last 4 steps", r.Start(), r.End(), r.Len())
	}
	r.Put(t0, 99) // older than kept: dropped
	if v, ok := r.At(t0.Add(2 * time.Second)); !ok || v != 2 {
		t.Errorf("At(2) = %v, %v", v, ok)
	}
	r.Extend(t0.Add(7 * time.Second))
	pts := r.Points(time.Time{}, time.Time{})
	if len(pts) != 4 || pts[0].V != 4 || pts[1].V != 5 || !pts[2].Missing || !pts[3].Missing {
		t.Errorf("after extending: %v", pts)
	}
	if last, ok := r.Last(); !ok || last.V != 5 {
		t.Errorf("Last = %v, %v; want 5 (gaps are not values)", last, ok)
	}
	// A jump far beyond the capacity clears everything.
	r.Put(t0.Add(time.Hour), 7)
	pts = r.Points(time.Time{}, time.Time{})
	if len(pts) != 4 || !pts[0].Missing || !pts[2].Missing || pts[3].V != 7 {
		t.Errorf("after a long jump: %v", pts)
	}
	// Windows round inward to whole steps.
	r2 := NewRing(time.Second, 10)
	for i := range 10 {
		r2.Put(t0.Add(time.Duration(i)*time.Second), float64(i))
	}
	w := r2.Points(t0.Add(2500*time.Millisecond), t0.Add(5*time.Second))
	if len(w) != 3 || w[0].V != 3 || w[2].V != 5 {
		t.Errorf("window 2.5s..5s = %v, want steps 3..5", w)
	}
}

func TestSummarize(t *testing.T) {
	t0 := time.Unix(0, 0)
	var pts []Point
	for i := 1; i <= 20; i++ {
		pts = append(pts, Point{T: t0.Add(time.Duration(i) * time.Second), V: float64(i)})
	}
	pts = append(pts, Point{Missing: true, V: math.NaN()}, Point{V: math.NaN()})
	s := Summarize(t0, t0, pts)
	if s.Count != 20 || s.Gaps != 1 || s.NaNs != 1 || s.Min != 1 || s.Max != 20 || s.Mean != 10.5 || s.Median != 10.5 || s.Last != 20 {
		t.Errorf("stats = %+v", s)
	}
	if math.Abs(s.P95-19.05) > 1e-9 {
		t.Errorf("p95 = %v, want 19.05", s.P95)
	}
	e := Summarize(t0, t0, []Point{{Missing: true}, {V: math.NaN()}})
	if !e.Empty() || !math.IsNaN(e.Mean) || !math.IsNaN(e.Min) || e.Steps() != 2 {
		t.Errorf("empty window = %+v, want NaN statistics and the steps counted", e)
	}
	inf := Summarize(t0, t0, []Point{{V: 1}, {V: math.Inf(1)}})
	if !math.IsInf(inf.Max, 1) || !math.IsInf(inf.Mean, 1) || inf.Min != 1 || math.IsNaN(inf.P95) {
		t.Errorf("with +Inf = %+v", inf)
	}
}

func TestPanels(t *testing.T) {
	c := Conventions{Selector: `job="checkout"`, Window: 30 * time.Second, By: "instance"}
	if got, want := P95Query(c), `histogram_quantile(0.95, sum by (le, instance) (rate(http_request_duration_seconds_bucket{job="checkout"}[30s])))`; got != want {
		t.Errorf("P95Query = %s\nwant %s", got, want)
	}
	er := ErrorRateQuery(Conventions{})
	for _, s := range []string{`code=~"5.."`, `status=~"5.."`, `* 0`, `[1m]`} {
		if !strings.Contains(er, s) {
			t.Errorf("ErrorRateQuery %s lacks %s", er, s)
		}
	}
	defs := DefaultPanels(Conventions{})
	merged := Panels(defs, []runbook.Panel{
		{Name: PanelP95, Title: "Checkout P95", By: "instance"},
		{Name: "orders", Query: `sum(rate(orders_completed_total[1m])) * 60`},
		{Name: PanelErrorRate, Query: "my_errors", Unit: runbook.UnitRatio},
	})
	if len(merged) != 3 || merged[0].Query != defs[0].Query || merged[0].Title != "Checkout P95" || merged[0].Unit != runbook.UnitSeconds ||
		merged[1].Query != "my_errors" || merged[2].Name != "orders" {
		t.Errorf("merged = %+v", merged)
	}
}

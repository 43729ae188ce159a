package prom

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

type point struct {
	t int64
	v float64
}

func appendAll(t testing.TB, st *store, lset labels.Labels, ps ...point) {
	t.Helper()
	app := st.Appender(context.Background())
	for _, p := range ps {
		if _, err := app.Append(0, lset, p.t, p.v); err != nil {
			t.Fatalf("append %v: %v", p, err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
}

// selectAll returns every matching series' samples in [mint, maxt].
func selectAll(t testing.TB, st *store, mint, maxt int64, ms ...*labels.Matcher) map[string][]point {
	t.Helper()
	q, err := st.Querier(mint, maxt)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	set := q.Select(context.Background(), true, &storage.SelectHints{Start: mint, End: maxt}, ms...)
	out := map[string][]point{}
	var order []string
	for set.Next() {
		s := set.At()
		key := s.Labels().String()
		order = append(order, key)
		it := s.Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			pt, v := it.At()
			out[key] = append(out[key], point{pt, v})
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(order) {
		t.Errorf("series not in labels order: %v", order)
	}
	return out
}

func TestStoreAppendRules(t *testing.T) {
	st := newStore(time.Hour)
	up := labels.FromStrings("__name__", "up", "job", "lab")
	appendAll(t, st, up, point{1000, 1})

	app := st.Appender(context.Background())
	if _, err := app.Append(0, up, 500, 1); !errors.Is(err, storage.ErrOutOfOrderSample) {
		t.Errorf("an older sample: %v, want out of order", err)
	}
	if _, err := app.Append(0, up, 1000, 2); !errors.Is(err, storage.ErrDuplicateSampleForTimestamp) {
		t.Errorf("another value at the same time: %v, want duplicate sample", err)
	}
	ref, err := app.Append(0, up, 1000, 1)
	if err != nil {
		t.Errorf("the same sample again: %v, want it ignored", err)
	}
	if _, err := app.Append(ref, labels.EmptyLabels(), 2000, 0); err != nil {
		t.Errorf("append by ref: %v", err)
	}
	if _, err := app.Append(0, labels.EmptyLabels(), 2000, 0); err == nil {
		t.Error("no labels and no ref: accepted")
	}
	if _, err := app.Append(0, labels.FromStrings("a", "1", "a", "2"), 2000, 0); err == nil {
		t.Error("a duplicate label name: accepted")
	}
	if got := selectAll(t, st, 0, 5000); len(got[up.String()]) != 1 {
		t.Errorf("before commit: %v, want the first sample only", got)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, want := selectAll(t, st, 0, 5000)[up.String()], []point{{1000, 1}, {2000, 0}}; !slices.Equal(got, want) {
		t.Errorf("after commit: %v, want %v", got, want)
	}

	app = st.Appender(context.Background())
	if _, err := app.Append(0, up, 3000, 7); err != nil {
		t.Fatal(err)
	}
	if err := app.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := selectAll(t, st, 0, 5000)[up.String()]; len(got) != 2 {
		t.Errorf("after rollback: %v, want the two committed samples", got)
	}
}

func TestStoreChunksAndRanges(t *testing.T) {
	st := newStore(time.Hour)
	c := labels.FromStrings("__name__", "requests_total", "instance", "a")
	var ps []point
	for i := range 300 {
		ps = append(ps, point{int64(i) * 1000, float64(i)})
	}
	// A stale marker is a NaN with its own bits; it must come back as it went in.
	stale := math.Float64frombits(0x7ff0000000000002)
	ps = append(ps, point{300_000, stale})
	appendAll(t, st, c, ps...)
	s := st.byRef[1]
	if len(s.closed) != 2 || s.head.chunk.NumSamples() != 61 {
		t.Errorf("%d closed chunks and %d head samples, want 2 of %d and 61", len(s.closed), s.head.chunk.NumSamples(), samplesPerChunk)
	}

	got := selectAll(t, st, 50_000, 250_000)[c.String()]
	if len(got) != 201 || got[0] != (point{50_000, 50}) || got[200] != (point{250_000, 250}) {
		t.Errorf("[50s, 250s]: %d samples from %v to %v, want 201 from 50s to 250s", len(got), got[0], got[len(got)-1])
	}
	for i := 1; i < len(got); i++ {
		if got[i].t != got[i-1].t+1000 {
			t.Fatalf("gap or repeat between %v and %v", got[i-1], got[i])
		}
	}
	last := selectAll(t, st, 300_000, 300_000)[c.String()]
	if len(last) != 1 || math.Float64bits(last[0].v) != math.Float64bits(stale) {
		t.Errorf("stale marker came back as %v", last)
	}
	if got := selectAll(t, st, 400_000, 500_000); len(got) != 0 {
		t.Errorf("a range after the last sample: %v, want no series", got)
	}

	q, _ := st.Querier(0, 400_000)
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "instance", "a"))
	if !set.Next() {
		t.Fatal("no series for instance=a")
	}
	it := set.At().Iterator(nil)
	if it.Seek(125_500) != chunkenc.ValFloat || it.AtT() != 126_000 {
		t.Errorf("seek 125.5s: at %d, want 126s", it.AtT())
	}
	if it.Seek(10_000) != chunkenc.ValFloat || it.AtT() != 126_000 {
		t.Errorf("seek back: at %d, want to stay at 126s", it.AtT())
	}
	if it.Seek(301_000) != chunkenc.ValNone {
		t.Error("seek past the end found a sample")
	}
}

func TestStoreLabels(t *testing.T) {
	st := newStore(time.Hour)
	appendAll(t, st, labels.FromStrings("__name__", "up", "instance", "a", "job", "lab"), point{1000, 1})
	appendAll(t, st, labels.FromStrings("__name__", "up", "instance", "b", "job", "lab"), point{5000, 1})
	appendAll(t, st, labels.FromStrings("__name__", "http_requests_total", "code", "500", "instance", "b"), point{5000, 3})
	// Made by an append that was rolled back: it has no samples to show.
	app := st.Appender(context.Background())
	if _, err := app.Append(0, labels.FromStrings("__name__", "never", "instance", "c"), 1000, 1); err != nil {
		t.Fatal(err)
	}
	_ = app.Rollback()

	q, _ := st.Querier(0, 10_000)
	ctx := context.Background()
	names, _, _ := q.LabelNames(ctx, nil)
	if want := []string{"__name__", "code", "instance", "job"}; !slices.Equal(names, want) {
		t.Errorf("label names %v, want %v", names, want)
	}
	vals, _, _ := q.LabelValues(ctx, "instance", nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))
	if want := []string{"a", "b"}; !slices.Equal(vals, want) {
		t.Errorf("instances of up %v, want %v", vals, want)
	}
	vals, _, _ = q.LabelValues(ctx, "instance", &storage.LabelHints{Limit: 1})
	if want := []string{"a"}; !slices.Equal(vals, want) {
		t.Errorf("limited instances %v, want %v", vals, want)
	}
	late, _ := st.Querier(2000, 10_000)
	vals, _, _ = late.LabelValues(ctx, "instance", nil)
	if want := []string{"b"}; !slices.Equal(vals, want) {
		t.Errorf("instances after 2s %v, want %v", vals, want)
	}
	re := labels.MustNewMatcher(labels.MatchRegexp, "__name__", "up|http_.*")
	if got := selectAll(t, st, 0, 10_000, re); len(got) != 3 {
		t.Errorf("regexp select: %v, want three series", got)
	}
}

func TestStoreRetention(t *testing.T) {
	st := newStore(time.Hour)
	now := time.Now()
	old := labels.FromStrings("__name__", "gone")
	kept := labels.FromStrings("__name__", "kept")
	var ps []point
	for i := range samplesPerChunk + 80 {
		ps = append(ps, point{now.Add(-3*time.Hour + time.Duration(i)*time.Second).UnixMilli(), 1})
	}
	appendAll(t, st, old, ps...)
	appendAll(t, st, kept, append(ps, point{now.UnixMilli(), 2})...)

	st.gc(now)
	if len(st.byRef) != 1 || len(st.byName["gone"]) != 0 {
		t.Errorf("series after gc: %d, want only the one with a recent sample", len(st.byRef))
	}
	got := selectAll(t, st, 0, now.UnixMilli())[kept.String()]
	// The first chunk ended before the cut-off; the head, which holds a
	// recent sample, stays whole.
	if want := 81; len(got) != want {
		t.Errorf("%d samples kept, want %d", len(got), want)
	}
}

// TestStoreConcurrent is for the race detector: scrapes append while
// queries read the head chunk they grow.
func TestStoreConcurrent(t *testing.T) {
	st := newStore(time.Hour)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			lset := labels.FromStrings("__name__", "x", "w", string(rune('a'+w)))
			for i := range 500 {
				appendAll(t, st, lset, point{int64(i), float64(i)})
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 200 {
				for _, ps := range selectAll(t, st, 0, 1000) {
					for i := 1; i < len(ps); i++ {
						if ps[i].t <= ps[i-1].t {
							t.Errorf("out of order: %v then %v", ps[i-1], ps[i])
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	for key, ps := range selectAll(t, st, 0, 1000) {
		if len(ps) != 500 {
			t.Errorf("%s: %d samples, want 500", key, len(ps))
		}
	}
}

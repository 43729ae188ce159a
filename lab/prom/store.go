package prom

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"
)

// The lab keeps its samples in memory, in Prometheus's own XOR chunks, and
// serves them to the engine as a storage.Queryable. Prometheus's TSDB would
// bring its configuration package, and with it the Kubernetes, Azure and
// Google clients of service discovery and remote write, into a binary that
// needs none of them: a game day's hours of a few hundred series fit in a
// few megabytes.

// samplesPerChunk is where Prometheus cuts its head chunks: about 1.4 bytes
// a sample once compressed.
const samplesPerChunk = 120

// gcEvery is how often a commit also drops samples past the retention.
const gcEvery = time.Minute

// store is an append-only, in-memory series store.
type store struct {
	retention time.Duration

	mu      sync.RWMutex
	nextRef storage.SeriesRef
	byRef   map[storage.SeriesRef]*memSeries
	byHash  map[uint64][]*memSeries
	byName  map[string][]*memSeries
	lastGC  time.Time
}

func newStore(retention time.Duration) *store {
	return &store{
		retention: retention,
		byRef:     map[storage.SeriesRef]*memSeries{},
		byHash:    map[uint64][]*memSeries{},
		byName:    map[string][]*memSeries{},
		lastGC:    time.Now(),
	}
}

// memSeries is one series: closed chunks, which never change again, and
// the head chunk being appended to.
type memSeries struct {
	ref     storage.SeriesRef
	lset    labels.Labels
	created int64 // ms; an empty series older than the retention is dropped

	mu     sync.Mutex
	closed []memChunk
	head   memChunk
	app    chunkenc.Appender
	lastT  int64 // math.MinInt64 before the first sample
	lastV  uint64
}

type memChunk struct {
	chunk      chunkenc.Chunk
	mint, maxt int64
}

func (s *memSeries) empty() bool { return s.lastT == math.MinInt64 }

// mint is the series' first timestamp; callers hold s.mu.
func (s *memSeries) mint() int64 {
	if len(s.closed) > 0 {
		return s.closed[0].mint
	}
	return s.head.mint
}

// appendable says whether t, v can follow what the series holds, with
// Prometheus's errors; ok false with no error is a repeat to ignore.
func (s *memSeries) appendable(t int64, v float64) (bool, error) {
	switch {
	case s.empty() || t > s.lastT:
		return true, nil
	case t < s.lastT:
		return false, storage.ErrOutOfOrderSample
	case math.Float64bits(v) != s.lastV:
		return false, storage.ErrDuplicateSampleForTimestamp
	}
	return false, nil
}

func (s *memSeries) append(t int64, v float64) {
	if ok, _ := s.appendable(t, v); !ok {
		return
	}
	if s.app == nil || s.head.chunk.NumSamples() >= samplesPerChunk {
		if s.app != nil {
			s.head.chunk.Compact()
			s.closed = append(s.closed, s.head)
		}
		c := chunkenc.NewXORChunk()
		s.app, _ = c.Appender() // an empty XOR chunk always has one
		s.head = memChunk{chunk: c, mint: t}
	}
	s.app.Append(0, t, v)
	s.head.maxt = t
	s.lastT, s.lastV = t, math.Float64bits(v)
}

// chunks returns what overlaps [mint, maxt]. The head chunk is copied:
// appending rewrites its last bytes, which a reader must not see half done.
func (s *memSeries) chunks(mint, maxt int64) []memChunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []memChunk
	for _, c := range s.closed {
		if c.maxt >= mint && c.mint <= maxt {
			out = append(out, c)
		}
	}
	if s.app != nil && s.head.maxt >= mint && s.head.mint <= maxt {
		c, _ := chunkenc.FromData(chunkenc.EncXOR, slices.Clone(s.head.chunk.Bytes()))
		out = append(out, memChunk{chunk: c, mint: s.head.mint, maxt: s.head.maxt})
	}
	return out
}

// overlaps says whether the series has samples in [mint, maxt].
func (s *memSeries) overlaps(mint, maxt int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.empty() && s.lastT >= mint && s.mint() <= maxt
}

// getOrCreate returns the series with lset, making it if it is new.
func (st *store) getOrCreate(lset labels.Labels) (*memSeries, error) {
	if lset.IsEmpty() {
		return nil, errors.New("empty label set")
	}
	if l, dup := lset.HasDuplicateLabelNames(); dup {
		return nil, errors.New("label set has duplicate label name " + l)
	}
	h := lset.Hash()
	st.mu.RLock()
	s := st.find(h, lset)
	st.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.find(h, lset); s != nil {
		return s, nil
	}
	st.nextRef++
	s = &memSeries{ref: st.nextRef, lset: lset.Copy(), created: time.Now().UnixMilli(), lastT: math.MinInt64}
	st.byRef[s.ref] = s
	st.byHash[h] = append(st.byHash[h], s)
	name := lset.Get(labels.MetricName)
	st.byName[name] = append(st.byName[name], s)
	return s, nil
}

func (st *store) find(h uint64, lset labels.Labels) *memSeries {
	for _, s := range st.byHash[h] {
		if labels.Equal(s.lset, lset) {
			return s
		}
	}
	return nil
}

// gc drops chunks that ended before the retention and series left with
// nothing, so a lab left running for days holds a bounded window.
func (st *store) gc(now time.Time) {
	cutoff := now.Add(-st.retention).UnixMilli()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.lastGC = now
	for ref, s := range st.byRef {
		s.mu.Lock()
		i := 0
		for i < len(s.closed) && s.closed[i].maxt < cutoff {
			i++
		}
		s.closed = slices.Delete(s.closed, 0, i)
		gone := s.empty() && s.created < cutoff || !s.empty() && s.lastT < cutoff
		s.mu.Unlock()
		if !gone {
			continue
		}
		delete(st.byRef, ref)
		h := s.lset.Hash()
		st.byHash[h] = slices.DeleteFunc(st.byHash[h], func(o *memSeries) bool { return o == s })
		if len(st.byHash[h]) == 0 {
			delete(st.byHash, h)
		}
		name := s.lset.Get(labels.MetricName)
		st.byName[name] = slices.DeleteFunc(st.byName[name], func(o *memSeries) bool { return o == s })
		if len(st.byName[name]) == 0 {
			delete(st.byName, name)
		}
	}
}

// Appender starts a batch of samples that Commit makes visible at once.
func (st *store) Appender(context.Context) *appender { return &appender{st: st} }

type pendingSample struct {
	s *memSeries
	t int64
	v float64
}

// appender checks each sample against what is committed, as Prometheus's
// head does, and applies the batch on Commit.
type appender struct {
	st      *store
	pending []pendingSample
}

// Append adds a sample to series ref, or to the series with lset when ref
// is 0 or unknown, and returns the series' ref.
func (a *appender) Append(ref storage.SeriesRef, lset labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	a.st.mu.RLock()
	s := a.st.byRef[ref]
	a.st.mu.RUnlock()
	if s == nil {
		var err error
		if s, err = a.st.getOrCreate(lset); err != nil {
			return 0, err
		}
	}
	s.mu.Lock()
	ok, err := s.appendable(t, v)
	s.mu.Unlock()
	if ok {
		a.pending = append(a.pending, pendingSample{s, t, v})
	}
	return s.ref, err
}

// Commit applies the batch. A sample that another batch overtook in the
// meantime is dropped, as Prometheus drops it.
func (a *appender) Commit() error {
	for _, p := range a.pending {
		p.s.mu.Lock()
		p.s.append(p.t, p.v)
		p.s.mu.Unlock()
	}
	a.pending = nil
	now := time.Now()
	a.st.mu.RLock()
	due := now.Sub(a.st.lastGC) >= gcEvery
	a.st.mu.RUnlock()
	if due {
		a.st.gc(now)
	}
	return nil
}

// Rollback drops the batch.
func (a *appender) Rollback() error {
	a.pending = nil
	return nil
}

// Querier implements storage.Queryable over [mint, maxt].
func (st *store) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{st: st, mint: mint, maxt: maxt}, nil
}

type querier struct {
	st         *store
	mint, maxt int64
}

func (*querier) Close() error { return nil }

// matching returns the series that match ms and have samples in [mint,
// maxt], sorted by labels.
func (q *querier) matching(mint, maxt int64, ms []*labels.Matcher) []*memSeries {
	q.st.mu.RLock()
	var candidates []*memSeries
	byName := false
	for _, m := range ms {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			candidates, byName = slices.Clone(q.st.byName[m.Value]), true
			break
		}
	}
	if !byName {
		candidates = make([]*memSeries, 0, len(q.st.byRef))
		for _, s := range q.st.byRef {
			candidates = append(candidates, s)
		}
	}
	q.st.mu.RUnlock()
	out := candidates[:0]
next:
	for _, s := range candidates {
		for _, m := range ms {
			if !m.Matches(s.lset.Get(m.Name)) {
				continue next
			}
		}
		if s.overlaps(mint, maxt) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *memSeries) int { return labels.Compare(a.lset, b.lset) })
	return out
}

// Select returns the series in labels order whatever sortSeries says: the
// order then never depends on when series were first seen.
func (q *querier) Select(_ context.Context, _ bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if hints != nil {
		mint, maxt = max(mint, hints.Start), min(maxt, hints.End)
	}
	set := &seriesSet{}
	for _, s := range q.matching(mint, maxt, ms) {
		if hints != nil && hints.Limit > 0 && len(set.series) == hints.Limit {
			break
		}
		var chunks []chunkenc.Chunk
		for _, c := range s.chunks(mint, maxt) {
			if c := trim(c, mint, maxt); c.NumSamples() > 0 {
				chunks = append(chunks, c)
			}
		}
		if len(chunks) > 0 {
			set.series = append(set.series, &series{lset: s.lset, chunks: chunks})
		}
	}
	return set
}

// LabelValues lists the values of name on the matching series, sorted.
func (q *querier) LabelValues(_ context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]struct{}{}
	for _, s := range q.matching(q.mint, q.maxt, ms) {
		if v := s.lset.Get(name); v != "" {
			seen[v] = struct{}{}
		}
	}
	return sortedKeys(seen, hints), nil, nil
}

// LabelNames lists the label names of the matching series, sorted.
func (q *querier) LabelNames(_ context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]struct{}{}
	for _, s := range q.matching(q.mint, q.maxt, ms) {
		s.lset.Range(func(l labels.Label) { seen[l.Name] = struct{}{} })
	}
	return sortedKeys(seen, hints), nil, nil
}

func sortedKeys(m map[string]struct{}, hints *storage.LabelHints) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	out, _ = hints.ApplyLimit(out)
	return out
}

type seriesSet struct {
	series []*series
	cur    *series
}

func (ss *seriesSet) Next() bool {
	if len(ss.series) == 0 {
		return false
	}
	ss.cur, ss.series = ss.series[0], ss.series[1:]
	return true
}

func (ss *seriesSet) At() storage.Series             { return ss.cur }
func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }

// series is one selected series: its chunks at the time of the select.
type series struct {
	lset   labels.Labels
	chunks []chunkenc.Chunk
}

func (s *series) Labels() labels.Labels { return s.lset }

// Iterator chains the chunks, which neither overlap nor touch.
func (s *series) Iterator(reuse chunkenc.Iterator) chunkenc.Iterator {
	if len(s.chunks) == 1 {
		return s.chunks[0].Iterator(reuse)
	}
	its := make([]chunkenc.Iterator, len(s.chunks))
	for i, c := range s.chunks {
		its[i] = c.Iterator(nil)
	}
	return storage.ChainSampleIteratorFromIterators(reuse, its)
}

// trim keeps the samples of c in [mint, maxt], as Prometheus trims a
// selection to its range; a chunk wholly inside is kept as it is.
func trim(c memChunk, mint, maxt int64) chunkenc.Chunk {
	if c.mint >= mint && c.maxt <= maxt {
		return c.chunk
	}
	out := chunkenc.NewXORChunk()
	app, _ := out.Appender()
	it := c.chunk.Iterator(nil)
	for it.Next() == chunkenc.ValFloat {
		t, v := it.At()
		if t > maxt {
			break
		}
		if t >= mint {
			app.Append(0, t, v)
		}
	}
	return out
}

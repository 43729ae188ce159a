package metrics

import (
	"math"
	"time"
)

// Point is one step of a series.
type Point struct {
	T time.Time
	// V is the value the server returned. It can be NaN (e.g. 0/0 when there
	// was no traffic) or ±Inf (e.g. a quantile in the +Inf bucket); those are
	// values, not gaps.
	V float64
	// Missing says the server returned nothing for this step: a gap, which
	// is never to be read as zero.
	Missing bool
}

// Ring holds the most recent steps of one series in fixed memory. Slots are
// indexed by step number, so timestamps are implicit and a step that was
// never filled is a gap by construction.
type Ring struct {
	step  int64 // milliseconds
	vals  []float64
	have  []uint64 // bit set: slot holds a value from the server
	first int64    // step number of the oldest retained step
	next  int64    // one past the newest step; first == next when empty
}

// NewRing returns a ring for a series sampled every step that keeps the
// last capacity steps.
func NewRing(step time.Duration, capacity int) *Ring {
	if step < time.Millisecond {
		step = time.Millisecond
	}
	if capacity < 1 {
		capacity = 1
	}
	return &Ring{
		step: step.Milliseconds(),
		vals: make([]float64, capacity),
		have: make([]uint64, (capacity+63)/64),
	}
}

// Step is the ring's resolution.
func (r *Ring) Step() time.Duration { return time.Duration(r.step) * time.Millisecond }

// Cap is how many steps the ring keeps.
func (r *Ring) Cap() int { return len(r.vals) }

// Len is how many steps, gaps included, the ring currently spans.
func (r *Ring) Len() int { return int(r.next - r.first) }

// Start is the oldest step the ring covers; zero when empty.
func (r *Ring) Start() time.Time {
	if r.Len() == 0 {
		return time.Time{}
	}
	return r.timeOf(r.first)
}

// End is the newest step the ring covers (present or gap); zero when empty.
func (r *Ring) End() time.Time {
	if r.Len() == 0 {
		return time.Time{}
	}
	return r.timeOf(r.next - 1)
}

func (r *Ring) index(t time.Time) int64 {
	ms := t.UnixMilli()
	// Floor division, so steps before 1970 do not round the wrong way.
	q := ms / r.step
	if ms%r.step < 0 {
		q--
	}
	return q
}

func (r *Ring) timeOf(i int64) time.Time { return time.UnixMilli(i * r.step) }

func (r *Ring) slot(i int64) int {
	n := int64(len(r.vals))
	return int(((i % n) + n) % n)
}

func (r *Ring) set(i int64, v float64, ok bool) {
	s := r.slot(i)
	r.vals[s] = v
	if ok {
		r.have[s/64] |= 1 << (s % 64)
	} else {
		r.have[s/64] &^= 1 << (s % 64)
	}
}

func (r *Ring) get(i int64) (float64, bool) {
	s := r.slot(i)
	return r.vals[s], r.have[s/64]&(1<<(s%64)) != 0
}

// Extend makes the ring cover every step up to and including t, marking
// new steps as gaps. The poller calls it after a successful query so a
// series that returned nothing shows as a gap rather than stopping short.
func (r *Ring) Extend(t time.Time) {
	i := r.index(t)
	if r.Len() == 0 {
		r.first, r.next = i, i
	}
	if i < r.next {
		return
	}
	n := int64(len(r.vals))
	from := r.next
	if i-from >= n {
		from = i - n + 1
	}
	for j := from; j <= i; j++ {
		r.set(j, math.NaN(), false)
	}
	r.next = i + 1
	if r.next-r.first > n {
		r.first = r.next - n
	}
}

// Put records v at the step containing t. Steps older than the ring keeps
// are dropped; re-putting a step overwrites it.
func (r *Ring) Put(t time.Time, v float64) {
	i := r.index(t)
	if r.Len() > 0 && i < r.first {
		return
	}
	r.Extend(t)
	r.set(i, v, true)
}

// At returns the value at the step containing t and whether there is one.
func (r *Ring) At(t time.Time) (float64, bool) {
	i := r.index(t)
	if i < r.first || i >= r.next {
		return math.NaN(), false
	}
	return r.get(i)
}

// Last returns the newest step that holds a value.
func (r *Ring) Last() (Point, bool) {
	for i := r.next - 1; i >= r.first; i-- {
		if v, ok := r.get(i); ok {
			return Point{T: r.timeOf(i), V: v}, true
		}
	}
	return Point{}, false
}

// Each calls fn for every step in [from, to] that the ring covers, gaps
// included, oldest first. A zero from or to leaves that end open.
func (r *Ring) Each(from, to time.Time, fn func(Point)) {
	lo, hi := r.first, r.next-1
	if !from.IsZero() {
		// Round up: a step starting before from is outside the window.
		if f := r.index(from); r.timeOf(f).Before(from) {
			lo = max(lo, f+1)
		} else {
			lo = max(lo, f)
		}
	}
	if !to.IsZero() {
		hi = min(hi, r.index(to))
	}
	for i := lo; i <= hi; i++ {
		v, ok := r.get(i)
		fn(Point{T: r.timeOf(i), V: v, Missing: !ok})
	}
}

// Points returns the steps in [from, to], gaps included.
func (r *Ring) Points(from, to time.Time) []Point {
	var out []Point
	r.Each(from, to, func(p Point) { out = append(out, p) })
	return out
}

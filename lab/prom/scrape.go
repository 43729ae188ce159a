package prom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
)

// maxBody bounds one scrape, so a runaway endpoint cannot exhaust memory.
const maxBody = 32 << 20

// acceptHeader prefers the classic text format: the lab's exporters speak it
// and it carries no _created series that would differ from what a
// default-configured Prometheus stores.
const acceptHeader = "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1"

var (
	staleNaN  = math.Float64frombits(value.StaleNaN)
	normalNaN = math.Float64frombits(value.NormalNaN)
)

// The series every scrape adds about itself, as Prometheus names them.
var reportNames = [...]string{
	"up",
	"scrape_duration_seconds",
	"scrape_samples_scraped",
	"scrape_samples_post_metric_relabeling",
	"scrape_series_added",
}

// entry is one series a target exposes, cached between scrapes so a steady
// target costs a map lookup per sample and no label building.
type entry struct {
	ref      storage.SeriesRef
	lset     labels.Labels
	iter     uint64 // the last scrape that exposed it
	explicit bool   // exposed with its own timestamp: never marked stale, as in Prometheus
}

type loop struct {
	srv    *Server
	target Target
	cache  map[string]*entry
	iter   uint64
	report [len(reportNames)]entry
	last   int64 // timestamp of the last scrape, ms; 0 before the first
	buf    bytes.Buffer

	stop  chan bool // true: mark everything stale before returning
	done  chan struct{}
	state loopState
}

// loopState is what the targets endpoint shows; guarded by srv.mu.
type loopState struct {
	health   string
	lastErr  string
	lastTime time.Time
	lastDur  time.Duration
}

func newLoop(s *Server, t Target) *loop {
	l := &loop{srv: s, target: t, cache: map[string]*entry{}, stop: make(chan bool, 1), done: make(chan struct{}),
		state: loopState{health: "unknown"}}
	for i, name := range reportNames {
		l.report[i].lset = labels.FromStrings(labels.MetricName, name, "instance", t.Instance, "job", t.Job)
	}
	return l
}

// halt stops the loop and waits for it; stale marks every series it wrote.
func (l *loop) halt(stale bool) {
	l.stop <- stale
	<-l.done
}

// offset spreads targets over the interval the way Prometheus does, by a
// hash of the target, so scrapes of a fleet do not all land at once.
func (l *loop) offset(interval time.Duration) time.Duration {
	h := fnv.New64a()
	_, _ = io.WriteString(h, l.target.Job+"\xff"+l.target.Instance+"\xff"+l.target.URL)
	return time.Duration(h.Sum64() % uint64(interval))
}

func (l *loop) run(ctx context.Context) {
	defer close(l.done)
	interval := l.srv.interval
	now := time.Now()
	next := now.Truncate(interval).Add(l.offset(interval))
	if next.Before(now) {
		next = next.Add(interval)
	}
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			// Shutting down, not losing the target: like Prometheus, no
			// stale markers.
			return
		case stale := <-l.stop:
			if stale {
				l.markStale(time.Now())
			}
			return
		case <-timer.C:
		}
		l.scrape(ctx, time.Now())
		next = next.Add(interval)
		if now := time.Now(); next.Before(now) {
			// A slow scrape: skip the missed slots instead of bunching up.
			next = next.Add(now.Sub(next).Truncate(interval) + interval)
		}
		timer.Reset(time.Until(next))
	}
}

func (l *loop) scrape(ctx context.Context, start time.Time) {
	sctx, cancel := context.WithTimeout(ctx, l.srv.interval)
	body, ctype, err := l.fetch(sctx)
	cancel()
	dur := time.Since(start)
	if ctx.Err() != nil {
		return
	}
	ts := timestamp.FromTime(start)
	app := l.srv.db.Appender(ctx)
	var total, added int
	if err == nil {
		total, added, err = l.append(app, body, ctype, ts)
		if err != nil {
			_ = app.Rollback()
			app = l.srv.db.Appender(ctx)
		}
	}
	if err != nil {
		// A failed scrape exposes nothing: everything seen last time goes
		// stale, as in Prometheus.
		total, added = 0, 0
		if _, _, aerr := l.append(app, nil, "", ts); aerr != nil {
			err = errors.Join(err, aerr)
		}
	}
	up := 1.0
	if err != nil {
		up = 0
	}
	vals := [len(reportNames)]float64{up, dur.Seconds(), float64(total), float64(total), float64(added)}
	for i := range l.report {
		l.appendReport(app, i, ts, vals[i])
	}
	cerr := app.Commit()
	l.last = ts

	l.srv.mu.Lock()
	l.state.lastTime, l.state.lastDur = start, dur
	switch {
	case err != nil:
		l.state.health, l.state.lastErr = "down", err.Error()
	case cerr != nil:
		l.state.health, l.state.lastErr = "down", "store samples: "+cerr.Error()
	default:
		l.state.health, l.state.lastErr = "up", ""
	}
	l.srv.mu.Unlock()
}

func (l *loop) appendReport(app *appender, i int, ts int64, v float64) {
	e := &l.report[i]
	ref, err := app.Append(e.ref, e.lset, ts, v)
	if err == nil {
		e.ref = ref
	}
}

func (l *loop) fetch(ctx context.Context) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.target.URL, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("User-Agent", "gameday-lab")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", fmt.Sprintf("%g", l.srv.interval.Seconds()))
	resp, err := l.srv.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, "", fmt.Errorf("server returned HTTP status %s", resp.Status)
	}
	// The buffer is reused from scrape to scrape: nothing parsed from it
	// is kept past the scrape (cache keys and labels are copies).
	l.buf.Reset()
	if _, err := l.buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1)); err != nil {
		return nil, "", err
	}
	if l.buf.Len() > maxBody {
		return nil, "", fmt.Errorf("body larger than %d bytes", maxBody)
	}
	return l.buf.Bytes(), resp.Header.Get("Content-Type"), nil
}

// append parses one scrape into app and stale-marks the series the previous
// scrape exposed and this one does not. An empty body is a failed scrape.
func (l *loop) append(app *appender, body []byte, ctype string, ts int64) (total, added int, err error) {
	l.iter++
	if len(body) > 0 {
		total, added, err = l.parse(app, body, ctype, ts)
		if err != nil {
			return 0, 0, err
		}
	}
	for key, e := range l.cache {
		switch {
		case e.iter == l.iter:
		case e.iter+1 == l.iter:
			if !e.explicit {
				if _, err := app.Append(e.ref, e.lset, ts, staleNaN); err != nil && !sampleError(err) {
					return 0, 0, err
				}
			}
		default:
			// Stale-marked a scrape ago; forget it so a target that churns
			// series does not grow the cache without bound.
			delete(l.cache, key)
		}
	}
	return total, added, nil
}

func (l *loop) parse(app *appender, body []byte, ctype string, ts int64) (total, added int, err error) {
	p, err := textparse.New(body, ctype, nil, textparse.ParserOptions{FallbackContentType: "text/plain"})
	if p == nil {
		return 0, 0, fmt.Errorf("parse %s: %w", l.target.URL, err)
	}
	var lset labels.Labels
	for {
		et, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, fmt.Errorf("parse %s: %w", l.target.URL, err)
		}
		var (
			series []byte
			tp     *int64
			v      float64
		)
		switch et {
		case textparse.EntrySeries:
			series, tp, v = p.Series()
		case textparse.EntryHistogram:
			// Native histograms only come over protobuf, which the lab does
			// not ask for; skip rather than store half of one.
			continue
		default:
			continue
		}
		total++
		t := ts
		if tp != nil {
			t = *tp // honour the exposition's timestamp
		}
		if value.IsStaleNaN(v) {
			v = normalNaN // only the scraper may write a stale marker
		}
		e, ok := l.cache[string(series)]
		if !ok {
			p.Labels(&lset)
			e = &entry{lset: l.targetLabels(lset)}
			l.cache[string(series)] = e
			added++
		}
		if e.iter == l.iter {
			continue // duplicate line within one scrape: Prometheus keeps the first
		}
		ref, err := app.Append(e.ref, e.lset, t, v)
		if err != nil {
			if sampleError(err) {
				e.iter, e.explicit = l.iter, tp != nil
				continue
			}
			return 0, 0, fmt.Errorf("store %s: %w", e.lset, err)
		}
		e.ref, e.iter, e.explicit = ref, l.iter, tp != nil
	}
	return total, added, nil
}

// targetLabels adds job and instance the way Prometheus does with
// honor_labels off: a clashing exposed label is kept as exported_<name>.
func (l *loop) targetLabels(exposed labels.Labels) labels.Labels {
	b := labels.NewBuilder(exposed)
	for _, tl := range [...][2]string{{"job", l.target.Job}, {"instance", l.target.Instance}} {
		if v := exposed.Get(tl[0]); v != "" {
			name := "exported_" + tl[0]
			for exposed.Get(name) != "" {
				name = "exported_" + name
			}
			b.Set(name, v)
		}
		b.Set(tl[0], tl[1])
	}
	return b.Labels()
}

// markStale writes stale markers for every series of the target and its
// report series, so up and rates end at once when the target goes away.
func (l *loop) markStale(now time.Time) {
	if l.last == 0 {
		return // never scraped: nothing to end
	}
	ts := max(timestamp.FromTime(now), l.last+1)
	app := l.srv.db.Appender(context.Background())
	for _, e := range l.cache {
		if e.iter == l.iter && !e.explicit {
			_, _ = app.Append(e.ref, e.lset, ts, staleNaN)
		}
	}
	for i := range l.report {
		l.appendReport(app, i, ts, staleNaN)
	}
	_ = app.Commit()
}

// sampleError reports errors about one sample that Prometheus counts and
// skips rather than failing the scrape.
func sampleError(err error) bool {
	return errors.Is(err, storage.ErrOutOfOrderSample) ||
		errors.Is(err, storage.ErrOutOfBounds) ||
		errors.Is(err, storage.ErrTooOldSample) ||
		errors.Is(err, storage.ErrDuplicateSampleForTimestamp)
}

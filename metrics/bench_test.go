package metrics

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
)

// BenchmarkEightHourGameDay polls a Prometheus-compatible HTTP server through
// the real client for a simulated 8-hour game day at a 1 s step, 4 panels of
// 3 series each, with the clock advanced by hand. It reports the heap in use
// with every step held in memory (goal: under 50 MB) and the bytes fetched
// per poll in the first and the last hour, which must be the same: polls
// ask for new steps only, so their size does not grow with elapsed time.
//
//	go test -run '^$' -bench EightHour -benchtime 1x ./metrics
func BenchmarkEightHourGameDay(b *testing.B) {
	const (
		hours  = 8
		step   = time.Second
		polls  = hours * 3600
		series = 3
	)
	fp := &fakeProm{series: series, value: func(s int, t time.Time) float64 {
		return 0.1 + 0.01*float64(s) + 0.001*math.Sin(float64(t.Unix()))
	}}
	srv := newFakeServer(b, fp.handler(b))
	panels := make([]runbook.Panel, 4)
	for i := range panels {
		panels[i] = runbook.Panel{Name: fmt.Sprintf("panel%d", i), Query: fmt.Sprintf("q%d", i), By: "instance"}
	}
	ctx := context.Background()
	for range b.N {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)

		c, err := NewClient(ctx, runbook.Metrics{URL: srv.URL}, Options{Getenv: noEnv})
		if err != nil {
			b.Fatal(err)
		}
		clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
		p := NewPoller(c.API, Config{Panels: panels, Step: step, Retain: hours * time.Hour, Now: clk.Now, URL: c.URL})
		var firstHour, lastHour int64
		for i := range polls {
			clk.Add(step)
			if i == 3600 {
				firstHour = c.BytesRead()
			}
			if i == polls-3600 {
				lastHour = c.BytesRead()
			}
			if err := p.Poll(ctx); err != nil {
				b.Fatal(err)
			}
		}
		lastHour = c.BytesRead() - lastHour

		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		held := 0
		for _, pn := range panels {
			for _, s := range p.Series(pn.Name) {
				held += len(p.Points(pn.Name, s, time.Time{}, time.Time{}))
			}
		}
		runtime.KeepAlive(p)
		if held != 4*series*(polls) {
			b.Fatalf("held %d steps, want %d", held, 4*series*polls)
		}
		b.ReportMetric(float64(after.HeapInuse)/(1<<20), "MB-heap-inuse")
		b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/(1<<20), "MB-heap-added")
		b.ReportMetric(float64(firstHour)/3600, "B/poll-hour1")
		b.ReportMetric(float64(lastHour)/3600, "B/poll-hour8")
		b.ReportMetric(float64(held), "steps-held")
	}
}

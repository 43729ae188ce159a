package ssh

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// runEngine runs the runbook src as run id through the engine, with e as
// the ssh executor and r resolving its targets, on metrics that stay at
// 100ms, for at most within. It returns the outcome and every event;
// onEvent, when set, sees each event as it comes, and the engine waits
// for it.
func runEngine(t *testing.T, id, src string, r targets.Resolver, e *Executor, within time.Duration, onEvent func(gamedays.Event)) (gamedays.Outcome, []gamedays.Event) {
	t.Helper()
	cat := targets.Default()
	rb, err := runbook.Parse(id+".yaml", []byte(src), cat)
	if err != nil {
		t.Fatal(err)
	}
	q := &metricstest.Querier{Value: func(string, string, time.Time) float64 { return 0.1 }}
	poller := metrics.NewPoller(q, metrics.Config{Panels: rb.Metrics.Panels, Step: time.Second, Since: time.Now().Add(-10 * time.Second)})
	var mu sync.Mutex
	var events []gamedays.Event
	eng := gamedays.New(rb, gamedays.Options{RunID: id, Catalogue: cat, Metrics: poller,
		Resolvers:   map[string]targets.Resolver{"ssh": r},
		Executors:   map[string]targets.Executor{"ssh": e},
		AutoAdvance: true, AutoConfirm: true,
		OnEvent: func(ev gamedays.Event) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
			if onEvent != nil {
				onEvent(ev)
			}
		}})
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	out, err := eng.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return out, slices.Clone(events)
}

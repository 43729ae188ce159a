package gamedays

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/targetstest"
)

// slowExec injects at once and takes latency to roll back, like a host at
// the other end of a network; it notes when the first rollback began.
type slowExec struct {
	latency    time.Duration
	firstStart atomic.Int64 // unix nanos
	rolledBack atomic.Int64
}

func (s *slowExec) Preflight(context.Context, targets.Injection) error { return nil }
func (s *slowExec) Inject(context.Context, *targets.Injection) (targets.Result, error) {
	return targets.Result{}, nil
}
func (s *slowExec) Rollback(ctx context.Context, _ targets.Injection) (targets.Result, error) {
	s.firstStart.CompareAndSwap(0, time.Now().UnixNano())
	select {
	case <-time.After(s.latency):
	case <-ctx.Done():
		return targets.Result{}, ctx.Err()
	}
	s.rolledBack.Add(1)
	return targets.Result{}, nil
}
func (s *slowExec) Plan(targets.Injection) []string { return nil }

func fleetRunbook(b *testing.B, n int) *runbook.Runbook {
	b.Helper()
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("web-%d", i+1)
	}
	src := strings.Replace(testRunbook, "hosts: [web-1, web-2, web-3]", "hosts: ["+strings.Join(hosts, ", ")+"]", 1)
	src = strings.Replace(src, "web: {count: 1, seed: 3}", "web: {all: true}", 1)
	src = strings.Replace(src, "duration: 30s}", "duration: 1h}", 1)
	src = strings.Replace(src, "observe: {duration: 40s}", "observe: {duration: 2h}", 1)
	rb, err := runbook.Parse("bench.yaml", []byte(src), targets.Default())
	if err != nil {
		b.Fatal(err)
	}
	return rb
}

// BenchmarkAbort200Targets measures an abort with 200 injections applied and
// 10 ms per rollback: how long from the abort intent until the first
// rollback starts, and until every one is confirmed (journal included).
// Goals: under 50 ms and under 200 ms.
func BenchmarkAbort200Targets(b *testing.B) {
	const n = 200
	rb := fleetRunbook(b, n)
	var first, all time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		clock, poller, j := quietRun(b, rb)
		exec := &slowExec{latency: 10 * time.Millisecond}
		var injected atomic.Int64
		eng := New(rb, Options{
			RunID: "bench", Journal: j, Clock: clock, Catalogue: targets.Default(),
			Resolvers: map[string]targets.Resolver{"ssh": targetstest.Resolver{}},
			Executors: map[string]targets.Executor{"ssh": exec},
			Metrics:   poller, AutoAdvance: true, AutoConfirm: true, Parallel: n,
			OnEvent: func(ev Event) {
				if ev.Type == EvAttackResult {
					injected.Add(1)
				}
			},
		})
		done := make(chan Outcome, 1)
		go func() {
			out, _ := eng.Run(context.Background())
			done <- out
		}()
		// Walk the clock through the baseline until every host is injected.
		if !walkClockUntil(clock, 30*time.Second, 100*time.Microsecond, func() bool { return injected.Load() >= n }) {
			b.Fatalf("only %d of %d injected after 30s", injected.Load(), n)
		}
		b.StartTimer()
		t0 := time.Now()
		eng.Send(Local, Intent{Type: IntentAbort, Source: "bench"})
		out := <-done
		all += time.Since(t0)
		first += time.Duration(exec.firstStart.Load() - t0.UnixNano())
		b.StopTimer()
		if out.Verdict != VerdictAborted || len(out.Unreverted) != 0 || exec.rolledBack.Load() != n {
			b.Fatalf("verdict %s, %d unreverted, %d rolled back", out.Verdict, len(out.Unreverted), exec.rolledBack.Load())
		}
		j.Close()
	}
	b.ReportMetric(float64(first.Microseconds())/1000/float64(b.N), "ms-to-first-rollback")
	b.ReportMetric(float64(all.Microseconds())/1000/float64(b.N), "ms-to-all-rolled-back")
}

// BenchmarkJournalAppend appends 100,000 events per op in the proportions
// of a game day: mostly metric samples, with an attack intent (always synced
// before it returns) every thousand events. It reports the cost per event.
func BenchmarkJournalAppend(b *testing.B) {
	benchAppend(b, 100_000, 1000)
}

// BenchmarkJournalAppendIntents is the worst case: every event is an intent
// and is synced on its own (1,000 per op: each costs an fsync).
func BenchmarkJournalAppendIntents(b *testing.B) {
	benchAppend(b, 1000, 1)
}

// BenchmarkJournalAppendConcurrent has 200 goroutines journalling an intent
// each at once, as an abort's rollbacks do: concurrent syncs may share one
// fsync.
func BenchmarkJournalAppendConcurrent(b *testing.B) {
	const n = 200
	sample := inj("web-1")
	for i := 0; i < b.N; i++ {
		j := freshJournal(b)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				j.Append(Event{Type: EvRollbackIntent, Injection: sample})
			}()
		}
		wg.Wait()
		b.StopTimer()
		j.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}

// freshJournal creates an empty journal with the benchmark timer stopped
// and starts the timer again.
func freshJournal(b *testing.B) *Journal {
	b.StopTimer()
	defer b.StartTimer()
	j, err := CreateJournal(filepath.Join(b.TempDir(), JournalName), WallClock())
	if err != nil {
		b.Fatal(err)
	}
	return j
}

func benchAppend(b *testing.B, perOp, intentEvery int) {
	sample := Event{Type: EvSample, Samples: []Sample{{Panel: "p95", T: time.Unix(1700000000, 0).UTC(), V: 0.123}}}
	intent := Event{Type: EvAttackIntent, Injection: inj("web-1")}
	for i := 0; i < b.N; i++ {
		j := freshJournal(b)
		for k := range perOp {
			ev := sample
			if k%intentEvery == 0 {
				ev = intent
			}
			if _, err := j.Append(ev); err != nil {
				b.Fatal(err)
			}
		}
		if err := j.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perOp), "ns/event")
}

package aws

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// scaleRunbook attacks a 10 % blast radius of the lab's 10,000 instances:
// a cpu burn through Run Command, rolled back at 1m, then a stop, from 2m
// to 3m.
const scaleRunbook = `version: 1
name: ten thousand under throttling
metrics:
  step: 1s
  panels:
    p95: {query: latency, unit: seconds}
    error_rate: {query: errors, unit: ratio}
baseline:
  duration: 5s
  steady_state: {p95: "< 300ms", error_rate: "< 1%%"}
hypothesis:
  statement: the fleet shrugs off a burn and a stop on a tenth of it
  expect: {p95: "< 1s", error_rate: "< 2%%"}
targets:
  fleet: {aws: {region: us-east-1, resource: ec2:instance, tags: {service: checkout}, accounts: ["%s"], endpoint: %s, max_members: 10000}}
blast_radius:
  fleet: {percent: 10, seed: 1}
attacks:
  - {name: burn, target: fleet, kind: ssm-command, params: {attack: cpu, workers: 1, max_concurrency: "100%%", max_errors: "0"}, duration: 1m}
  - {name: stop, target: fleet, kind: ec2-stop, start_after: 2m, duration: 1m}
observe: {duration: 4m}
`

// The same fleet and throttling through the engine, as gameday run
// --autopilot --fanout 1000 takes it: the run holds, every injection of
// both attacks landed and was rolled back, and the endpoint shows it.
func TestLabTenThousandThroughTheEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 instances")
	}
	f := newScaleFleet(t, 0, 0.2)
	e := scaleExecutor(t, f, 100*time.Millisecond, 20*time.Millisecond)
	src := fmt.Sprintf(scaleRunbook, labAccount, f.srv.URL())
	cat := targets.Default()
	rb, err := runbook.Parse("scale.yaml", []byte(src), cat)
	if err != nil {
		t.Fatal(err)
	}
	out, landed, said := runOnManualClock(t, rb, src, cat, e)
	if out.Verdict != gamedays.VerdictHeld || len(out.Unreverted) != 0 || landed["burn"] != 1000 || landed["stop"] != 1000 {
		t.Fatalf("verdict %s (%s), %d unreverted, injected %v; autopilot said:\n%s", out.Verdict, out.Reason, len(out.Unreverted), landed, said)
	}
	for _, want := range []string{
		"rolled back burn (ssm-command) on 1000 member(s) of fleet: 1000 ok",
		"rolled back stop (ec2-stop) on 1000 member(s) of fleet: 1000 ok",
	} {
		if !strings.Contains(said, want) {
			t.Errorf("autopilot output lacks %q:\n%s", want, said)
		}
	}
	stats := f.srv.Stats()
	if st := stats["ssm:SendCommand"]; st.Throttled == 0 {
		t.Errorf("SendCommand was never throttled (%d calls)", st.Calls)
	}
	for id, scripts := range f.ran {
		if len(scripts) != 3 {
			t.Errorf("%s ran %d scripts, want preflight, inject and rollback", id, len(scripts))
			break
		}
	}
	if len(f.ran) != 1000 {
		t.Errorf("scripts ran on %d instances, want 1000", len(f.ran))
	}
	stopped := 0
	for _, n := range stats["ec2:StartInstances"].Batches {
		stopped += n
	}
	// At least the 1,000 stopped; a call the SDK sent again after a dropped
	// connection (see TestLabTenThousandUnderThrottling) names 100 twice.
	if stopped < 1000 || stopped > 1200 {
		t.Errorf("StartInstances named %d instances, want the 1000 stopped", stopped)
	}
}

// runOnManualClock runs rb through the engine with e as the AWS family and
// returns how it ended, the injections that landed per attack and what the
// autopilot said.
func runOnManualClock(t *testing.T, rb *runbook.Runbook, src string, cat *targets.Catalogue, e *Executor) (gamedays.Outcome, map[string]int, string) {
	t.Helper()
	clock := gamedays.NewManualClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	q := &metricstest.Querier{Value: func(string, string, time.Time) float64 { return 0.001 }}
	poller := metrics.NewPoller(q, metrics.Config{Panels: rb.Metrics.Panels, Step: time.Second, Now: clock.Now, Since: clock.Now()})
	j, err := gamedays.CreateJournal(filepath.Join(t.TempDir(), gamedays.JournalName), clock)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var mu sync.Mutex
	landed := map[string]int{} // attack -> injections that succeeded
	// The engine's timeline runs on a manual clock, the calls to the
	// endpoint in real time: the clock stands still while any inject or
	// rollback is under way, as the minutes of the runbook dwarf them.
	inFlight := 0
	var errs strings.Builder
	log := &gamedays.Log{Stdout: io.Discard, Stderr: &errs, Journal: "j.jsonl"}
	eng := gamedays.New(rb, gamedays.Options{
		RunID: "scale", Source: []byte(src), Journal: j, Clock: clock, Catalogue: cat,
		Resolvers: map[string]targets.Resolver{targets.FamilyAWS: e},
		Executors: map[string]targets.Executor{targets.FamilyAWS: e},
		Metrics:   poller, AutoAdvance: true, AutoConfirm: true, Parallel: 1000,
		OnEvent: func(ev gamedays.Event) {
			mu.Lock()
			defer mu.Unlock()
			log.Event(ev)
			switch ev.Type {
			case gamedays.EvAttackIntent, gamedays.EvRollbackIntent:
				inFlight++
			case gamedays.EvAttackResult, gamedays.EvRollbackResult:
				inFlight--
			}
			if ev.Type == gamedays.EvAttackResult && ev.Injection != nil && ev.OK != nil && *ev.OK {
				landed[ev.Injection.Attack]++
			}
		},
	})
	done := make(chan gamedays.Outcome, 1)
	go func() {
		out, err := eng.Run(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()
	var out gamedays.Outcome
	deadline := time.After(5 * time.Minute)
wait:
	for {
		select {
		case out = <-done:
			break wait
		case <-deadline:
			t.Fatal("the run did not end within 5 minutes")
		case <-time.After(time.Millisecond):
			mu.Lock()
			idle := inFlight == 0
			mu.Unlock()
			if idle && clock.Waiters() > 0 {
				clock.Advance(time.Second)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return out, landed, errs.String()
}

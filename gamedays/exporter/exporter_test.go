package exporter

import (
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// A real Prometheus scrapes --metrics-listen while a game day goes through
// its phases; the annotation query docs/alerting.md gives shows the
// injection exactly while it is active, with its labels.
func TestScrapedByPrometheus(t *testing.T) {
	x := New()
	srv, err := Listen("127.0.0.1:0", x)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := Listen(srv.Addr(), x); err == nil || !strings.Contains(err.Error(), "--metrics-listen "+srv.Addr()+": cannot listen") {
		t.Errorf("address in use: got %v", err)
	}
	prom := e2e.StartPrometheus(t, srv.Addr())
	api := e2e.PrometheusAPI(t, prom)

	yes := true
	inj := targets.Injection{RunID: "r1", Attack: "add latency", Kind: "network-latency", Member: targets.Member{Target: "checkout", ID: "checkout-2"}}
	now := time.Now()
	x.OnEvent(gamedays.Event{Type: gamedays.EvRunStart, Time: now, RunID: "r1", Msg: "checkout survives"})
	x.OnEvent(gamedays.Event{Type: gamedays.EvPhase, Time: now, Phase: "run"})
	x.OnEvent(gamedays.Event{Type: gamedays.EvAttackIntent, Time: now, Injection: &inj})
	x.OnEvent(gamedays.Event{Type: gamedays.EvAttackResult, Time: now, Injection: &inj, OK: &yes, Result: &targets.Result{}})
	x.OnEvent(gamedays.Event{Type: gamedays.EvLive, Live: &gamedays.Live{Guards: []gamedays.GuardStatus{{Panel: "p95", Threshold: "> 2s for 30s", Pending: true}}}})

	const annotation = `gameday_injection_active{run="r1"}`
	active := waitFor(t, api, annotation, func(v model.Vector) bool { return len(v) == 1 })
	want := model.Metric{"__name__": "gameday_injection_active", "run": "r1", "attack": "add latency", "target": "checkout", "member": "checkout-2", "kind": "network-latency", "job": "app", "instance": model.LabelValue(srv.Addr())}
	if !active[0].Metric.Equal(want) || active[0].Value != 1 {
		t.Errorf("got %v, want %v = 1", active[0], want)
	}
	waitFor(t, api, `gameday_phase{run="r1",phase="run"} == 1`, func(v model.Vector) bool { return len(v) == 1 })
	waitFor(t, api, `gameday_guardrail{run="r1",panel="p95",threshold="> 2s for 30s",state="pending"} == 1`, func(v model.Vector) bool { return len(v) == 1 })
	waitFor(t, api, `gameday_run_start_timestamp_seconds{run="r1",runbook="checkout survives"}`, func(v model.Vector) bool {
		return len(v) == 1 && time.UnixMilli(int64(float64(v[0].Value)*1000)).Equal(now.Truncate(time.Millisecond))
	})

	x.OnEvent(gamedays.Event{Type: gamedays.EvRollbackIntent, Time: time.Now(), Injection: &inj, Msg: "duration over"})
	x.OnEvent(gamedays.Event{Type: gamedays.EvRollbackResult, Time: time.Now(), Injection: &inj, OK: &yes, Result: &targets.Result{}})
	x.OnEvent(gamedays.Event{Type: gamedays.EvPhase, Time: time.Now(), Phase: "conclude"})
	x.OnEvent(gamedays.Event{Type: gamedays.EvVerdict, Time: time.Now(), Verdict: "refuted", Msg: "monitoring gap"})
	// Prometheus marks the series stale once a scrape no longer has it.
	waitFor(t, api, annotation, func(v model.Vector) bool { return len(v) == 0 })
	waitFor(t, api, `gameday_verdict{run="r1",verdict="refuted"} == 1`, func(v model.Vector) bool { return len(v) == 1 })
	waitFor(t, api, `gameday_phase{run="r1"}`, func(v model.Vector) bool { return len(v) == 1 && v[0].Metric["phase"] == "conclude" })
}

// waitFor asks Prometheus q until ok holds, for at most 20s.
func waitFor(t *testing.T, api v1.API, q string, ok func(model.Vector) bool) model.Vector {
	t.Helper()
	var v model.Vector
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if v = e2e.Query(t, api, q, time.Now()); ok(v) {
			return v
		}
	}
	t.Fatalf("%s: still %v after 20s", q, v)
	return nil
}

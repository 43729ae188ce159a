package runbook_test

import (
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

const stagedRunbook = `version: 1
name: checkout under growing latency
metrics:
  panels:
    p95: {query: latency, unit: seconds}
baseline:
  duration: 1m
hypothesis:
  statement: checkout copes
  expect: {p95: "< 300ms"}
targets:
  checkout: {ssh: {hosts: [c-1, c-2, c-3, c-4]}}
blast_radius:
  checkout: {count: 1, seed: 7}
attacks:
  - name: slow
    target: checkout
    kind: network-latency
    params: {interface: eth0, delay: 100ms}
    duration: 1m
    stages:
      - {count: 1}
      - {percent: 50, params: {delay: 200ms}, hold: 2m}
      - {all: true, params: {delay: 400ms}}
`

func TestStagesParse(t *testing.T) {
	rb, err := runbook.Parse("s.yaml", []byte(stagedRunbook), targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	a := rb.Attacks[0]
	if rb.Stages() != 3 || len(a.Stages) != 3 {
		t.Fatalf("stages: run %d, attack %d; want 3", rb.Stages(), len(a.Stages))
	}
	if a.Stages[0].Hold != time.Minute || a.Stages[1].Hold != 2*time.Minute || a.Stages[2].Hold != time.Minute {
		t.Errorf("holds %v %v %v; want 1m 2m 1m (duration is the default hold)", a.Stages[0].Hold, a.Stages[1].Hold, a.Stages[2].Hold)
	}
	if a.Duration != 4*time.Minute || rb.AttacksEnd() != 4*time.Minute || rb.Observe.Duration != 4*time.Minute {
		t.Errorf("duration %v, attacks end %v, observe %v; want the whole escalation, 4m", a.Duration, rb.AttacksEnd(), rb.Observe.Duration)
	}
	if got := a.StageParams(0)["delay"]; got != "100ms" {
		t.Errorf("stage 1 delay %q; want the attack's 100ms", got)
	}
	if got := a.StageParams(2); got["delay"] != "400ms" || got["interface"] != "eth0" {
		t.Errorf("stage 3 params %v; want delay 400ms on eth0", got)
	}
	br := rb.StageBlastRadius(a, 1)
	if br.Percent != 50 || br.Count != 0 || !br.HasSeed || br.Seed != 7 {
		t.Errorf("stage 2 blast radius %+v; want 50%% with the target's seed 7", br)
	}
}

func TestStagesBroken(t *testing.T) {
	wantBroken(t, stagedRunbook, targets.Default(), []brokenCase{
		{"smaller than the one before", "{percent: 50, params: {delay: 200ms}, hold: 2m}", "{count: 3, params: {delay: 200ms}, hold: 2m}\n      - {percent: 25}", []string{
			"24:9: attack \"slow\".stages[2]: 25% is smaller than stage 2's count 3; each stage hits at least the members of the one before",
		}},
		{"param the kind does not take", "params: {delay: 200ms}", "params: {delay: 200ms, rate: 5}", []string{
			"23:46: attack \"slow\".stages[1].params: unknown param \"rate\" for network-latency; it takes: delay, destination, interface, jitter, port, spare_control",
		}},
		{"magnitude out of range", "params: {delay: 400ms}", "params: {delay: 45s}", []string{
			"24:37: attack \"slow\".stages[2].params: params.delay: expected a duration from 1ms to 30s, found \"45s\"",
		}},
		{"repeats the stage before", "{all: true, params: {delay: 400ms}}", "{percent: 50, params: {delay: 200ms}}", []string{
			"24:9: attack \"slow\".stages[2]: repeats stage 2 (50%, same params); widen the blast radius or change a param",
		}},
		{"count beyond the hosts", "{count: 1}", "{count: 5}", []string{
			"22:17: attack \"slow\".stages[0].count: 5 is more than the 4 host(s) of target \"checkout\"",
		}},
		{"two modes", "{count: 1}", "{count: 1, all: true}", []string{
			"22:9: attack \"slow\".stages[0]: expected exactly one of count, percent or all: true",
		}},
		{"start_after", "    duration: 1m\n", "    duration: 1m\n    start_after: 10s\n", []string{
			"21:18: attack \"slow\".start_after: an attack with stages starts with the run; stage holds set its timing",
		}},
		{"one attack without stages", "      - {all: true, params: {delay: 400ms}}\n", "      - {all: true, params: {delay: 400ms}}\n  - {name: cpu, target: checkout, kind: cpu, duration: 1m}\n", []string{
			"25:5: attack \"cpu\": has no stages while \"slow\" (3) do; in a staged run every attack declares its stages",
		}},
	})
}

package ui

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/gamedays/report"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

const agreeRunbook = `version: 1
name: views agree
metrics:
  step: 1s
  panels:
    p95: {query: latency, unit: seconds}
baseline:
  duration: 20s
  steady_state: {p95: "< 300ms"}
hypothesis:
  statement: it copes
  expect: {p95: "< 1s"}
targets:
  web: {ssh: {hosts: [web-1, web-2, web-3, web-4]}}
blast_radius:
  web: {all: true}
attacks:
  - {name: slow, target: web, kind: network-latency, params: {interface: eth0, delay: 200ms}, duration: 30s}
  - {name: burn, target: web, kind: cpu, duration: 30s}
`

// randomJournal is a game day's journal with the injections' steps in a
// random interleaving: injects that fail or never return, faults that end
// early on their own, rollbacks that fail, are repeated or never come, aborts (repeated), a verdict or none, a
// recovery or none.
func randomJournal(r *rand.Rand) []gamedays.Event {
	t := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	var evs []gamedays.Event
	add := func(ev gamedays.Event) {
		t = t.Add(time.Duration(1+r.IntN(3)) * time.Second)
		ev.Seq, ev.Time, ev.V = int64(len(evs)+1), t, 1
		evs = append(evs, ev)
	}
	yes, no := true, false
	okOr := func(p float64) *bool {
		if r.Float64() < p {
			return &yes
		}
		return &no
	}
	add(gamedays.Event{Type: gamedays.EvRunStart, RunID: "r1", Msg: "views agree", Runbook: agreeRunbook, File: "agree.yaml"})
	add(gamedays.Event{Type: gamedays.EvPhase, Phase: "blast radius"})
	var members []targets.Member
	for i := 1; i <= 4; i++ {
		members = append(members, targets.Member{Target: "web", ID: fmt.Sprintf("web-%d", i), Addr: fmt.Sprintf("10.0.0.%d:22", i)})
	}
	add(gamedays.Event{Type: gamedays.EvResolved, Target: "web", Members: members})
	add(gamedays.Event{Type: gamedays.EvSelected, Target: "web", Members: members})
	add(gamedays.Event{Type: gamedays.EvConfirmed, Msg: "8 injection(s) confirmed"})
	add(gamedays.Event{Type: gamedays.EvPhase, Phase: "run"})

	// Each injection is a little script of steps; the scripts are run
	// interleaved at random.
	type script struct {
		inj   targets.Injection
		steps []gamedays.Event
	}
	var scripts []*script
	for _, a := range []struct{ name, kind string }{{"slow", "network-latency"}, {"burn", "cpu"}} {
		for _, m := range members {
			if r.IntN(5) == 0 {
				continue // never started
			}
			inj := targets.Injection{RunID: "r1", Attack: a.name, Kind: a.kind, Member: m, Duration: 30 * time.Second}
			sc := &script{inj: inj}
			step := func(typ string, ok *bool, err string) {
				in := inj
				ev := gamedays.Event{Type: typ, Injection: &in, OK: ok}
				if typ == gamedays.EvAttackResult || typ == gamedays.EvRollbackResult {
					ev.Result = &targets.Result{Err: err}
					if ok != nil && *ok {
						ev.Result.Err = ""
					}
				}
				switch typ {
				case gamedays.EvRollbackIntent:
					ev.Msg = "duration over"
				case gamedays.EvFaultEnded:
					ev.Source, ev.Msg = "fis", "was seen ended 5s into its 30s: FIS experiment EXP1 is stopped: Experiment stopped by stop condition"
				}
				sc.steps = append(sc.steps, ev)
			}
			step(gamedays.EvAttackIntent, nil, "")
			if r.IntN(6) > 0 {
				ok := okOr(0.8)
				step(gamedays.EvAttackResult, ok, "Error: Specified qdisc kind is unknown.")
				if *ok && r.IntN(4) == 0 {
					step(gamedays.EvFaultEnded, nil, "")
				}
			}
			for n := r.IntN(3); n > 0; n-- {
				step(gamedays.EvRollbackIntent, nil, "")
				if r.IntN(5) > 0 {
					step(gamedays.EvRollbackResult, okOr(0.7), "host unreachable")
				}
			}
			scripts = append(scripts, sc)
		}
	}
	aborted := false
	for len(scripts) > 0 {
		i := r.IntN(len(scripts))
		sc := scripts[i]
		if len(sc.steps) == 0 {
			scripts = slices.Delete(scripts, i, i+1)
			continue
		}
		add(sc.steps[0])
		sc.steps = sc.steps[1:]
		if r.IntN(25) == 0 {
			aborted = true
			add(gamedays.Event{Type: gamedays.EvAbort, Source: "key", Msg: "pressed"})
		}
	}
	switch v := r.IntN(4); {
	case aborted || v == 0:
		add(gamedays.Event{Type: gamedays.EvVerdict, Verdict: string(gamedays.VerdictAborted), Msg: "aborted"})
		add(gamedays.Event{Type: gamedays.EvRunEnd, Verdict: string(gamedays.VerdictAborted)})
	case v == 1:
		add(gamedays.Event{Type: gamedays.EvVerdict, Verdict: string(gamedays.VerdictHeld), Msg: "held"})
		add(gamedays.Event{Type: gamedays.EvRunEnd, Verdict: string(gamedays.VerdictHeld)})
	case v == 2:
		add(gamedays.Event{Type: gamedays.EvVerdict, Verdict: string(gamedays.VerdictRefuted), Msg: "refuted"})
	}
	if r.IntN(5) == 0 {
		ok := r.IntN(2) == 0
		add(gamedays.Event{Type: gamedays.EvRecover, OK: &ok, Msg: "recovered"})
	}
	return evs
}

// throughDisk writes evs as a journal, cuts its last line short when cut
// is set (a crash while writing), and reads it back as every view does.
func throughDisk(t *testing.T, evs []gamedays.Event, cut bool) ([]gamedays.Event, bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), gamedays.JournalName)
	j, err := gamedays.CreateJournal(path, gamedays.NewManualClock(evs[0].Time))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		ev.Seq = 0
		if _, err := j.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if cut {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.TrimRight(b, "\n")
		if err := os.WriteFile(path, b[:len(b)-len(b[bytes.LastIndexByte(b, '\n')+1:])/2-1], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, warn, err := gamedays.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	return got, warn != nil
}

// TestViewsAgree: the console, the report, recover's plan and the
// autopilot's log agree on every injection's state and on the verdict, for
// many random journals.
func TestViewsAgree(t *testing.T) {
	rb, err := runbook.Parse("agree.yaml", []byte(agreeRunbook), targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		evs, truncated := throughDisk(t, randomJournal(r), seed%5 == 0)
		name := fmt.Sprintf("seed %d", seed)

		console := newRunState(rb)
		log := &gamedays.Log{Stdout: io.Discard, Stderr: io.Discard}
		for _, ev := range evs {
			console.apply(ev)
			log.Event(ev)
		}
		rep, err := report.Build(evs, truncated)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plan := gamedays.Unreverted(evs) // what gameday recover would roll back

		onPlan := map[gamedays.Key]bool{}
		for _, inj := range plan {
			onPlan[gamedays.KeyOf(inj)] = true
		}
		inReport := map[gamedays.Key]report.Attack{}
		for _, a := range rep.Attacks {
			inReport[gamedays.Key{Attack: a.Name, Target: a.Target, Member: a.Member}] = a
		}
		leftInReport := map[gamedays.Key]bool{}
		for _, u := range rep.Unreverted {
			leftInReport[gamedays.Key{Attack: u.Attack, Target: "web", Member: u.Member}] = true
		}
		active := map[string]bool{}
		for _, s := range console.injected() {
			active[s] = true
		}
		logged := log.State()
		for _, row := range console.Injections {
			if !row.Intended {
				continue
			}
			k := row.Key
			may := row.Status.MayBeApplied()
			if onPlan[k] != may || leftInReport[k] != may || active[k.String()] != may {
				t.Errorf("%s: %s is %s in the console; recover plans it %v, the report leaves it %v, the header shows it %v",
					name, k, row.Status, onPlan[k], leftInReport[k], active[k.String()])
			}
			a, ok := inReport[k]
			if !ok {
				t.Errorf("%s: %s is in the console but not in the report", name, k)
				continue
			}
			if want := reportWords(row); a.Result+"/"+a.Rollback != want {
				t.Errorf("%s: %s: report says %s/%s, console state %s gives %s", name, k, a.Result, a.Rollback, row.Status, want)
			}
			if lr, ok := logged.Injection(k); !ok || lr.Status != row.Status {
				t.Errorf("%s: %s: the autopilot's log folded %v, the console %s", name, k, lr, row.Status)
			}
		}
		if len(inReport) != countIntended(console) || len(plan) != len(rep.Unreverted) {
			t.Errorf("%s: report lists %d attacks and %d unreverted, console %d intended, recover %d", name, len(inReport), len(rep.Unreverted), countIntended(console), len(plan))
		}
		if string(console.Verdict) != rep.Verdict.Value || logged.Verdict != console.Verdict {
			t.Errorf("%s: verdict: console %q, report %q, autopilot %q", name, console.Verdict, rep.Verdict.Value, logged.Verdict)
		}
		if console.Finished() != (rep.Status.Complete || rep.Status.Recovered) {
			t.Errorf("%s: finished: console %v, report complete %v recovered %v", name, console.Finished(), rep.Status.Complete, rep.Status.Recovered)
		}
	}
}

// reportWords is what the report must say of an injection in this state.
func reportWords(row *attackRow) string {
	res := map[string]string{gamedays.StepOK: "applied", gamedays.StepFailed: "failed", gamedays.StepPending: "unknown", "": "unknown"}[row.Inject]
	rb := row.Rollback
	if rb == "" {
		rb = "none"
	}
	return res + "/" + rb
}

func countIntended(s *runState) int {
	n := 0
	for _, r := range s.Injections {
		if r.Intended {
			n++
		}
	}
	return n
}

package gamedays

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/targetstest"
)

const threeHosts = `  web: {all: true}
attacks:`

// allHosts turns the test runbook's one-host blast radius into all three.
func allHosts(src string) string {
	return strings.Replace(src, "  web: {count: 1, seed: 3}\nattacks:", threeHosts, 1)
}

func TestFailedInjectAbortsWithTheHostsReason(t *testing.T) {
	h := newHarness(t, allHosts(testRunbook), 0.1, 0.05)
	h.exec.InjectErr = map[string]string{"web-2": "Error: Specified qdisc kind is unknown."}
	out := h.run(nil)
	if out.Verdict != VerdictAborted {
		t.Fatalf("verdict %s (%s), want aborted: a fault that did not land gives no verdict", out.Verdict, out.Reason)
	}
	if !strings.Contains(out.Reason, "inject failed") || !strings.Contains(out.Reason, "web-2") || !strings.Contains(out.Reason, "qdisc kind is unknown") {
		t.Errorf("reason %q does not name the failed inject, the host and its own error", out.Reason)
	}
	if h.exec.Active() != 0 || len(out.Unreverted) != 0 {
		t.Errorf("after the abort: %d still applied, unreverted %v", h.exec.Active(), out.Unreverted)
	}
}

func TestContinueOnInjectFailureSaysHowManyLanded(t *testing.T) {
	src := allHosts(testRunbook) + "abort: {on_inject_failure: continue}\n"
	h := newHarness(t, src, 0.1, 0.05)
	h.exec.InjectErr = map[string]string{"web-3": "stress-ng: not found"}
	out := h.run(nil)
	if out.Verdict != VerdictHeld {
		t.Fatalf("verdict %s (%s), want held", out.Verdict, out.Reason)
	}
	if !strings.Contains(out.Reason, "only 2 of 3 injection(s) applied") || !strings.Contains(out.Reason, "web-3: stress-ng: not found") {
		t.Errorf("reason %q does not say how many landed and why one did not", out.Reason)
	}
}

func TestNoFaultLandedIsNeverHeld(t *testing.T) {
	src := allHosts(testRunbook) + "abort: {on_inject_failure: continue}\n"
	h := newHarness(t, src, 0.1, 0.05)
	h.exec.InjectErr = map[string]string{"web-1": "x", "web-2": "y", "web-3": "z"}
	out := h.run(nil)
	if out.Verdict != VerdictAborted || !strings.Contains(out.Reason, "no fault landed: 0 of 3") {
		t.Fatalf("verdict %s (%s), want aborted: no fault landed", out.Verdict, out.Reason)
	}
}

func TestFailedRollbackAtTheEndIsIncomplete(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	h.exec.RollbackErr = errors.New("ResourceConflict: concurrency changed by someone else")
	out := h.run(nil)
	if len(out.Unreverted) != 1 {
		t.Fatalf("unreverted %v, want the one injection whose rollback failed", out.Unreverted)
	}
	if !strings.Contains(out.Reason, "ROLLBACK INCOMPLETE") || !strings.Contains(out.Reason, "gameday recover") {
		t.Errorf("reason %q does not say what may still be applied and what to run", out.Reason)
	}
	if !h.has(EvVerdict, "ROLLBACK INCOMPLETE") {
		t.Error("the journalled verdict does not say the rollback is incomplete")
	}
}

func TestProbeFailureBlocksBeforeTheBaseline(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	h.exec.ProbeErrs = []error{errors.New("web-2: host key: the key changed since known_hosts was written")}
	out := h.run(nil)
	if out.Verdict != VerdictBlocked || !strings.Contains(out.Reason, "web-2: host key") {
		t.Fatalf("verdict %s (%s), want blocked naming the host and the step", out.Verdict, out.Reason)
	}
	for _, typ := range h.types() {
		if typ == EvBaseline || typ == EvSample || typ == EvAttackIntent {
			t.Errorf("%s journalled after a failed probe", typ)
		}
	}
	if h.exec.Probed() != 3 {
		t.Errorf("probed %d members, want all 3 the target resolves to", h.exec.Probed())
	}
}

// deadLink is a host whose link died after the inject: every rollback
// waits until its deadline, as a dial to a blackholed address would.
type deadLink struct{ *targetstest.Executor }

func (d deadLink) Rollback(ctx context.Context, inj targets.Injection) (targets.Result, error) {
	<-ctx.Done()
	return targets.Result{}, fmt.Errorf("host %s: cannot confirm yet, the host cannot be reached: %w", inj.Member.ID, ctx.Err())
}

// The abort keeps its deadline when the link is dead: the rollback is cut
// at abort.timeout, the run says what may still be applied (exit 5), and
// recover finishes it once the host answers.
func TestAbortDeadlineKeptOnADeadLink(t *testing.T) {
	src := testRunbook + "abort: {timeout: 3s}\n"
	h := newHarness(t, src, 0.1, 0.05)
	h.engine.opts.Executors["ssh"] = deadLink{h.exec}
	var abortAt time.Time
	out := h.run(func(time.Duration) {
		if abortAt.IsZero() && h.engine.Phase() == PhaseObserve {
			abortAt = time.Now()
			h.engine.Send(Local, Intent{Type: IntentAbort, Source: "key"})
		}
	})
	if took := time.Since(abortAt); took > 30*time.Second {
		t.Fatalf("the abort took %s of wall time", took) // bounded, not a benchmark
	}
	if out.Verdict != VerdictAborted || len(out.Unreverted) != 1 || !strings.Contains(out.Reason, "ROLLBACK INCOMPLETE") {
		t.Fatalf("verdict %s, unreverted %v, reason %q; want aborted with the one injection left", out.Verdict, out.Unreverted, out.Reason)
	}
	// The host answers again: recover rolls it back from the journal.
	if err := h.engine.opts.Journal.(*Journal).Close(); err != nil {
		t.Fatal(err)
	}
	rec, err := Recover(context.Background(), h.journal, RecoverOptions{
		Executor: func(string) (targets.Executor, error) { return h.exec, nil },
		Clock:    h.clock, TrustJournal: true, Confirm: func(RecoveryPlan) bool { return true },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Reverted) != 1 || len(rec.Failed) != 0 || h.exec.Active() != 0 {
		t.Errorf("recover reverted %d, failed %v, %d still applied", len(rec.Reverted), rec.Failed, h.exec.Active())
	}
}

// warner says what the blast radius must show before it is confirmed.
type warner struct{ *targetstest.Executor }

func (w warner) Warnings(inj targets.Injection) []string {
	return []string{"ssh " + inj.Member.ID + ": gameday loses " + inj.Member.ID + " until its dead man's switch fires"}
}

// What an executor warns of is on the preflight, in the state the
// blast-radius screen reads and in the timeline's words, before anything
// is confirmed.
func TestPreflightCarriesWarnings(t *testing.T) {
	h := newHarness(t, testRunbook, 0.1, 0.05)
	h.engine.opts.Executors["ssh"] = warner{h.exec}
	h.run(nil)
	st := Fold(h.snapshot())
	found := false
	for _, is := range st.Injections {
		if is.Preflight != nil && len(is.Preflight.Warnings) == 1 {
			found = true
		}
	}
	if !found || !h.has(EvPreflight, "") {
		t.Fatal("no preflight in the state carries the warning")
	}
	for _, ev := range h.snapshot() {
		if ev.Type == EvPreflight && !strings.Contains(st.Describe(ev), "WARNING: ssh web-") {
			t.Errorf("the preflight's words do not warn: %s", st.Describe(ev))
		}
	}
}

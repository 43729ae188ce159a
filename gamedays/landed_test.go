package gamedays

import (
	"errors"
	"strings"
	"testing"
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

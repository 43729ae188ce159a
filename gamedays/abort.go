package gamedays

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/gameday/gameday/targets"
)

func nan() float64 { return math.NaN() }

// abortReason words why a game day was aborted, for people.
func abortReason(why Intent) string {
	switch {
	case strings.HasPrefix(why.Text, why.Source+" "):
		return why.Text // "guardrail p95 > 1s ...", not "guardrail: guardrail p95 ..."
	case why.Source == "key" && why.Text == "":
		if why.Author != "" {
			return "the abort key was pressed by " + why.Author
		}
		return "the abort key was pressed"
	case strings.HasPrefix(why.Source, "SIG") && why.Text == "":
		return why.Source + " received"
	case why.Text != "":
		return why.Source + ": " + why.Text
	}
	return why.Source
}

// rollbackAll reverts every injection whose intent was journalled and whose
// rollback is not confirmed: newest first, all at once, within the runbook's
// abort timeout. Injections whose call is still in flight are rolled back as
// soon as the call returns, so a late inject cannot outlive the abort (an
// executor returns from a cancelled inject only once the host can no
// longer apply it: targets/ssh waits for a script that had its go-ahead).
//
// concluded is the verdict when the abort came after it (the room was
// writing findings when the session closed): the run found what it found,
// so the verdict stands and the abort only retries what is still applied.
func (e *Engine) rollbackAll(concluded *Outcome) Outcome {
	e.abortMu.Lock()
	why := *e.abort
	e.abortMu.Unlock()
	reason := e.stageContext(abortReason(why))
	e.mu.Lock()
	if concluded == nil {
		e.phase = PhaseAborted
	}
	var pending []*targets.Injection
	for i := len(e.applied) - 1; i >= 0; i-- {
		if !e.done[e.applied[i]] {
			pending = append(pending, e.applied[i])
		}
	}
	e.mu.Unlock()
	if concluded != nil {
		e.emit(Event{Type: EvAbort, Source: why.Source, Author: why.Author, Msg: fmt.Sprintf("%s after the verdict, which stands; rolling back %d injection(s)", reason, len(pending))})
	} else {
		e.emit(Event{Type: EvAbort, Source: why.Source, Author: why.Author, Msg: fmt.Sprintf("%s; rolling back %d injection(s)", reason, len(pending))})
		e.emit(Event{Type: EvPhase, Phase: PhaseAborted.String()})
	}

	ctx, cancel := context.WithTimeout(context.Background(), e.rb.Abort.Timeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, inj := range pending {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.mu.Lock()
			exec, inflight := e.execOf[inj], e.inflight[inj]
			e.mu.Unlock()
			if inflight != nil {
				select {
				case <-inflight:
				case <-ctx.Done():
				}
			}
			// One deadline for the whole abort: waiting on a late inject
			// does not buy its rollback more time.
			e.rollback(ctx, exec, inj, "abort")
		}()
	}
	wg.Wait()

	out := Outcome{Verdict: VerdictAborted, Reason: reason, Pending: len(pending)}
	e.mu.Lock()
	var left []targets.Injection
	for _, inj := range pending {
		if !e.done[inj] {
			left = append(left, *inj)
		}
	}
	e.mu.Unlock()
	if concluded != nil {
		return e.afterVerdict(*concluded, len(pending), left)
	}
	out.Unreverted = left
	out.RolledBack = out.Pending - len(out.Unreverted)
	out.Reason += incomplete(out.Unreverted)
	e.emit(Event{Type: EvVerdict, Verdict: string(VerdictAborted), Msg: out.Reason, Failed: out.Unreverted})
	return out
}

// afterVerdict is the outcome of an abort that came after the verdict: the
// verdict as concluded, with what the abort's retry could not revert. The
// verdict is journalled again only when that changed what is left applied.
func (e *Engine) afterVerdict(out Outcome, pending int, left []targets.Injection) Outcome {
	if pending == 0 {
		return out
	}
	out.Unreverted = left
	out.Reason = strings.SplitN(out.Reason, "; ROLLBACK INCOMPLETE", 2)[0] + incomplete(left)
	e.emit(Event{Type: EvVerdict, Verdict: string(out.Verdict), Msg: out.Reason, Failed: out.Unreverted})
	return out
}

// incomplete is what an abort's reason adds for injections its rollback
// could not revert, or nothing.
func incomplete(left []targets.Injection) string {
	if len(left) == 0 {
		return ""
	}
	where := make([]string, 0, len(left))
	for _, inj := range left {
		where = append(where, inj.Attack+" on "+inj.Member.ID)
	}
	return fmt.Sprintf("; ROLLBACK INCOMPLETE on %d: %s; run gameday recover", len(left), strings.Join(where, ", "))
}

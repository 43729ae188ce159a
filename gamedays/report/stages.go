package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// Stage is one stage of an escalating run: what it hit, how hard, what was
// measured over its hold, and how it came out.
type Stage struct {
	Stage   int                          `json:"stage"`
	Of      int                          `json:"of"`
	Words   string                       `json:"words"`
	Members []string                     `json:"members"`
	Params  map[string]map[string]string `json:"params"` // by attack
	Hold    float64                      `json:"hold_seconds"`
	From    *float64                     `json:"from,omitempty"` // seconds after the start
	To      *float64                     `json:"to,omitempty"`
	// Result is held, refuted, cut short (started, never judged) or not run.
	Result string  `json:"result"`
	Checks []Check `json:"checks"`
}

// Stage results.
const (
	StageHeld     = "held"
	StageRefuted  = "refuted"
	StageCutShort = "cut short"
	StageNotRun   = "not run"
)

// stages lays out the run's stages from the state's fold.
func (b *builder) stages() {
	for _, st := range b.st.Stages {
		s := Stage{Stage: st.N, Of: st.Plan.Of, Words: st.Plan.Words, Members: memberIDs(st.Plan.Members),
			Params: st.Plan.Params, Hold: st.Plan.Hold.Seconds(), Result: StageNotRun, Checks: checks(st.Checks, st.Finished)}
		if !st.Started.IsZero() {
			from := b.t(st.Started)
			s.From, s.Result = &from, StageCutShort
		}
		if st.Finished {
			to := b.t(st.Judged)
			s.To, s.Result = &to, StageRefuted
			if st.Held {
				s.Result = StageHeld
			}
		}
		b.r.Stages = append(b.r.Stages, s)
	}
}

// stagesSection is the stages table: hosts, magnitude, what was measured,
// and the result of each stage.
func (r *Report) stagesSection() section {
	s := section{id: "stages", title: "Stages"}
	s.blocks = append(s.blocks, para("", gamedays.StagesVerdict(r.stageOutcomes(), len(r.Stages))+"."))
	t := block{kind: bTable, head: []string{"Stage", "Blast radius and magnitude", "Members", "Hold", "Measured", "Result"}}
	for _, st := range r.Stages {
		var measured []string
		for _, c := range st.Checks {
			measured = append(measured, c.Text)
		}
		t.rows = append(t.rows, []string{
			fmt.Sprintf("%d of %d", st.Stage, st.Of), st.Words + magnitude(st.Params), strings.Join(st.Members, ", "),
			runbook.FormatDuration(time.Duration(st.Hold * float64(time.Second))), strings.Join(measured, "; "), st.Result,
		})
	}
	s.blocks = append(s.blocks, t)
	return s
}

// stageOutcomes are the judged stages, for the one wording of how far the
// escalation got.
func (r *Report) stageOutcomes() []gamedays.StageOutcome {
	var out []gamedays.StageOutcome
	for _, st := range r.Stages {
		if st.Result != StageHeld && st.Result != StageRefuted {
			continue
		}
		so := gamedays.StageOutcome{Stage: st.Stage, Of: st.Of, Words: st.Words, Held: st.Result == StageHeld}
		for _, c := range st.Checks {
			so.Checks = append(so.Checks, gamedays.CheckResult{Text: c.Text, Held: c.Held != nil && *c.Held})
		}
		out = append(out, so)
	}
	return out
}

// magnitude lists every param of every attack, for a reader who wants more
// than the stage's words.
func magnitude(byAttack map[string]map[string]string) string {
	var parts []string
	for _, a := range slices.Sorted(maps.Keys(byAttack)) {
		parts = append(parts, a+": "+params(byAttack[a]))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

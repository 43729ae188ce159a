package gamedays

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Level is how loud an event's line is.
type Level int

// Levels, from quiet to loud.
const (
	LevelInfo Level = iota
	LevelOK
	LevelWarn
	LevelBad
	LevelNote
)

// maxListed bounds how many members one line names.
const maxListed = 10

// Describe is the one line an event reads as, in the console's timeline,
// the autopilot's log and the report's timeline alike. Values are formatted
// in their panel's unit when the state knows the runbook.
func (s *State) Describe(ev Event) string {
	ok := ev.OK == nil || *ev.OK
	switch ev.Type {
	case EvPreflight, EvAttackIntent, EvAttackResult, EvFaultEnded, EvRollbackIntent, EvRollbackResult:
		return describeInjection(ev, ok)
	case EvStagePlan, EvStageStart, EvStageResult, EvStageAsk, EvStageConfirm, EvConfirmEach:
		return describeStage(ev)
	case EvNote:
		return describeNote(ev)
	case EvAlert, EvAlerts:
		return s.describeAlert(ev)
	case EvResolved, EvSelected, EvConfirmed:
		return describeTargets(ev)
	case EvBaseline, EvSteadyState, EvHypothesis, EvExpectation, EvGuardrail, EvBlind, EvMetricsError, EvSample:
		return s.describeChecks(ev)
	}
	return describeLifecycle(ev, ok)
}

func describeLifecycle(ev Event, ok bool) string {
	switch ev.Type {
	case EvRunStart:
		line := fmt.Sprintf("game day started: %s (run %s)", ev.Msg, ev.RunID)
		if ev.Drill {
			line += ", an on-call drill"
		}
		if ev.TimeScale > 0 && ev.TimeScale != 1 {
			line += fmt.Sprintf(", a rehearsal at %g× its durations", ev.TimeScale)
		}
		return line
	case EvPhase:
		return "phase: " + ev.Phase
	case EvProbe:
		if ok {
			return "reached every member: " + ev.Msg
		}
		return "CANNOT REACH MEMBERS: " + ev.Msg
	case EvAbort:
		return "ABORT: " + ev.Msg
	case EvVerdict:
		return fmt.Sprintf("verdict %s: %s", VerdictWord(Verdict(ev.Verdict)), ev.Msg)
	case EvRunEnd:
		return "game day ended"
	case EvRecover:
		return "recover: " + ev.Msg
	}
	return strings.TrimSpace(ev.Type + ": " + ev.Msg)
}

func describeTargets(ev Event) string {
	switch ev.Type {
	case EvResolved:
		return fmt.Sprintf("resolved %s: %d member(s): %s", ev.Target, len(ev.Members), memberList(ev.Members))
	case EvSelected:
		line := fmt.Sprintf("blast radius %s: %d: %s", ev.Target, len(ev.Members), memberList(ev.Members))
		if ev.Seed != nil {
			line += fmt.Sprintf(" (seed %d)", *ev.Seed)
		}
		return line
	}
	return "blast radius confirmed: " + ev.Msg
}

func (s *State) describeChecks(ev Event) string {
	switch ev.Type {
	case EvBaseline:
		return "baseline: " + s.baselineText(ev.Stats)
	case EvSteadyState:
		if ev.OK != nil && *ev.OK {
			return "steady state holds: " + CheckTexts(ev.Checks, true)
		}
		return "steady state does NOT hold: " + CheckTexts(ev.Checks, true)
	case EvHypothesis:
		return fmt.Sprintf("hypothesis: %s (expect %s)", ev.Msg, CheckTexts(ev.Checks, false))
	case EvExpectation:
		return "expectations: " + CheckTexts(ev.Checks, true)
	case EvGuardrail:
		return "GUARDRAIL BREACHED: " + strings.TrimPrefix(ev.Msg, "guardrail ")
	case EvBlind:
		return "METRICS BLIND: " + ev.Msg
	case EvMetricsError:
		return "metrics: " + ev.Msg
	}
	panel := ""
	if len(ev.Samples) > 0 {
		panel = " of " + ev.Samples[0].Panel
	}
	return fmt.Sprintf("%d sample(s)%s journalled", len(ev.Samples), panel)
}

// LevelOf is how loud an event's line is.
func LevelOf(ev Event) Level {
	failed := ev.OK != nil && !*ev.OK
	switch ev.Type {
	case EvProbe, EvSteadyState, EvPreflight, EvRollbackResult, EvRecover:
		if failed {
			return LevelBad
		}
		return LevelOK
	case EvConfirmed:
		return LevelOK
	case EvAttackIntent, EvMetricsError:
		return LevelWarn
	case EvAttackResult:
		if failed {
			return LevelBad
		}
		return LevelWarn
	case EvGuardrail, EvBlind, EvAbort:
		return LevelBad
	case EvStageResult:
		if failed {
			return LevelBad
		}
		return LevelOK
	case EvStageStart, EvStageAsk:
		return LevelWarn
	case EvStageConfirm:
		if failed {
			return LevelBad
		}
		return LevelOK
	case EvAlert, EvAlerts:
		return alertLevel(ev)
	case EvExpectation:
		for _, c := range ev.Checks {
			if !c.Held {
				return LevelBad
			}
		}
		return LevelOK
	case EvVerdict:
		if ev.Verdict == string(VerdictHeld) && len(ev.Failed) == 0 {
			return LevelOK
		}
		return LevelBad
	case EvNote:
		if ev.Kind != "" {
			return LevelNote
		}
	}
	return LevelInfo
}

func describeInjection(ev Event, ok bool) string {
	if ev.Injection == nil {
		return ev.Type + ": " + ev.Msg
	}
	inj := *ev.Injection
	name := InjectionName(inj)
	var res targets.Result
	if ev.Result != nil {
		res = *ev.Result
	}
	switch ev.Type {
	case EvPreflight:
		if ok && len(ev.Warnings) > 0 {
			return "preflight ok: " + name + "; WARNING: " + strings.Join(ev.Warnings, "; ")
		}
		if ok {
			return "preflight ok: " + name
		}
		return "PREFLIGHT FAILED: " + name + ": " + ev.Msg
	case EvAttackIntent:
		return fmt.Sprintf("inject %s for %s", name, FormatDuration(inj.Duration))
	case EvAttackResult:
		if !ok {
			return "INJECT FAILED: " + name + ": " + hostReason(res)
		}
		if res.LinkLost {
			line := "injected " + name + ", then the link to " + inj.Member.ID + " was lost"
			if !res.Expires.IsZero() {
				line += "; its dead man's switch ends the fault at " + res.Expires.UTC().Format("15:04:05")
			}
			return line
		}
		return "injected " + name
	case EvFaultEnded:
		return "FAULT ENDED EARLY: " + name + " " + ev.Msg
	case EvRollbackIntent:
		return fmt.Sprintf("roll back %s (%s)", name, ev.Msg)
	}
	switch {
	case ok && res.Nothing:
		return "nothing to roll back for " + name + ": what it did cannot be undone"
	case ok && res.Gone:
		return "rolled back " + name + "; the fault was already gone: something other than gameday ended it"
	case ok:
		return "rolled back " + name
	}
	return "ROLLBACK FAILED: " + name + ": " + hostReason(res)
}

// InjectionName is how a line names an injection: attack (kind) on member.
func InjectionName(inj targets.Injection) string {
	name := fmt.Sprintf("%s (%s) on %s", inj.Attack, inj.Kind, MemberWhere(inj.Member))
	if inj.Stage > 0 {
		name += fmt.Sprintf(" at stage %d", inj.Stage)
	}
	return name
}

// MemberWhere names a member with its address when that says more.
func MemberWhere(m targets.Member) string {
	if m.Addr != "" && m.Addr != m.ID {
		return m.ID + " (" + m.Addr + ")"
	}
	return m.ID
}

func memberList(ms []targets.Member) string {
	ids := make([]string, 0, min(len(ms), maxListed))
	for i, m := range ms {
		if i == maxListed {
			ids = append(ids, fmt.Sprintf("and %d more", len(ms)-maxListed))
			break
		}
		ids = append(ids, MemberWhere(m))
	}
	return strings.Join(ids, ", ")
}

func describeNote(ev Event) string {
	switch {
	case ev.Kind == NoteJoined && ev.Author != "":
		return ev.Author + " joined (" + ev.Msg + ")"
	case ev.Kind == NoteLeft && ev.Author != "":
		return ev.Author + " left"
	case ev.Kind == "":
		return ev.Msg // the engine's own remarks
	}
	who := ""
	if ev.Author != "" {
		who = " (" + ev.Author + ")"
	}
	return ev.Kind + who + ": " + ev.Msg
}

func (s *State) baselineText(stats map[string]Stats) string {
	var names []string
	if s.Runbook != nil {
		for _, p := range s.Runbook.Metrics.Panels {
			if _, ok := stats[p.Name]; ok {
				names = append(names, p.Name)
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(stats)) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	parts := make([]string, 0, len(names))
	for _, n := range names {
		st := stats[n]
		parts = append(parts, fmt.Sprintf("%s median %s, p95 %s, max %s (%d points)", n,
			s.Format(n, float64(st.Median)), s.Format(n, float64(st.P95)), s.Format(n, float64(st.Max)), st.Count))
	}
	if len(parts) == 0 {
		return "no panels"
	}
	return strings.Join(parts, "; ")
}

// Format writes a panel's value in the panel's unit.
func (s *State) Format(panel string, v float64) string {
	unit := runbook.UnitNone
	if s.Runbook != nil {
		if p, ok := s.Runbook.Panel(panel); ok {
			unit = p.Unit
		}
	}
	return runbook.FormatValue(v, unit)
}

// CheckTexts lists thresholds with their evidence; planned ones (the
// hypothesis, before anything is measured) have no mark.
func CheckTexts(cs []CheckResult, judged bool) string {
	if len(cs) == 0 {
		return "none"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Text
		switch {
		case !judged:
		case c.NoData:
			parts[i] += " [NO DATA]"
		case c.Held:
			parts[i] += " [held]"
		default:
			parts[i] += " [BROKEN]"
		}
	}
	return strings.Join(parts, "; ")
}

// VerdictWord names a verdict; a dry run has none.
func VerdictWord(v Verdict) string {
	if v == VerdictNone {
		return "none"
	}
	return string(v)
}

// FormatDuration writes a duration the way a person reads it: 350ms, 10s,
// 1m05s, 2h03m.
func FormatDuration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d == 0:
		s = "0s"
	case d < time.Second:
		s = fmt.Sprintf("%dms", d.Round(time.Millisecond)/time.Millisecond)
	case d < 10*time.Second && d%time.Second != 0:
		s = fmt.Sprintf("%.1fs", d.Seconds())
		s = strings.Replace(s, ".0s", "s", 1)
	case d < time.Minute:
		s = fmt.Sprintf("%ds", d.Round(time.Second)/time.Second)
	case d < time.Hour:
		d = d.Round(time.Second)
		s = fmt.Sprintf("%dm%02ds", d/time.Minute, d%time.Minute/time.Second)
		s = strings.TrimSuffix(s, "00s")
	default:
		d = d.Round(time.Minute)
		s = fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
		s = strings.TrimSuffix(s, "00m")
	}
	if neg {
		return "-" + s
	}
	return s
}

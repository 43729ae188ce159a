package ui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/ui/keys"
)

// A staged run is shown as a grid of hosts × stages, each cell the
// magnitude the host is hit with at that stage, so the whole escalation can
// be read, and confirmed, before anything runs. Everything here is drawn
// from the stage plans the engine journalled (stage.plan), never worked out
// again from the runbook: the console shows what will run.

// staged says whether the run escalates in stages.
func (s *runState) staged() bool { return len(s.Stages) > 0 }

// stageTag is the stage under way for the header: " · STAGE 2/3". A
// responder in a drill is not told. Only the run phase has a stage under
// way: the observe after it watches the recovery, everything rolled back.
func (s *runState) stageTag() string {
	if !s.staged() || s.Stage == 0 || s.redacted || s.Phase != gamedays.PhaseRun {
		return ""
	}
	return fmt.Sprintf(" · STAGE %d/%d", s.Stage, len(s.Stages))
}

// stageHits is, for each stage, which attacks hit which member. A stage's
// selection contains the one before and its plan lists only the
// injections it starts, so the hits accumulate.
func (s *runState) stageHits() []map[string][]string {
	out := make([]map[string][]string, len(s.Stages))
	hit := map[string][]string{} // member ID → attacks on it so far
	for i, st := range s.Stages {
		for _, inj := range st.Plan.Starts {
			if !slices.Contains(hit[inj.Member.ID], inj.Attack) {
				hit[inj.Member.ID] = append(hit[inj.Member.ID], inj.Attack)
			}
		}
		out[i] = maps.Clone(hit)
	}
	return out
}

// stageMembers is every member a stage hits, in the order the stages add
// them, then those of rest no stage hits.
func (s *runState) stageMembers(rest []memberRow) (hit, spared []targets.Member) {
	seen := map[string]bool{}
	for _, st := range s.Stages {
		for _, m := range st.Plan.Members {
			if !seen[m.ID] {
				seen[m.ID] = true
				hit = append(hit, m)
			}
		}
	}
	for _, mr := range rest {
		if !seen[mr.member.ID] {
			seen[mr.member.ID] = true
			spared = append(spared, mr.member)
		}
	}
	return hit, spared
}

// changedParams is, per attack, the params its stages change: the
// magnitude a cell shows.
func (s *runState) changedParams() map[string][]string {
	out := map[string][]string{}
	for _, st := range s.Stages {
		for a, p := range st.Plan.Params {
			for k, v := range p {
				if slices.Contains(out[a], k) {
					continue
				}
				for _, o := range s.Stages {
					if o.Plan.Params[a][k] != v {
						out[a] = append(out[a], k)
						break
					}
				}
			}
		}
	}
	for a := range out {
		slices.Sort(out[a])
	}
	return out
}

// magnitude is what attacks run with at stage i (0-based), in a cell:
// "200ms" for one changed param, "delay=200ms loss=5%" for several, the
// attack's name when several attacks hit the member, "hit" when its stages
// change only the blast radius.
func (s *runState) magnitude(i int, attacks []string, changed map[string][]string) string {
	var parts []string
	for _, a := range attacks {
		keys := changed[a]
		var words []string
		for _, k := range keys {
			v := s.Stages[i].Plan.Params[a][k]
			if len(keys) > 1 {
				v = k + "=" + v
			}
			words = append(words, v)
		}
		w := strings.Join(words, " ")
		switch {
		case len(attacks) > 1 && w != "":
			w = a + " " + w
		case len(attacks) > 1:
			w = a
		case w == "":
			w = "hit"
		}
		parts = append(parts, w)
	}
	return strings.Join(parts, "; ")
}

// stageHead is a stage's column head: its number and how it went.
func (m *page) stageHead(st *gamedays.StageState) string {
	h := fmt.Sprintf("stage %d", st.N)
	switch {
	case st.Finished && st.Held:
		return h + " ✓ held"
	case st.Finished:
		return h + " ✗ broke"
	case st.N == m.run.Stage:
		return h + " ● now"
	}
	return h
}

// stageGrid is the hosts × stages table. With preflight set (the
// blast-radius screen) it lists every resolved member, the spared ones
// last, with each member's preflight; limit caps the member rows.
func (m *page) stageGrid(limit int, preflight func(member string) cell) []string {
	st, s := m.styles, m.run
	hit, spared := s.stageMembers(s.members())
	if preflight == nil {
		spared = nil
	}
	hits, changed := s.stageHits(), s.changedParams()
	head := []string{"member"}
	widths := []int{22}
	for _, x := range s.Stages {
		head = append(head, m.stageHead(x))
		widths = append(widths, 16)
	}
	if preflight != nil {
		head = append(head, "preflight")
	}
	var rows [][]cell
	for i, mem := range append(hit, spared...) {
		if i == limit {
			rows = append(rows, []cell{cs(fmt.Sprintf("… %d more member(s): enlarge the terminal to see them all", len(hit)+len(spared)-i), st.Warn)})
			break
		}
		row := []cell{c(mem.ID)}
		for j := range s.Stages {
			if as := hits[j][mem.ID]; len(as) > 0 {
				row = append(row, cs(s.magnitude(j, as, changed), st.Warn))
			} else {
				row = append(row, cs("·", st.Muted))
			}
		}
		if preflight != nil {
			if i < len(hit) {
				row = append(row, preflight(mem.ID))
			} else {
				row = append(row, cs("not selected", st.Muted))
			}
		}
		rows = append(rows, row)
	}
	hosts, hold := []cell{cs("hosts", st.Muted)}, []cell{cs("hold", st.Muted)}
	for _, x := range s.Stages {
		hosts = append(hosts, cs(fmt.Sprintf("%d of %d", len(x.Plan.Members), len(hit)+len(spared)), st.Muted))
		hold = append(hold, cs(runbook.FormatDuration(x.Plan.Hold), st.Muted))
	}
	if preflight == nil {
		hosts[0] = cs("hosts hit", st.Muted)
	}
	rows = append(rows, hosts, hold)
	return m.table(head, widths, rows)
}

// stageLine is where the escalation stands during the run: the stage under
// way, what it hits and when it is judged.
func (m *page) stageLine() []string {
	st, s := m.styles, m.run
	if !s.staged() {
		return nil
	}
	n := max(s.Stage, 1)
	cur := s.StageN(n)
	if cur == nil {
		return nil
	}
	if ask := s.StageN(s.AskStage); ask != nil {
		line := fmt.Sprintf("Stage %d of %d held. Press Y to start stage %d (%s); without it the run aborts in %s", n, len(s.Stages), ask.N, ask.Plan.Words, clockDur(s.AskUntil.Sub(m.now)))
		return m.wrapStyled(line, st.Warn)
	}
	line := fmt.Sprintf("Stage %d of %d: %s", n, len(s.Stages), cur.Plan.Words)
	style := st.Accent
	switch {
	case cur.Finished && cur.Held:
		line, style = line+"; held", st.OK
	case cur.Finished:
		line, style = line+"; BROKE the hypothesis", st.Bad
	case s.Stage == 0:
		line += "; starts with the run"
	default:
		line += "; judged in " + clockDur(cur.Started.Add(cur.Plan.Hold).Sub(m.now))
	}
	return m.wrapStyled(line, style)
}

// stagedWhen is when an injection of a later stage is due: its stage, not
// a time, since a stage begins only once the one before has held.
func (m *page) stagedWhen(r *attackRow) (string, bool) {
	if r.Key.Stage == 0 || r.Status != gamedays.StatusPlanned {
		return "", false
	}
	return fmt.Sprintf("at stage %d", r.Key.Stage), true
}

// preflightOf is an injection's preflight. The engine preflights each
// attack on each member once, at the stage that first hits it; the
// injections of later stages that change its magnitude are covered by it.
func (s *runState) preflightOf(r *attackRow) *gamedays.Preflight {
	if r.Preflight != nil || r.Key.Stage == 0 {
		return r.Preflight
	}
	for _, o := range s.Injections {
		if o.Preflight != nil && o.Key.Attack == r.Key.Attack && o.Key.Target == r.Key.Target && o.Key.Member == r.Key.Member {
			return o.Preflight
		}
	}
	return nil
}

// confirmEachLine says, on the blast radius, that each stage will wait
// for Y, when it will.
func (m *page) confirmEachLine() []string {
	if !m.run.ConfirmEach {
		return nil
	}
	return m.wrapStyled("Each stage after the first waits for Y before it starts (s: stop asking).", m.styles.Warn)
}

// stageKeys are a staged run's keys on the blast radius and run screens:
// Y while a stage waits, and s to ask before each stage (on until the plan
// is confirmed, off at any time).
func (m *page) stageKeys() []key.Binding {
	s := m.run
	if !s.staged() || s.redacted || s.Ended {
		return nil
	}
	var out []key.Binding
	if s.Phase == gamedays.PhaseRun && s.AskStage > 0 {
		out = append(out, withHelp(m.keys.Confirm, fmt.Sprintf("start stage %d", s.AskStage)))
	}
	switch {
	case s.ConfirmEach && (s.Phase == gamedays.PhaseBlastRadius || s.Phase == gamedays.PhaseRun):
		out = append(out, withHelp(m.keys.ConfirmEach, "stop asking before each stage"))
	case s.Phase == gamedays.PhaseBlastRadius && !s.Confirmed:
		out = append(out, m.keys.ConfirmEach)
	}
	return out
}

// stageKey sends what a staged run's keys ask for.
func (m *page) stageKey(msg tea.Msg) {
	if m.run.Phase == gamedays.PhaseRun && m.run.AskStage > 0 {
		n := m.run.AskStage
		if m.sendOn(msg, keys.Confirm) {
			m.out.say(fmt.Sprintf("stage %d confirmed; it starts now", n))
		}
	}
	if r, ok := msg.(keys.Result); ok && m.sendOn(msg, keys.ConfirmEach) {
		if r.Kind == "on" {
			m.out.say("each stage after the first will wait for Y")
		} else {
			m.out.say("the stages will follow each other without asking")
		}
	}
}

// escalations are when each stage after the first began: on the charts
// they are attack starts too, the new members and magnitudes going in.
func (s *runState) escalations() []time.Time {
	var out []time.Time
	for _, st := range s.Stages {
		if st.N > 1 && !st.Started.IsZero() && !s.redacted {
			out = append(out, st.Started)
		}
	}
	return out
}

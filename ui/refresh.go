package ui

import (
	"math"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/ui/chart"
)

// refreshEvery is how often the clock and the charts move.
const refreshEvery = time.Second

// minWindow is the time span a chart shows before T+0 is known.
const minWindow = 2 * time.Minute

// plan is what the x-axis needs to span the game day at its planned pace:
// when the baseline and the run began (zero until they have) and how long
// each lasts, as the runbook says, scaled durations included.
type plan struct {
	baselineAt, runAt time.Time
	baseline, observe time.Duration
}

// end is when the game day should end, seen at now: the run's end once it
// has begun; before, the baseline's end or now, whichever is later (the
// hypothesis and blast radius wait for people), plus the run.
func (p plan) end(start, now time.Time) time.Time {
	if !p.runAt.IsZero() {
		return p.runAt.Add(p.observe)
	}
	from := p.baselineAt
	if from.IsZero() {
		from = start
	}
	return later(from.Add(p.baseline), now).Add(p.observe)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// tickMsg asks for a refresh; gen lets a tick that a resize superseded be
// dropped.
type tickMsg struct{ gen int }

func tick(gen int, stop <-chan struct{}) tea.Cmd {
	// Not tea.Tick: a participant who leaves must take their timers along,
	// rather than leave one waiting out its second.
	return func() tea.Msg {
		t := time.NewTimer(refreshEvery)
		defer t.Stop()
		select {
		case <-t.C:
			return tickMsg{gen}
		case <-stop:
			return nil
		}
	}
}

// refreshReq is a snapshot of what a refresh needs, taken in Update so the
// command never touches the model.
type refreshReq struct {
	gen   int
	obs   gamedays.Observer
	rb    *runbook.Runbook
	clock func() time.Time
	cols  int       // pixel columns per chart
	start time.Time // T+0
	plan  plan
}

type seriesData struct {
	name   string
	cols   []chart.Column
	last   float64 // NaN when the window has no value
	lastAt time.Time
}

type panelData struct {
	panel  runbook.Panel
	series []seriesData
	health metrics.Health
}

// refreshMsg is what one read of the metrics produced: the series to draw.
// Whether checks hold is the engine's to say (gamedays.Live), never the
// console's.
type refreshMsg struct {
	gen      int
	now      time.Time
	from, to time.Time
	panels   []panelData
}

// refresh reads the observer (the poller's in-memory rings) and downsamples
// every series to the charts' pixel columns. It runs as a command, off the
// update loop.
func refresh(r refreshReq) tea.Cmd {
	return func() tea.Msg { return r.read() }
}

func (r refreshReq) read() refreshMsg {
	now := r.clock()
	msg := refreshMsg{gen: r.gen, now: now}
	// The window opens at T+0 and spans the game day's planned length,
	// so the line grows from the left at the pace the runbook (and its
	// time scale) sets, and reaches the right edge as the run ends.
	msg.from = r.start
	msg.to = now
	if msg.from.IsZero() {
		msg.from = now.Add(-minWindow)
	} else {
		end := r.plan.end(r.start, now)
		msg.to = later(end.Add(end.Sub(msg.from)/20), now) // a margin, so the run's end is not the chart's edge
	}
	if r.obs == nil || r.rb == nil {
		return msg
	}
	health := r.obs.Health()
	step := r.obs.Step()
	for _, p := range r.rb.Metrics.Panels {
		pd := panelData{panel: p}
		for _, h := range health {
			if h.Panel == p.Name {
				pd.health = h
			}
		}
		for _, s := range r.obs.Series(p.Name) {
			pts := r.obs.Points(p.Name, s, msg.from, msg.to)
			sd := seriesData{name: s, last: math.NaN()}
			sd.cols = chart.Downsample(nil, r.cols, msg.from, msg.to, step, pts)
			for j := len(pts) - 1; j >= 0; j-- {
				if !pts[j].Missing && !math.IsNaN(pts[j].V) {
					sd.last, sd.lastAt = pts[j].V, pts[j].T
					break
				}
			}
			pd.series = append(pd.series, sd)
		}
		msg.panels = append(msg.panels, pd)
	}
	return msg
}

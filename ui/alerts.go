package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// alertStrip is the runbook's alerts as the engine has judged them so far
// (gamedays.State.AlertsNow): each expected or forbidden alert with its
// state and its times since the inject, then any other alert that fired
// meanwhile. Nothing when the runbook watches no alerts and none fired.
func (p *page) alertStrip() []string {
	rs, others := p.run.AlertsNow(), p.run.OtherAlerts()
	if len(rs) == 0 && len(others) == 0 {
		return nil
	}
	st := p.styles
	rows := [][]cell{}
	for _, r := range rs {
		name := r.Alert
		if r.Forbid {
			name = "no " + name
		}
		status := r.Status(p.now)
		rows = append(rows, []cell{c(name), cs(status, p.alertStyle(status)), c(alertTimes(r, p.now))})
	}
	out := []string{st.Bold.Render("Alerts")}
	if len(rows) > 0 {
		out = append(out, p.table([]string{"alert", "state", "since the inject"}, []int{32, 12}, rows)...)
	}
	if len(others) > 0 {
		var parts []string
		for _, m := range others {
			w := runbook.ExpectedAlert{Name: m.Name, Labels: m.Labels}.Describe()
			if start := p.run.FirstInjectAt(); !start.IsZero() {
				w += " " + clockDur(m.At.Sub(start))
			}
			parts = append(parts, w)
		}
		out = append(out, p.wrapStyled("also fired: "+strings.Join(parts, ", "), st.Warn)...)
	}
	return out
}

// alertStyle colours a state: kept limits green, broken ones loud.
func (p *page) alertStyle(status string) lipgloss.Style {
	st := p.styles
	switch status {
	case "MISSED", "late", "FIRED":
		return st.Bad
	case "pending", "waiting":
		return st.Warn
	case "not injected", "quiet":
		return st.Muted
	}
	return st.OK
}

// alertTimes are an alert's transitions as m:ss from the inject its limit
// counts from (resolved: from the last rollback), then the limit.
func alertTimes(r gamedays.AlertResult, now time.Time) string {
	if r.From.IsZero() {
		return ""
	}
	at := func(t time.Time) string { return clockDur(t.Sub(r.From)) }
	if r.Forbid {
		if r.Firing.IsZero() {
			return ""
		}
		return "fired " + at(r.Firing)
	}
	var parts []string
	if !r.Pending.IsZero() {
		parts = append(parts, "pending "+at(r.Pending))
	}
	if !r.Firing.IsZero() {
		parts = append(parts, "firing "+at(r.Firing))
	}
	if !r.Notified.IsZero() {
		parts = append(parts, "paged "+at(r.Notified))
	}
	if !r.Resolved.IsZero() && !r.RolledBack.IsZero() {
		parts = append(parts, "resolved "+clockDur(r.Resolved.Sub(r.RolledBack))+" after the rollback")
	}
	limit := "fires within " + runbook.FormatDuration(r.FiresWithin)
	if r.Firing.IsZero() {
		limit = fmt.Sprintf("%s of %s", clockDur(now.Sub(r.From)), runbook.FormatDuration(r.FiresWithin))
	}
	return strings.TrimSpace(strings.Join(parts, " · ") + " (" + limit + ")")
}

package report

import (
	"strings"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// alertsSection tabulates each expected and forbidden alert: its times
// from the inject against the runbook's limits, and the engine's verdict.
func (r *Report) alertsSection() section {
	s := section{id: "alerts", title: "Alerts"}
	t := block{kind: bTable, head: []string{"Alert", "Pending", "Firing", "Notified", "Resolved", "Result"}}
	for _, a := range r.Alerts {
		name := a.Alert
		if a.Forbid {
			name += " (forbidden)"
		}
		result := "held"
		if !a.Held {
			result = "REFUTED"
		}
		t.rows = append(t.rows, []string{name,
			since(a.From, a.Pending, 0),
			since(a.From, a.Firing, a.FiresWithin),
			since(a.From, a.Notified, a.NotifiedWithin),
			since(a.RolledBack, a.Resolved, a.ResolvesWithin),
			result + ": " + a.Text})
	}
	s.blocks = append(s.blocks, para("", "Times count from the inject (resolved: from the last rollback), against the runbook's limits."), t)
	if len(r.OtherAlerts) > 0 {
		var fired []string
		for _, m := range r.OtherAlerts {
			fired = append(fired, runbook.ExpectedAlert{Name: m.Name, Labels: m.Labels}.Describe()+" at T+"+clock(m.At.Sub(r.Start).Seconds()))
		}
		s.blocks = append(s.blocks, para("Other alerts that fired: ", strings.Join(fired, ", ")))
	}
	return s
}

// since is "2.9s (limit 2m)", "never (limit 2m)" or "-".
func since(from, at time.Time, limit time.Duration) string {
	v := "-"
	switch {
	case !at.IsZero() && !from.IsZero():
		v = gamedays.FormatDuration(at.Sub(from).Round(100 * time.Millisecond))
	case limit > 0:
		v = "never"
	}
	if limit > 0 {
		v += " (limit " + gamedays.FormatDuration(limit) + ")"
	}
	return v
}

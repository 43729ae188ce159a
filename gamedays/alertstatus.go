package gamedays

import (
	"time"

	"github.com/gameday/gameday/metrics/alerts"
	"github.com/gameday/gameday/runbook"
)

// Status words where an alert stands at now, for the console's alerts
// strip: an expected alert is waiting, pending, firing, paged, resolved,
// late (fired past its limit) or MISSED (its limit passed); a forbidden
// one is quiet or FIRED.
func (r AlertResult) Status(now time.Time) string {
	if r.Forbid {
		if !r.Firing.IsZero() {
			return "FIRED"
		}
		return "quiet"
	}
	switch {
	case r.From.IsZero():
		return "not injected"
	case r.Firing.IsZero() && now.Sub(r.From) > r.FiresWithin:
		return "MISSED"
	case r.Firing.IsZero() && !r.Pending.IsZero():
		return alerts.Pending
	case r.Firing.IsZero():
		return "waiting"
	case r.Firing.Sub(r.From) > r.FiresWithin:
		return "late"
	case !r.Resolved.IsZero():
		return alerts.Resolved
	case !r.Notified.IsZero():
		return "paged"
	}
	return alerts.Firing
}

// OtherAlerts are the alerts that fired from the first inject on and that
// the runbook neither expects nor forbids, each instance once, at its
// first firing: what else the fault set off.
func (s *State) OtherAlerts() []AlertMark {
	start := s.FirstInjectAt()
	if start.IsZero() {
		return nil
	}
	var a runbook.Alerts
	if s.Runbook != nil {
		a = s.Runbook.Alerts
	}
	seen := map[string]bool{}
	var out []AlertMark
	for _, m := range s.AlertMarks {
		if m.State != alerts.Firing || m.At.Before(start.Add(-alertSlop)) {
			continue
		}
		l := withName(m)
		known := false
		for _, x := range a.Expect {
			known = known || x.Matches(l)
		}
		for _, x := range a.Forbid {
			known = known || x.Matches(l)
		}
		if k := alerts.Key(l); !known && !seen[k] {
			seen[k] = true
			out = append(out, m)
		}
	}
	return out
}

// AlertsNow is the runbook's alerts as the engine last judged them: the
// judgement at conclude once there is one, else the live one.
func (s *State) AlertsNow() []AlertResult {
	if len(s.AlertResults) > 0 {
		return s.AlertResults
	}
	if s.Live != nil {
		return s.Live.Alerts
	}
	return nil
}

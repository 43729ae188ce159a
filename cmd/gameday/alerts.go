package main

import (
	"fmt"

	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/alerts"
)

// wireAlerts builds the watcher of the runbook's alerts section on the
// metrics client, and binds --alert-webhook now, so a port in use is an
// error before anything is measured or injected.
func (s *session) wireAlerts(path string, client *metrics.Client) error {
	a := s.rb.Alerts
	if len(a.Expect) == 0 && len(a.Forbid) == 0 && s.f.AlertWebhook == "" {
		return nil
	}
	w := &alerts.Watcher{Prom: client.API, PromURL: client.URL}
	if a.Alertmanager != "" {
		w.Alertmanager = &alerts.Alertmanager{URL: a.Alertmanager}
	}
	if s.f.AlertWebhook != "" {
		hook, err := alerts.Listen(s.f.AlertWebhook, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		w.Webhook = hook
		s.closeAlerts = hook.Close
	}
	s.alerts = w
	return nil
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/gamedays/exporter"
)

func addMetricsListenFlag(cmd *cobra.Command, f *runFlags) {
	cmd.Flags().StringVar(&f.MetricsListen, "metrics-listen", "", "serve gameday's own metrics (active injections, phase, guardrails, verdict) on ADDR/metrics for the team's Prometheus (docs/alerting.md)")
}

// addListenFlags registers what a game day can listen on while it runs:
// Alertmanager's webhook, and gameday's own metrics. run, serve and drill
// take both.
func addListenFlags(cmd *cobra.Command, f *runFlags) {
	cmd.Flags().StringVar(&f.AlertWebhook, "alert-webhook", "", "listen on ADDR for Alertmanager's webhook while the run lasts, to time each page (docs/alerting.md)")
	addMetricsListenFlag(cmd, f)
}

// closeListeners closes the webhook receiver and the metrics endpoint that
// prepare opened, if it did.
func (s *session) closeListeners() {
	if s.closeAlerts != nil {
		s.closeAlerts()
	}
	if s.exported != nil {
		s.exported.Close()
	}
}

// listenMetrics binds --metrics-listen now, so an address in use is an
// error before anything is measured or injected.
func (s *session) listenMetrics(path string) error {
	if s.f.MetricsListen == "" {
		return nil
	}
	x := exporter.New()
	srv, err := exporter.Listen(s.f.MetricsListen, x)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	s.exporter, s.exported = x, srv
	return nil
}

// tee has the exporter see every event f sees.
func (s *session) tee(f func(gamedays.Event)) func(gamedays.Event) {
	if s.exporter == nil {
		return f
	}
	return func(ev gamedays.Event) {
		s.exporter.OnEvent(ev)
		f(ev)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gameday/gameday/metrics"
	"github.com/gameday/gameday/metrics/alerts"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var checkMetrics bool
	var promURL, webhook string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check runbooks without running anything",
		Long: `Check runbooks without running anything: every problem is reported with
file:line:col and what was expected, all in one pass.

With --check-metrics, every panel query also runs once against the
Prometheus server (--prometheus, then GAMEDAY_PROMETHEUS_URL, then the
runbook's metrics.url), and panels that fail or return nothing are reported.
It also checks the runbook's alerts section as a run would before the
baseline: every expected alert must be defined in a rule group (the error
names the groups looked in), alerts.alertmanager must answer, and the
--alert-webhook address must be free to listen on.

Exit codes: 0 all valid, 4 a runbook is invalid or unreadable, or a panel
check failed.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			cat := targets.Default()
			bad := 0
			for _, f := range files {
				rb, err := runbook.Load(f, cat)
				if err != nil {
					bad++
					var list runbook.ErrorList
					if errors.As(err, &list) {
						fmt.Fprintln(cmd.ErrOrStderr(), list)
						fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d problem(s)\n", f, len(list))
					} else {
						fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", f, err)
					}
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok: %q, %d attack(s) on %d target(s)\n",
					f, rb.Name, len(rb.Attacks), len(rb.Targets))
				if checkMetrics && !metricsAnswer(cmd.Context(), cmd.OutOrStdout(), f, rb, promURL, webhook) {
					bad++
				}
			}
			if bad > 0 {
				return &exitError{code: exitInvalid, err: fmt.Errorf("%d of %d runbook(s) invalid", bad, len(files))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&checkMetrics, "check-metrics", false, "run every panel query once against the Prometheus server")
	cmd.Flags().StringVar(&promURL, "prometheus", "", "Prometheus-compatible base URL (overrides the runbook)")
	cmd.Flags().StringVar(&webhook, "alert-webhook", "", "with --check-metrics: check that the run's webhook address is free to listen on")
	return cmd
}

// metricsAnswer runs each panel query once and checks the alerts section
// against the rules, printing what came back.
func metricsAnswer(ctx context.Context, w io.Writer, file string, rb *runbook.Runbook, url, webhook string) bool {
	if ctx == nil {
		ctx = context.Background()
	}
	client, err := metrics.NewClient(ctx, rb.Metrics, metrics.Options{URL: url})
	if err != nil {
		fmt.Fprintf(w, "%s: metrics: %v\n", file, err)
		return false
	}
	ok := true
	for _, c := range metrics.CheckPanelsAt(ctx, client.API, rb.Metrics.Panels, time.Now(), client.Timeout, client.URL) {
		fmt.Fprintf(w, "%s: metrics %s: %s\n", file, client.URL, c)
		ok = ok && c.OK()
	}
	return alertsAnswer(ctx, w, file, rb.Alerts, client, webhook) && ok
}

// alertsAnswer runs the check a run makes of its alerts before the
// baseline: the rules are there, Alertmanager answers, the webhook address
// is free.
func alertsAnswer(ctx context.Context, w io.Writer, file string, a runbook.Alerts, client *metrics.Client, webhook string) bool {
	if len(a.Expect) == 0 && len(a.Forbid) == 0 && a.Alertmanager == "" && webhook == "" {
		return true
	}
	watcher := &alerts.Watcher{Prom: client.API, PromURL: client.URL}
	if a.Alertmanager != "" {
		watcher.Alertmanager = &alerts.Alertmanager{URL: a.Alertmanager}
	}
	if webhook != "" {
		hook, err := alerts.Listen(webhook, nil)
		if err != nil {
			fmt.Fprintf(w, "%s: %v\n", file, err)
			return false
		}
		defer hook.Close()
		watcher.Webhook = hook
	}
	if err := watcher.Check(ctx, file, a); err != nil {
		fmt.Fprintln(w, err)
		return false
	}
	fmt.Fprintf(w, "%s: alerts: ok, %d expected alert(s) defined", file, len(a.Expect))
	if a.Alertmanager != "" {
		fmt.Fprintf(w, ", alertmanager %s answers", a.Alertmanager)
	}
	if webhook != "" {
		fmt.Fprintf(w, ", webhook %s free", webhook)
	}
	fmt.Fprintln(w)
	return true
}

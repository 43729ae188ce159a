package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// StartPrometheusAlerting is StartPrometheusScraping with alerting rules
// (a rule file's YAML) evaluated every second and their alerts sent to the
// Alertmanager at amURL.
func StartPrometheusAlerting(t testing.TB, scrapeConfigs, rules, amURL string) string {
	t.Helper()
	return startPrometheus(t, fmt.Sprintf(`rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
%s`, strings.TrimPrefix(amURL, "http://"), scrapeConfigs), map[string]string{"rules.yml": rules})
}

// StartAlertmanager runs the real Alertmanager (Debian's
// prometheus-alertmanager) on a free loopback port, with clustering off
// and one route that sends every alert to webhookURL at once (group_wait
// 1s), and stops it when the test ends. It returns the base URL once ready.
func StartAlertmanager(t testing.TB, webhookURL string) string {
	t.Helper()
	bin := alertmanagerBinary(t)
	cfg := fmt.Sprintf(`route:
  receiver: gameday
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: gameday
    webhook_configs:
      - url: %q
        send_resolved: true
`, webhookURL)
	return startDaemon(t, "alertmanager", bin, map[string]string{"alertmanager.yml": cfg}, "--storage.path", "--cluster.listen-address=")
}

// alertmanagerBinary finds Alertmanager under Debian's name or upstream's.
func alertmanagerBinary(t testing.TB) string {
	t.Helper()
	if Mode() != "off" {
		if p, err := exec.LookPath("alertmanager"); err == nil {
			return p
		}
	}
	return Need(t, "prometheus-alertmanager")[0]
}

// ErrorRatioRules is a rule file with one alert, HighErrorRate (severity
// page), firing 2s after the gauge app_error_ratio goes above 0.1.
const ErrorRatioRules = `groups:
  - name: app
    interval: 1s
    rules:
      - alert: HighErrorRate
        expr: app_error_ratio > 0.1
        for: 2s
        labels: {severity: page}
`

// ServeGauge serves the gauge app_error_ratio, read from value at every
// scrape, on a free loopback port until the test ends; it returns the
// scrape_configs YAML of a job "app" that scrapes it.
func ServeGauge(t testing.TB, value func() float64) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "# TYPE app_error_ratio gauge\napp_error_ratio %g\n", value())
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return fmt.Sprintf("  - job_name: app\n    static_configs: [{targets: [%q]}]\n", l.Addr())
}

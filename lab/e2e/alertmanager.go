package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	dir := t.TempDir()
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
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := FreeAddr(t)
	return serve(t, "alertmanager", dir, addr, "/-/ready", exec.Command(bin,
		"--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
		"--log.level=warn",
	))
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

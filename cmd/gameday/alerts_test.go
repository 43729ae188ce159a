package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An address in use for the alert webhook or for --metrics-listen stops
// the run before anything is measured or injected, naming the address:
// a page lost mid-run would be worse.
func TestRunListenAddressInUse(t *testing.T) {
	for _, tc := range []struct{ flag, cmd string }{
		{"--alert-webhook", "run"}, {"--metrics-listen", "run"},
		{"--alert-webhook", "serve"}, {"--metrics-listen", "serve"},
	} {
		flag := tc.flag
		t.Run(tc.cmd+" "+flag, func(t *testing.T) {
			busy, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer busy.Close()
			path := writeAlertsRunbook(t, "url: http://127.0.0.1:1", "", "HighErrorRate")
			args := []string{"run", "--autopilot"}
			if tc.cmd == "serve" {
				args = []string{"serve", "--listen", "127.0.0.1:0"}
			}
			code, _, errs := gameday(t, append(args, flag, busy.Addr().String(), path)...)
			if code != exitInvalid || !strings.Contains(errs, path+": "+flag+" "+busy.Addr().String()+": cannot listen") || !strings.Contains(errs, "address already in use") {
				t.Errorf("exit %d: %s", code, errs)
			}
			if strings.Contains(errs, "baseline") || strings.Contains(errs, "started") {
				t.Errorf("the run began: %s", errs)
			}
		})
	}
}

// writeAlertsRunbook writes a runbook whose alerts section expects name,
// with metricsURL ("url: ..." or "") in its metrics section and an
// alerts.alertmanager line when amURL is set; it returns its path.
func writeAlertsRunbook(t *testing.T, metricsURL, amURL, name string) string {
	t.Helper()
	am := ""
	if amURL != "" {
		am = "\n  alertmanager: " + amURL
	}
	src := fmt.Sprintf(`version: 1
name: alerts
metrics:
  %s
  panels:
    error_rate: {query: app_error_ratio, unit: ratio}
baseline: {duration: 5s}
hypothesis: {statement: it pages, expect: {error_rate: "< 100%%"}}
targets:
  web: {ssh: {hosts: [127.0.0.1]}}
blast_radius:
  web: {all: true}
attacks:
  - {name: burn, target: web, kind: cpu, duration: 5s}
alerts:%s
  expect:
    - {name: %s, fires_within: 1m}
`, metricsURL, am, name)
	path := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

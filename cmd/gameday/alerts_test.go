package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A webhook port in use stops the run before anything is measured or
// injected, naming the address: a page lost mid-run would be worse.
func TestRunAlertWebhookPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.yaml")
	os.WriteFile(path, []byte(`version: 1
name: alerts
metrics:
  url: http://127.0.0.1:1
  panels:
    error_rate: {query: app_error_ratio, unit: ratio}
baseline: {duration: 5s}
hypothesis: {statement: it pages, expect: {error_rate: "< 100%"}}
targets:
  web: {ssh: {hosts: [127.0.0.1]}}
blast_radius:
  web: {all: true}
attacks:
  - {name: burn, target: web, kind: cpu, duration: 5s}
alerts:
  expect:
    - {name: HighErrorRate, fires_within: 1m}
`), 0o644)
	code, _, errs := gameday(t, "run", "--autopilot", "--alert-webhook", busy.Addr().String(), path)
	if code != exitInvalid || !strings.Contains(errs, path+": --alert-webhook "+busy.Addr().String()+": cannot listen") || !strings.Contains(errs, "address already in use") {
		t.Errorf("exit %d: %s", code, errs)
	}
	if strings.Contains(errs, "baseline") || strings.Contains(errs, "started") {
		t.Errorf("the run began: %s", errs)
	}
}

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/metrics/alerts"
)

// A Prometheus-shaped server that has data for the latency query only.
func TestValidateCheckMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		result := "[]"
		if strings.Contains(r.Form.Get("query"), "histogram_quantile") {
			result = `[{"metric":{},"value":[1700000000,"0.12"]}]`
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":%s}}`, result)
	}))
	defer srv.Close()
	code, out, errs := gameday(t, "validate", "--check-metrics", "--prometheus", srv.URL, "../../runbook/testdata/valid.yaml")
	if code != exitInvalid {
		t.Errorf("exit %d, want %d: a panel returned nothing", code, exitInvalid)
	}
	if !strings.Contains(out, "p95: ok, 1 series") {
		t.Errorf("p95 not reported ok:\n%s", out)
	}
	if !strings.Contains(out, "error_rate: EMPTY") {
		t.Errorf("error_rate not reported empty:\n%s%s", out, errs)
	}
}

// docs/attacks.md is generated from the catalogue; this keeps it current.
func TestAttackDocsInSync(t *testing.T) {
	want, err := os.ReadFile("../../docs/attacks.md")
	if err != nil {
		t.Fatal(err)
	}
	_, got, _ := gameday(t, "kinds", "--markdown")
	if got != string(want) {
		t.Error("docs/attacks.md is out of date; run: go run ./cmd/gameday kinds --markdown > docs/attacks.md")
	}
}

// --check-metrics checks the alerts section as a run would before the
// baseline, against real Prometheus and Alertmanager: an alert in no rule
// group names the groups looked in, a silent Alertmanager and a webhook
// port in use name their addresses.
func TestValidateCheckMetricsAlerts(t *testing.T) {
	am := e2e.StartAlertmanager(t, "http://"+e2e.FreeAddr(t)+"/")
	prom := e2e.StartPrometheusAlerting(t, e2e.ServeGauge(t, func() float64 { return 0 }), e2e.ErrorRatioRules, am)
	api := e2e.PrometheusAPI(t, prom)
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if gs, err := alerts.Rules(context.Background(), api); err == nil && len(gs) > 0 && len(e2e.Query(t, api, "app_error_ratio", time.Now())) > 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("Prometheus did not load its rules and scrape the gauge within 20s")
		}
	}
	write := func(name, amURL string) string { return writeAlertsRunbook(t, "", amURL, name) }

	good := write("HighErrorRate", am)
	code, out, errs := gameday(t, "validate", "--check-metrics", "--prometheus", prom, good)
	if code != 0 || !strings.Contains(out, good+": alerts: ok, 1 expected alert(s) defined, alertmanager "+am+" answers") {
		t.Errorf("exit %d:\n%s%s", code, out, errs)
	}

	unknown := write("HighErrorRat", am)
	code, out, _ = gameday(t, "validate", "--check-metrics", "--prometheus", prom, unknown)
	want := unknown + ":18:7: alerts.expect[0]: no alerting rule named HighErrorRat at " + prom + "; looked in 1 rule group(s): app ("
	if code != exitInvalid || !strings.Contains(out, want) {
		t.Errorf("exit %d, want %d and %s:\n%s", code, exitInvalid, want, out)
	}

	dead := "http://" + e2e.FreeAddr(t)
	silent := write("HighErrorRate", dead)
	code, out, _ = gameday(t, "validate", "--check-metrics", "--prometheus", prom, silent)
	if code != exitInvalid || !strings.Contains(out, silent+": alerts.alertmanager: alertmanager at "+dead+" does not answer") {
		t.Errorf("exit %d:\n%s", code, out)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	code, out, _ = gameday(t, "validate", "--check-metrics", "--prometheus", prom, "--alert-webhook", busy.Addr().String(), good)
	if code != exitInvalid || !strings.Contains(out, good+": --alert-webhook "+busy.Addr().String()+": cannot listen") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

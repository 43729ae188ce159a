package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
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

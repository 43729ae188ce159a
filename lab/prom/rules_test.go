package prom

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
)

// The lab refuses the rule files Prometheus refuses: promtool, Prometheus's
// own checker, is asked about the same files.
func TestSetRulesRejectsWhatPrometheusRejects(t *testing.T) {
	promtool := e2e.Need(t, "promtool")[0]
	rule := "groups:\n  - name: a\n    rules:\n      - %s\n"
	for _, c := range []struct{ src, want string }{
		{fmt.Sprintf(rule, "alert: X\n        expr: up =="), `lab metrics: rules r.yml: group "a", rule 1: could not parse expression`},
		{fmt.Sprintf(rule, "alert: X\n        expr: up\n        fro: 1m"), "lab metrics: rules r.yml: yaml: unmarshal errors:\n  line 6: field fro not found"},
		{fmt.Sprintf(rule, "alert: X\n        record: y\n        expr: up"), `lab metrics: rules r.yml: group "a", rule 1: one of 'record' or 'alert' must be set`},
		{fmt.Sprintf(rule, "expr: up"), `lab metrics: rules r.yml: group "a", rule 1: one of 'record' or 'alert' must be set`},
		{fmt.Sprintf(rule, "record: y\n        expr: up\n        for: 1m"), `lab metrics: rules r.yml: group "a", rule 1: a recording rule has no for`},
		{fmt.Sprintf(rule, "alert: X\n        expr: up\n        for: 1 minute"), `lab metrics: rules r.yml: group "a", rule 1: for: unknown unit " minute" in duration "1 minute"`},
		{"groups:\n  - name: a\n    rules: []\n  - name: a\n    rules: []\n", `lab metrics: rules r.yml: group "a": named twice`},
		{fmt.Sprintf(rule, "alert: X\n        expr: up > 0\n        for: 1m\n        keep_firing_for: 30s\n        labels: {severity: page}\n        annotations: {summary: '{{ $labels.instance }} is {{ $value }}'}"), ""},
	} {
		err := CheckRules("r.yml", []byte(c.src))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s\ngot %v\nwant %q", c.src, err, c.want)
		}
		path := filepath.Join(t.TempDir(), "r.yml")
		if err := os.WriteFile(path, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
		if (err == nil) != (c.want == "") {
			t.Errorf("%s\nthe lab says %q, promtool says (%v):\n%s", c.src, c.want, err, out)
		}
	}
}

// Recording rules write their series; an alert without for: fires at its
// first evaluation; when the condition ends its ALERTS series is marked
// stale, so an instant query stops seeing it at once.
func TestRulesRecordFireAndEnd(t *testing.T) {
	var v atomic.Int64
	v.Store(1)
	gauge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "# TYPE g gauge\ng %d\n", v.Load())
	}))
	defer gauge.Close()
	s, err := Start(context.Background(), Options{Targets: []Target{{Job: "app", URL: gauge.URL + "/metrics"}}, Interval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.SetRules("r.yml", []byte(`groups:
  - name: g
    labels: {team: shop}
    rules:
      - record: job:g:doubled
        expr: 2 * g
      - alert: GHigh
        expr: g > 0
        labels: {severity: page}
        annotations: {summary: "g is {{ $value }} on {{ $labels.instance }}"}
`))
	if err != nil {
		t.Fatal(err)
	}
	api := e2e.PrometheusAPI(t, s.URL())
	wait := func(q string, n int) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if len(e2e.Query(t, api, q, time.Now())) == n {
				return
			}
		}
		t.Fatalf("%s: not %d series after 10s", q, n)
	}
	wait(`job:g:doubled{job="app",team="shop"} == 2`, 1)
	wait(`ALERTS{alertname="GHigh",alertstate="firing",severity="page",team="shop",job="app"}`, 1)
	if n := len(e2e.Query(t, api, `ALERTS{alertstate="pending"}`, time.Now())); n != 0 {
		t.Errorf("%d pending series: an alert without for: fires at once", n)
	}
	res, err := api.Alerts(context.Background())
	host := strings.TrimPrefix(gauge.URL, "http://")
	if err != nil || len(res.Alerts) != 1 || string(res.Alerts[0].Annotations["summary"]) != "g is 1 on "+host {
		t.Errorf("alerts %+v, %v", res, err)
	}
	v.Store(0)
	wait(`ALERTS`, 0)
	res, err = api.Alerts(context.Background())
	if err != nil || len(res.Alerts) != 0 {
		t.Errorf("after the condition ended: %+v, %v", res, err)
	}
	rules, err := api.Rules(context.Background(), nil)
	if err != nil || len(rules.Groups) != 1 || len(rules.Groups[0].Rules) != 2 {
		t.Fatalf("rules %+v, %v", rules, err)
	}
}

// An empty rule file clears the rules: nothing is listed or evaluated.
func TestSetRulesEmptyClears(t *testing.T) {
	s, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetRules("a.yml", []byte("groups:\n  - name: a\n    rules:\n      - {alert: X, expr: vector(1)}\n")); err != nil {
		t.Fatal(err)
	}
	if len(s.ruleGroups()) != 1 {
		t.Fatalf("groups %+v", s.ruleGroups())
	}
	if err := s.SetRules("b.yml", nil); err != nil {
		t.Fatal(err)
	}
	if g := s.ruleGroups(); len(g) != 0 {
		t.Errorf("groups after clearing: %+v", g)
	}
}

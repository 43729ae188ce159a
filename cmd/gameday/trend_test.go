package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	sandbox "github.com/gameday/gameday/lab"
	"github.com/gameday/gameday/lab/e2e"
)

var updateTrend = flag.Bool("update-trend-journals", false, "copy the journals of TestTrendFromLabRuns to gamedays/report/testdata/trend")

// trendRuns is how many times TestTrendFromLabRuns runs the scenario.
const trendRuns = 6

// TestTrendFromLabRuns runs one lab scenario six times through gameday run
// --autopilot --junit, with the injected latency growing run by run as a
// regression would, then checks the JUnit of every run against the schema
// and the trend page of gameday report --summary: six points per chart,
// the latency line going up. It runs the scenario twenty times faster than
// written (the lab's floors keep each run about ten seconds).
func TestTrendFromLabRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a lab scenario six times, about 10s each")
	}
	// It waits on a lab of its own most of the time: it runs beside the
	// other lab tests, as many at once as -parallel allows.
	t.Parallel()
	e2e.Need(t, "xmllint")
	l, err := sandbox.Start(context.Background(), sandbox.Options{Seed: 3, HealthInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	runs := filepath.Join(t.TempDir(), "runs")
	junits := t.TempDir()
	for i := range trendRuns {
		settle(t, l)
		var stdout, stderr bytes.Buffer
		cmd := newLabCmd()
		cmd.SetOut(&stdout)
		cmd.SetErr(&stderr)
		cmd.SetContext(context.Background())
		junit := filepath.Join(junits, fmt.Sprintf("run-%02d.xml", i+1))
		rf := runFlags{Autopilot: true, RunsDir: runs, JUnit: junit}
		path, err := labScenarioFile(cmd, l, "latency-one-host", 0.05, &rf)
		if err != nil {
			t.Fatal(err)
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		delay := fmt.Sprintf("delay: %dms", 35*(i+1))
		if !strings.Contains(string(src), "delay: 100ms") {
			t.Fatalf("the scenario no longer sets delay: 100ms:\n%s", src)
		}
		slower := strings.Replace(string(src), "delay: 100ms", delay, 1)
		if err := os.WriteFile(path, []byte(slower), 0o644); err != nil {
			t.Fatal(err)
		}
		err = runFile(cmd, path, &rf)
		var ee *exitError
		if err != nil && (!errors.As(err, &ee) || ee.code != exitRefuted) {
			t.Fatalf("run %d (%s): %v\n%s", i+1, delay, err, stderr.String())
		}
		verdict := ""
		if err != nil {
			verdict = "refuted"
		}
		checkJUnit(t, junit, verdict)
		t.Logf("run %d, %s: %v", i+1, delay, err)
	}

	out := t.TempDir()
	code, stdout, errs := gameday(t, "report", "--summary", runs, "--out", out)
	if code != 0 {
		t.Fatalf("report --summary: exit %d\n%s%s", code, stdout, errs)
	}
	page, err := os.ReadFile(filepath.Join(out, "trends.html"))
	if err != nil {
		t.Fatal(err)
	}
	figures := regexp.MustCompile(`(?s)<figure class="chart trend" data-panel="([^"]+)".*?</figure>`).FindAllSubmatch(page, -1)
	if len(figures) != 2 {
		t.Fatalf("%d trend charts, want 2 (p95, error_rate)", len(figures))
	}
	cy := regexp.MustCompile(`<circle class="point" cx="[^"]+" cy="([^"]+)"`)
	for _, f := range figures {
		points := cy.FindAllSubmatch(f[0], -1)
		if len(points) != trendRuns {
			t.Errorf("chart %s has %d points, want %d", f[1], len(points), trendRuns)
			continue
		}
		if string(f[1]) != "p95" {
			continue
		}
		// SVG y grows downwards: a higher latency is a smaller cy.
		first, _ := strconv.ParseFloat(string(points[0][1]), 64)
		last, _ := strconv.ParseFloat(string(points[trendRuns-1][1]), 64)
		if !(last < first) {
			t.Errorf("p95 with 35ms injected is drawn at y=%g, with 210ms at y=%g: the line does not go up", first, last)
		}
	}
	if n := strings.Count(string(page), `<td class="v-`); n != trendRuns {
		t.Errorf("verdict history has %d runs, want %d", n, trendRuns)
	}
	if *updateTrend {
		dst := filepath.Join("..", "..", "gamedays", "report", "testdata", "trend")
		os.RemoveAll(dst)
		entries, _ := os.ReadDir(runs)
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(runs, e.Name(), "journal.jsonl"))
			if err != nil {
				continue
			}
			os.MkdirAll(filepath.Join(dst, e.Name()), 0o755)
			if err := os.WriteFile(filepath.Join(dst, e.Name(), "journal.jsonl"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// settle waits until the lab's edge P95 is back under the scenario's
// steady state (150ms) with room to spare: the last run's slow requests must
// leave the rate window before the next baseline.
func settle(t *testing.T, l *sandbox.Lab) {
	t.Helper()
	const p95 = `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="checkout-lb"}[5s])))`
	deadline := time.Now().Add(2 * time.Minute)
	last := "no answer"
	for {
		if s, ok := promValue(l.PrometheusURL, p95); ok {
			last = s
			if v, err := strconv.ParseFloat(s, 64); err == nil && v < 0.12 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lab's P95 did not settle under 120ms within 2m (last %s)", last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// promValue is the value of an instant query that returns one series, as
// Prometheus writes it; false on any error or another number of series.
func promValue(base, query string) (string, bool) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Data.Result) != 1 {
		return "", false
	}
	s, ok := body.Data.Result[0].Value[1].(string)
	return s, ok
}

package report

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/metrics/metricstest"
	"github.com/gameday/gameday/targets/targetstest"
)

// Latency grows 100ms a host: stage 1 (one host) holds, stage 2 (two)
// breaks "< 250ms", stage 3 never runs.
func TestReportStagesTable(t *testing.T) {
	src, err := os.ReadFile("../testdata/staged.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := runEngineOn(t, strings.Replace(string(src), "LIMIT", "250ms", 1), func(h *targetstest.Executor) *metricstest.Querier {
		return &metricstest.Querier{Value: func(string, string, time.Time) float64 { return 0.1 + 0.1*float64(h.Active()) }}
	})
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict.Value != "refuted" {
		t.Fatalf("verdict %+v", r.Verdict)
	}
	var results []string
	for _, s := range r.Stages {
		results = append(results, s.Result)
	}
	if !slices.Equal(results, []string{StageHeld, StageRefuted, StageNotRun}) {
		t.Fatalf("stage results %v", results)
	}
	if s := r.Stages[1]; len(s.Members) != 2 || s.Params["slow"]["delay"] != "200ms" || s.Words != "2 of web at 200ms" || s.From == nil || s.To == nil {
		t.Errorf("stage 2 %+v", s)
	}
	var md bytes.Buffer
	if err := r.Markdown(&md, ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## Stages",
		"held through stage 1 of 3 (1 of web at 100ms); refuted at stage 2: p95",
		"| 2 of 3 | 2 of web at 200ms (slow: delay=200ms",
		"| refuted |",
		"| not run |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md.String())
		}
	}
	var js struct {
		Stages []Stage `json:"stages"`
	}
	var buf bytes.Buffer
	if err := r.JSON(&buf); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(buf.Bytes(), &js); err != nil || len(js.Stages) != 3 || js.Stages[0].Result != StageHeld {
		t.Errorf("JSON stages %+v (%v)", js.Stages, err)
	}
}

package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
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
	wantIn(t, "Markdown", md.String(),
		"## Stages",
		"held through stage 1 of 3 (1 of web at 100ms); refuted at stage 2: p95",
		"| 2 of 3 | 2 of web at 200ms (slow: delay=200ms",
		"| refuted |",
		"| not run |",
	)
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

// stagedRun runs the engine's staged runbook expecting p95 under limit,
// with latency growing 100ms a host, and returns its journal.
func stagedRun(t *testing.T, limit string) string {
	t.Helper()
	src, err := os.ReadFile("../testdata/staged.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return runEngineOn(t, strings.Replace(string(src), "LIMIT", limit, 1), func(h *targetstest.Executor) *metricstest.Querier {
		return &metricstest.Querier{Value: func(string, string, time.Time) float64 { return 0.1 + 0.1*float64(h.Active()) }}
	})
}

// The charts of a staged run shade each stage that ran from its start to
// its judgement, green where it held and red where it broke, rule each
// start and name each stage; a stage that never ran has no band.
func TestChartStageBands(t *testing.T) {
	r, err := Load(stagedRun(t, "250ms"))
	if err != nil {
		t.Fatal(err)
	}
	svg, err := r.chart(0)
	if err != nil {
		t.Fatal(err)
	}
	c := &canvas{x1: r.charts.duration}
	for i, want := range []struct{ fill, label string }{{colStageHeld, "stage 1 held"}, {colStageBroke, "stage 2 broke"}} {
		st := r.Stages[i]
		left, width := num(c.x(*st.From)), num(c.x(*st.To)-c.x(*st.From))
		band := regexp.MustCompile(`<rect x="` + regexp.QuoteMeta(left) + `" y="[^"]+" width="` + regexp.QuoteMeta(width) + `" height="[^"]+" fill="` + want.fill + `"/>`)
		if !band.Match(svg) {
			t.Errorf("no %s band from x=%s, %s wide:\n%s", want.fill, left, width, svg)
		}
		if !bytes.Contains(svg, []byte(">"+want.label+"<")) {
			t.Errorf("stage %d is not named %q", st.Stage, want.label)
		}
	}
	if n := bytes.Count(svg, []byte(`stroke="`+colStageRule+`"`)); n != 2 {
		t.Errorf("%d stage rules; want 2 (stage 3 never ran)", n)
	}
	var md bytes.Buffer
	if err := r.Markdown(&md, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "green where it held, red where it broke") {
		t.Errorf("the legend does not explain the stage bands:\n%s", md.String())
	}
}

// report --summary says how far each staged run held, and the largest
// stage each runbook held over its staged runs.
func TestSummaryLargestStageHeld(t *testing.T) {
	runs := t.TempDir()
	for name, journal := range map[string]string{"a-refuted": stagedRun(t, "250ms"), "b-held": stagedRun(t, "1s"), "c-plain": runEngine(t, 0.05)} {
		src, err := os.ReadFile(journal)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(runs, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(runs, name, gamedays.JournalName), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := Summary(&out, runs); err != nil {
		t.Fatal(err)
	}
	wantIn(t, "summary", out.String(),
		"| Aborts | Stages held |",
		"(a-refuted) | refuted |", "| 1 of 3 (1 of web at 100ms) |",
		"(b-held) | held |", "| 3 of 3 (all of web at 400ms) |",
		"Largest stage held per runbook",
		"| staged engine test | 3 of 3 (all of web at 400ms) | b-held | 2 |",
	)
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "(c-plain)") && !strings.HasSuffix(line, "| — |") {
			t.Errorf("a run without stages says it held some: %s", line)
		}
	}
}

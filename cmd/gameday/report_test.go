package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyRun puts a fixture journal into runs/<name>/journal.jsonl.
func copyRun(t *testing.T, runs, name string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "gamedays", "report", "testdata", "journals", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(runs, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "journal.jsonl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReportCommand(t *testing.T) {
	runs := t.TempDir()
	dir := copyRun(t, runs, "crashed")
	code, out, errs := gameday(t, "report", dir)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s%s", code, out, errs)
	}
	for _, f := range []string{"report.md", "report.html", "report.json", "report-p95.svg", "report-error-rate.svg"} {
		if !strings.Contains(out, filepath.Join(dir, f)) {
			t.Errorf("report did not list %s:\n%s", f, out)
		}
		// Reports quote the runbook and the hosts: for the user alone.
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		} else if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	var js struct {
		Schema string `json:"schema"`
		Status struct {
			Outcome   string `json:"outcome"`
			Truncated bool   `json:"truncated"`
		} `json:"status"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(data, &js); err != nil || js.Schema != "gameday.report/v1" || js.Status.Outcome != "incomplete" || !js.Status.Truncated {
		t.Errorf("report.json: %+v, %v", js, err)
	}

	// One format, from the journal file, into another directory.
	out2 := filepath.Join(t.TempDir(), "out")
	code, out, errs = gameday(t, "report", "--format", "json", "--out", out2, filepath.Join(dir, "journal.jsonl"))
	if code != 0 || strings.TrimSpace(out) != filepath.Join(out2, "report.json") {
		t.Fatalf("report --format json --out: exit %d\n%s%s", code, out, errs)
	}

	code, _, errs = gameday(t, "report", "--format", "docx", dir)
	if code != exitInvalid || !strings.Contains(errs, `"docx"`) || !strings.Contains(errs, "md, html, json, pdf, junit, actions") {
		t.Errorf("unknown format: exit %d, %s", code, errs)
	}
	code, _, errs = gameday(t, "report", filepath.Join(runs, "nope"))
	if code != exitInvalid || !strings.Contains(errs, "nope") {
		t.Errorf("missing run: exit %d, %s", code, errs)
	}
}

func TestReportSummary(t *testing.T) {
	runs := t.TempDir()
	for _, name := range []string{"held", "refuted", "aborted", "blocked"} {
		copyRun(t, runs, name)
	}
	broken := filepath.Join(runs, "broken")
	os.MkdirAll(broken, 0o755)
	os.WriteFile(filepath.Join(broken, "journal.jsonl"), []byte("{not json\n{}\n"), 0o644)
	code, out, errs := gameday(t, "report", "--summary", runs)
	if code != 0 {
		t.Fatalf("summary: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, "trend page: "+filepath.Join(runs, "trends.html")) {
		t.Errorf("summary did not name the trend page: %s", errs)
	}
	if page, err := os.ReadFile(filepath.Join(runs, "trends.html")); err != nil || !strings.Contains(string(page), "<figure class=\"chart trend\"") {
		t.Errorf("trends.html: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2+5 || !strings.HasPrefix(lines[0], "| Date | Runbook | Verdict | P95 delta | Error delta | Duration | Aborts |") {
		t.Fatalf("summary table:\n%s", out)
	}
	for _, want := range []string{"| held | +61.3ms | +0.206 pp | 4m5s | 0 |", "| aborted |", "1 (guardrail)", "| blocked |", "| refuted |", "unreadable: ", "broken"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// TestReportPDFFormats: --format pdf with no browser still writes the other
// formats and fails naming what to install; junit and actions are formats.
func TestReportPDFFormats(t *testing.T) {
	dir := copyRun(t, t.TempDir(), "aborted")
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GAMEDAY_CHROMIUM", "")
	code, out, errs := gameday(t, "report", "--format", "html,pdf,junit,actions", dir)
	if code != exitInvalid || !strings.Contains(errs, "apt-get install chromium") || !strings.Contains(errs, "the other formats were") {
		t.Errorf("pdf without a browser: exit %d, %s", code, errs)
	}
	for _, f := range []string{"report.html", "report.junit.xml", "actions.md", "actions.csv"} {
		if !strings.Contains(out, filepath.Join(dir, f)) {
			t.Errorf("%s not written:\n%s", f, out)
		}
	}
	code, _, errs = gameday(t, "report", "--format", "pdf", "--paper", "legal", dir)
	if code != exitInvalid || !strings.Contains(errs, `paper "legal": expected a4 or letter`) {
		t.Errorf("bad paper: exit %d, %s", code, errs)
	}
}

package report

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestActionsExport(t *testing.T) {
	r := loadFixture(t, "refuted")
	r.Actions = append(r.Actions, Note{Author: "Ana", Text: "=SUM(A1) budget the retries @chen-w before the next game day"})
	link := "/runs/r1/report.html"

	var md bytes.Buffer
	if err := r.ActionsMarkdown(&md, link); err != nil {
		t.Fatal(err)
	}
	wantIn(t, "Markdown", md.String(),
		"## Action items: checkout survives slow instances\n",
		"verdict **refuted**. Report: [/runs/r1/report.html](/runs/r1/report.html)",
		"- [ ] cap client retries at one, with jitter\n",
		"- [ ] repeat with two slow instances next quarter\n",
		"- [ ] =SUM(A1) budget the retries before the next game day (owner: @chen-w)\n",
		"### Findings\n\n- retries on the slow instance double the load on the other two; errors follow\n",
	)

	var buf bytes.Buffer
	if err := r.ActionsCSV(&buf, link); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"kind", "title", "owner", "run", "report", "noted_by", "noted_at"},
		{"action", "cap client retries at one, with jitter", "", r.RunID, link, "Ben", "2026-11-23T09:33:35Z"},
		{"action", "repeat with two slow instances next quarter", "", r.RunID, link, "Ben", "2026-11-23T09:33:35Z"},
		{"action", "'=SUM(A1) budget the retries before the next game day", "chen-w", r.RunID, link, "Ana", ""},
		{"finding", "retries on the slow instance double the load on the other two; errors follow", "", r.RunID, link, "Ana", "2026-11-23T09:33:35Z"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%q", len(rows), len(want), rows)
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("row %d: %q\nwant   %q", i, rows[i], want[i])
		}
	}
}

func TestActionsWrittenWithTheReport(t *testing.T) {
	out := t.TempDir()
	files, err := WriteTo(filepath.Join("testdata", "journals", "blocked.jsonl"), out, []string{"actions", "junit"})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{filepath.Join(out, "actions.csv"), filepath.Join(out, "actions.md"), filepath.Join(out, "report.junit.xml")}
	if !slices.Equal(files, wantFiles) {
		t.Errorf("wrote %v, want %v", files, wantFiles)
	}
	md, _ := os.ReadFile(filepath.Join(out, "actions.md"))
	if !strings.Contains(string(md), "- [ ] find out why checkout P95 sits at 340ms since the 09:00 deploy\n") ||
		!strings.Contains(string(md), "No findings were noted.") || !strings.Contains(string(md), filepath.Join(out, "report.html")) {
		t.Errorf("actions.md:\n%s", md)
	}
}

package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
)

// BenchmarkWriteAll8h measures a whole report (journal read, Markdown with
// its SVG charts, HTML, JSON) of an eight-hour run sampled every second on
// two panels. The goal is under 2s per report.
func BenchmarkWriteAll8h(b *testing.B) {
	dir := b.TempDir()
	journal := filepath.Join(dir, gamedays.JournalName)
	writeScenario(b, journal, scenario{name: "eight-hours", baseP95: 0.12, hitP95: 0.19, hitErr: 0.004,
		baseline: 30 * time.Minute, attack: 6 * time.Hour, observe: 7*time.Hour + 30*time.Minute})
	st, err := os.Stat(journal)
	if err != nil {
		b.Fatal(err)
	}
	r, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	if r.Duration < 8*3600 {
		b.Fatalf("the journal covers %.0fs, want 8h", r.Duration)
	}
	b.ReportMetric(float64(st.Size())/(1<<20), "journal-MiB")
	b.ResetTimer()
	for b.Loop() {
		if _, err := WriteAll(dir, nil); err != nil {
			b.Fatal(err)
		}
	}
}

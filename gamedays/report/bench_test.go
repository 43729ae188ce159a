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

// BenchmarkWriteAll1000Injections is a whole report of an hour's game day
// whose attack landed on 1,000 members: 5,000 injection events, each with
// its own row. The goal is under 2s per report.
func BenchmarkWriteAll1000Injections(b *testing.B) {
	dir := b.TempDir()
	journal := filepath.Join(dir, gamedays.JournalName)
	writeScenario(b, journal, scenario{name: "thousand", baseP95: 0.12, hitP95: 0.19, hitErr: 0.004,
		baseline: 10 * time.Minute, attack: 30 * time.Minute, observe: 45 * time.Minute, members: 1000})
	r, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	if len(r.Attacks) != 1000 {
		b.Fatalf("the report has %d attack rows, want one per member, 1000", len(r.Attacks))
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := WriteAll(dir, nil); err != nil {
			b.Fatal(err)
		}
	}
}

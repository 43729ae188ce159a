package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
)

// Alert transitions are marked on every chart, and in a drill the
// responders' time to detect sits beside the alert's time to fire and to
// page, all counted from the fault landing.
func TestAlertMarksAndDrill(t *testing.T) {
	evs, _, err := gamedays.ReadJournal(filepath.Join("testdata", "journals", "refuted.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	landed, _ := gamedays.Drill(evs)
	if landed.Injected.IsZero() {
		t.Fatal("the fixture injects nothing")
	}
	at := landed.Injected
	seq := evs[len(evs)-1].Seq
	add := func(d time.Duration, ev gamedays.Event) {
		seq++
		ev.Seq, ev.Time = seq, at.Add(d)
		evs = append(evs, ev)
	}
	for _, m := range []gamedays.AlertMark{
		{Name: "HighErrorRate", State: "pending", At: at.Add(3 * time.Second)},
		{Name: "HighErrorRate", State: "firing", At: at.Add(8 * time.Second)},
		{Name: "HighErrorRate", State: "received", At: at.Add(9 * time.Second)},
		{Name: "HighErrorRate", State: "notified", At: at.Add(10 * time.Second)},
		{Name: "SlowQueries", Labels: map[string]string{"db": "orders"}, State: "firing", At: at.Add(12 * time.Second)},
	} {
		add(m.At.Sub(at), gamedays.Event{Type: gamedays.EvAlert, Alert: &m})
	}
	add(15*time.Second, gamedays.Event{Type: gamedays.EvNote, Kind: gamedays.NoteDetected, Author: "rita", Msg: "errors at the edge"})
	add(20*time.Second, gamedays.Event{Type: gamedays.EvAlerts, Alerts: []gamedays.AlertResult{{
		Alert: "HighErrorRate", From: at, Firing: at.Add(8 * time.Second), Notified: at.Add(10 * time.Second), FiresWithin: time.Minute, Held: true}}})
	r, err := Build(evs, false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var md bytes.Buffer
	if err := r.Markdown(&md, dir); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(filepath.Join(dir, ChartFile("p95")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{">HighErrorRate pending<", ">HighErrorRate firing<", ">HighErrorRate paged<", `stroke="#7b2cbf"`} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("the p95 chart lacks %s", want)
		}
	}
	if n := bytes.Count(svg, []byte(`stroke="#7b2cbf"`)); n != 4 {
		t.Errorf("%d alert lines, want 4 (pending, firing, paged, and the other alert's firing; received is the table's)", n)
	}
	wantIn(t, "the report", md.String(),
		"Purple lines mark each alert's transitions",
		"| detected by rita | 15s |",
		"| HighErrorRate fired | 8s |",
		"| HighErrorRate paged | 10s |",
		// The fixture's runbook has no alerts section: every alert is
		// other to it.
		`**Other alerts that fired:** HighErrorRate at T+`+clock(at.Add(8*time.Second).Sub(r.Start).Seconds())+`, SlowQueries{db="orders"} at T+`+clock(at.Add(12*time.Second).Sub(r.Start).Seconds()),
	)
	if d := r.Drill; d == nil || len(d.Alerts) != 1 || d.Alerts[0].Fired != 8 || d.Alerts[0].Paged != 10 || d.TTD != 15 {
		t.Errorf("drill %+v", d)
	}
}

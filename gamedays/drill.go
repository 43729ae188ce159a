package gamedays

import "time"

// Note kinds a drill adds to the journal, beside note, prediction, finding
// and action.
const (
	NoteDetected  = "detected"  // a responder saw the problem; Msg says what they saw
	NoteMitigated = "mitigated" // a responder acted; Msg says what they did
	NoteHint      = "hint"      // the facilitator released a hint
	// gameday serve journals participants coming and going; Author is who,
	// Msg their role.
	NoteJoined = "joined"
	NoteLeft   = "left"
)

// DrillTimes are a drill's measurements, read back from its journal.
type DrillTimes struct {
	Injected time.Time `json:"injected"` // first attack applied; the clock starts here
	// Detected and Mitigated are the first marks after Injected; zero when
	// responders never got there (the attack then ended by rollback).
	Detected      time.Time     `json:"detected,omitzero"`
	Mitigated     time.Time     `json:"mitigated,omitzero"`
	TTD           time.Duration `json:"ttd,omitempty"`
	TTM           time.Duration `json:"ttm,omitempty"`
	DetectedBy    string        `json:"detected_by,omitempty"`
	DetectedWhat  string        `json:"detected_what,omitempty"`
	MitigatedBy   string        `json:"mitigated_by,omitempty"`
	MitigatedWhat string        `json:"mitigated_what,omitempty"`
	// Gone is when the run's own check first saw a fault removed before
	// its rollback (a fault.ended; not an end AWS decided, a safety stop),
	// and GoneAfter how long after Injected: the mitigation as the hosts
	// tell it, beside the responders' own mark.
	Gone      time.Time     `json:"gone,omitzero"`
	GoneAfter time.Duration `json:"gone_after,omitempty"`
	GoneWhat  string        `json:"gone_what,omitempty"`
	Hints     int           `json:"hints"` // hints released before mitigation (or in all, if never mitigated)
	// FalseAlarms counts detections marked before anything was injected.
	FalseAlarms int `json:"false_alarms,omitempty"`
	// Released lists every hint released, oldest first.
	Released []string `json:"-"`
	// Drill says the journal is of a drill (its run.start says so); older
	// journals tell a drill only by its marks.
	Drill bool `json:"-"`
	// Unseen says the view folding this is not told when the fault landed
	// (a drill's responder): their marks then count as made after it.
	Unseen bool `json:"-"`
}

// Drill measures time to detect and time to mitigate from a journal. It
// returns false when nothing was injected, so there was nothing to find.
func Drill(events []Event) (DrillTimes, bool) {
	var d DrillTimes
	for _, ev := range events {
		d.Apply(ev)
	}
	return d, !d.Injected.IsZero()
}

// Apply folds one event into the drill's times: the one rule the console,
// the report and the state share. The first marks after the first fault
// landed count; a detection before it is a false alarm.
func (d *DrillTimes) Apply(ev Event) {
	known := !d.Injected.IsZero() || d.Unseen
	switch {
	case ev.Type == EvRunStart:
		d.Drill = ev.Drill
	case ev.Type == EvAttackResult && ev.OK != nil && *ev.OK && d.Injected.IsZero():
		d.Injected = ev.Time
	case ev.Type == EvFaultEnded && ev.Source == SourceFaultCheck && !d.Injected.IsZero() && d.Gone.IsZero():
		d.Gone, d.GoneAfter = ev.Time, ev.Time.Sub(d.Injected)
		if ev.Injection != nil {
			d.GoneWhat = ev.Injection.Attack + " on " + ev.Injection.Member.ID
		}
	case ev.Type != EvNote:
	case ev.Kind == NoteDetected && !known:
		d.FalseAlarms++
	case ev.Kind == NoteDetected && d.Detected.IsZero():
		d.Detected, d.DetectedBy, d.DetectedWhat = ev.Time, ev.Author, ev.Msg
		if !d.Injected.IsZero() {
			d.TTD = ev.Time.Sub(d.Injected)
		}
	case ev.Kind == NoteMitigated && known && d.Mitigated.IsZero():
		d.Mitigated, d.MitigatedBy, d.MitigatedWhat = ev.Time, ev.Author, ev.Msg
		if !d.Injected.IsZero() {
			d.TTM = ev.Time.Sub(d.Injected)
		}
	case ev.Kind == NoteHint:
		d.Released = append(d.Released, ev.Msg)
		if d.Mitigated.IsZero() {
			d.Hints++
		}
	}
}

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
	Hints         int           `json:"hints"` // hints released before mitigation (or in all, if never mitigated)
	// FalseAlarms counts detections marked before anything was injected.
	FalseAlarms int `json:"false_alarms,omitempty"`
}

// Drill measures time to detect and time to mitigate from a journal. It
// returns false when nothing was injected, so there was nothing to find.
func Drill(events []Event) (DrillTimes, bool) {
	var d DrillTimes
	for _, ev := range events {
		switch {
		case ev.Type == EvAttackResult && ev.OK != nil && *ev.OK && d.Injected.IsZero():
			d.Injected = ev.Time
		case ev.Type != EvNote:
		case ev.Kind == NoteDetected && d.Injected.IsZero():
			d.FalseAlarms++
		case ev.Kind == NoteDetected && d.Detected.IsZero():
			d.Detected, d.DetectedBy, d.DetectedWhat = ev.Time, ev.Author, ev.Msg
			d.TTD = ev.Time.Sub(d.Injected)
		case ev.Kind == NoteMitigated && !d.Injected.IsZero() && d.Mitigated.IsZero():
			d.Mitigated, d.MitigatedBy, d.MitigatedWhat = ev.Time, ev.Author, ev.Msg
			d.TTM = ev.Time.Sub(d.Injected)
		case ev.Kind == NoteHint && d.Mitigated.IsZero():
			d.Hints++
		}
	}
	return d, !d.Injected.IsZero()
}

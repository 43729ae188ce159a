package gamedays

import (
	"strings"
	"testing"

	"github.com/gameday/gameday/runbook"
)

func TestPermit(t *testing.T) {
	ana := Actor{Name: "Ana", Role: runbook.RoleFacilitator, Abort: true}
	ben := Actor{Name: "Ben", Role: runbook.RoleScribe, Abort: true} // also the safety officer
	dee := Actor{Name: "Dee", Role: runbook.RoleObserver}
	eve := Actor{Name: "Eve", Role: runbook.RoleResponder}
	next := Intent{Type: IntentNext}
	confirm := Intent{Type: IntentConfirm}
	abort := Intent{Type: IntentAbort}
	note := Intent{Type: IntentNote, Kind: "note"}
	finding := Intent{Type: IntentNote, Kind: "finding"}
	hint := Intent{Type: IntentNote, Kind: NoteHint}
	detected := Intent{Type: IntentNote, Kind: NoteDetected}
	mitigated := Intent{Type: IntentNote, Kind: NoteMitigated}

	tests := []struct {
		who  Actor
		in   Intent
		want string // "" allowed; else part of the refusal
	}{
		{ana, next, ""}, {ana, confirm, ""}, {ana, abort, ""}, {ana, note, ""}, {ana, hint, ""},
		{ben, note, ""}, {ben, finding, ""}, {ben, abort, ""},
		{ben, next, "only the facilitator moves the game day on"},
		{ben, hint, "only the facilitator releases hints"},
		{dee, next, "only the facilitator moves the game day on; Dee is an observer"},
		{dee, confirm, "only the facilitator confirms the blast radius; Dee is an observer"},
		{dee, abort, "Dee is an observer here: only the facilitator and the runbook's safety officers can abort"},
		{dee, note, "observers watch; ask the scribe to note it"},
		{eve, detected, ""}, {eve, mitigated, ""}, {eve, note, ""},
		{eve, finding, "a responder cannot add a finding note"},
		{eve, abort, "Eve is a responder here"},
		{eve, hint, "only the facilitator releases hints"},
	}
	for _, tc := range tests {
		err := Permit(tc.who, tc.in)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %v %q refused: %v", tc.who.Role, tc.in.Type, tc.in.Kind, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %v %q: err = %v, want %q", tc.who.Role, tc.in.Type, tc.in.Kind, err, tc.want)
		}
	}
}

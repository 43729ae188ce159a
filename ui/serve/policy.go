package serve

import (
	"fmt"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
)

// Permit decides, on the server, whether who may send in. The console hides
// what a role cannot do, but a key press from a shared session is checked
// here all the same; the error says why, for the refusal notice.
func Permit(who Who, in gamedays.Intent) error {
	switch in.Type {
	case gamedays.IntentAbort:
		if who.Abort {
			return nil
		}
		return fmt.Errorf("%s is %s here: only the facilitator and the runbook's safety officers can abort; tell them", who.Name, article(who.Role))
	case gamedays.IntentNext, gamedays.IntentConfirm:
		if who.Role == runbook.RoleFacilitator {
			return nil
		}
		what := "moves the game day on"
		if in.Type == gamedays.IntentConfirm {
			what = "confirms the blast radius"
		}
		return fmt.Errorf("only the facilitator %s; %s is %s", what, who.Name, article(who.Role))
	case gamedays.IntentNote:
		return permitNote(who, in.Kind)
	}
	return fmt.Errorf("%s cannot do that here", who.Name)
}

func permitNote(who Who, kind string) error {
	switch who.Role {
	case runbook.RoleFacilitator:
		return nil
	case runbook.RoleScribe:
		if kind != gamedays.NoteHint {
			return nil
		}
	case runbook.RoleResponder:
		switch kind {
		case "", "note", gamedays.NoteDetected, gamedays.NoteMitigated:
			return nil
		}
	}
	if kind == gamedays.NoteHint {
		return fmt.Errorf("only the facilitator releases hints")
	}
	if who.Role == runbook.RoleObserver {
		return fmt.Errorf("observers watch; ask the scribe to note it")
	}
	return fmt.Errorf("%s cannot add a %s note", article(who.Role), kind)
}

func article(role string) string {
	if role == "" {
		return "a participant"
	}
	switch role[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + role
	}
	return "a " + role
}

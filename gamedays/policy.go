package gamedays

import (
	"fmt"

	"github.com/gameday/gameday/runbook"
)

// EvRefused records an intent the engine refused: who asked, for what, and
// why. A refusal is a fact of the game day like any other.
const EvRefused = "intent.refused"

// Actor is who sends an intent. The engine checks every intent against the
// actor's role (Permit); consoles only hide what a role cannot do.
type Actor struct {
	Name string
	Role string // runbook.RoleFacilitator, RoleScribe, RoleObserver, RoleResponder
	// Abort is set for the facilitator and the runbook's safety officers.
	Abort bool
}

// Local is whoever started gameday on this machine, and gameday itself
// (signals, guardrails, the autopilot, a drill's hint schedule): the
// facilitator.
var Local = Actor{Role: runbook.RoleFacilitator, Abort: true}

// Permit decides whether a may send in; the error says why not, for the
// refusal notice.
func Permit(a Actor, in Intent) error {
	switch in.Type {
	case IntentAbort:
		if a.Abort {
			return nil
		}
		return fmt.Errorf("%s is %s here: only the facilitator and the runbook's safety officers can abort; tell them", a.name(), article(a.Role))
	case IntentNext, IntentConfirm:
		if a.Role == runbook.RoleFacilitator {
			return nil
		}
		what := "moves the game day on"
		if in.Type == IntentConfirm {
			what = "confirms the blast radius"
		}
		return fmt.Errorf("only the facilitator %s; %s is %s", what, a.name(), article(a.Role))
	case IntentNote:
		return permitNote(a, in.Kind)
	case IntentConfirmEach:
		if a.Role == runbook.RoleFacilitator {
			return nil
		}
		return fmt.Errorf("only the facilitator decides whether each stage is confirmed; %s is %s", a.name(), article(a.Role))
	}
	return fmt.Errorf("%s cannot do that here", a.name())
}

func permitNote(a Actor, kind string) error {
	switch kind {
	case NoteJoined, NoteLeft:
		return nil // the server says who came and went, for anyone
	}
	switch a.Role {
	case runbook.RoleFacilitator:
		return nil
	case runbook.RoleScribe:
		if kind != NoteHint {
			return nil
		}
	case runbook.RoleResponder:
		switch kind {
		case "", "note", NoteDetected, NoteMitigated:
			return nil
		}
	}
	if kind == NoteHint {
		return fmt.Errorf("only the facilitator releases hints")
	}
	if a.Role == runbook.RoleObserver {
		return fmt.Errorf("observers watch; ask the scribe to note it")
	}
	return fmt.Errorf("%s cannot add a %s note", article(a.Role), kind)
}

func (a Actor) name() string {
	if a.Name == "" {
		return "this participant"
	}
	return a.Name
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

// intentWords names an intent in a refusal.
func intentWords(i Intent) string {
	switch i.Type {
	case IntentAbort:
		return "abort"
	case IntentNext:
		return "move on"
	case IntentConfirm:
		return "confirm the blast radius"
	case IntentConfirmEach:
		return "switch confirming each stage"
	case IntentNote:
		if i.Kind != "" {
			return "add a " + i.Kind
		}
		return "add a note"
	}
	return "do that"
}

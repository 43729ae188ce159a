package ui

import (
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/ui/keys"
	"github.com/gameday/gameday/ui/serve"
	"github.com/gameday/gameday/ui/styles"
)

// common is the read-mostly context every component of one console renders
// from: what the game day is, how to draw it, and the latest of what the
// engine and the metrics said. The root model owns it and is the only one
// to change it; components hold a pointer, never a copy, so they always
// draw from the same moment.
type common struct {
	cfg    Config
	keys   keys.KeyMap
	styles styles.Styles
	author string // who sits at this console: notes and aborts carry the name

	now     time.Time       // the clock at the latest refresh
	run     *runState       // the engine's state, folded from its events
	metrics *refreshMsg     // latest series to draw; never nil
	series  []string        // every series name seen, in order: what 1-9 toggle
	hidden  map[string]bool // series hidden by 1-9

	out intents // where components send what the room asks for

	// redact: a responder in a drill, who sees nothing of what was
	// injected or where.
	redact bool
	// participant is who joined over SSH; nil at the facilitator's own
	// terminal. Screens word what happens next for them.
	participant *serve.Who
}

// may says whether the person at this console may ask for i: the engine
// decides (gamedays.Permit), screens only word what happens next.
func (c *common) may(t gamedays.IntentType, kind string) bool {
	return c.participant == nil || gamedays.Permit(gamedays.Actor(*c.participant), gamedays.Intent{Type: t, Kind: kind}) == nil
}

func (c *common) mayConfirm() bool { return c.may(gamedays.IntentConfirm, "") }

// intents is how a component asks the engine for something. The root model
// sends it at once, in the Update that saw the key, and says on the status
// line why it was refused.
type intents interface {
	send(gamedays.Intent) bool
	say(msg string)
}

// sendOn sends, when msg is a key resolved to action a, the intent it
// stands for, as this console's person; false when it was not, or was
// refused.
func (p *page) sendOn(msg tea.Msg, a keys.Action) bool {
	r, ok := msg.(keys.Result)
	if !ok || r.Action != a {
		return false
	}
	i, ok := keys.Intent(r, "", p.author)
	return ok && p.out.send(i)
}

// withHelp is b described otherwise, where it does something else.
func withHelp(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

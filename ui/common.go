package ui

import (
	"time"

	"github.com/gameday/gameday/ui/keys"
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

	// redact: a responder in a drill, who sees nothing of what was
	// injected or where.
	redact bool
}

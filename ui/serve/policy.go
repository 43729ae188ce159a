package serve

import (
	"github.com/gameday/gameday/gamedays"
)

// Permit decides whether who may send in: the engine's own policy
// (gamedays.Permit), which the engine applies to every intent it is sent.
// The console uses it only to hide what a role cannot do.
func Permit(who Who, in gamedays.Intent) error { return gamedays.Permit(gamedays.Actor(who), in) }

package ssh

import (
	"strings"
	"time"

	"github.com/gameday/gameday/targets"
)

// Scripts returns the command lines that preflight, inject and roll back
// inj on one host, exactly as the executor would send them over SSH, so
// that another transport (SSM Run Command) can carry the same attack with
// the same dead man's switch. grace is added to the duration for the
// switch; zero means the executor's default. Lab kinds get the lab's
// command lines and no preflight. An empty rollback means the kind has
// nothing to revert.
func Scripts(inj targets.Injection, grace time.Duration) (preflight, inject, rollback string, err error) {
	if grace <= 0 {
		grace = Options{}.withDefaults().Grace
	}
	e := &Executor{opts: Options{Grace: grace}, cat: targets.Default()}
	return e.commands(inj)
}

// FaultGone says whether a rollback's output reports that the fault was
// no longer in place when the rollback came (targets.Result.Gone),
// wherever the script ran (over SSH, through Run Command) or a lab host
// said a person had reset it.
func FaultGone(out string) bool {
	return strings.Contains(out, "gameday: "+faultGone) || strings.Contains(out, targets.LabResetByHand)
}

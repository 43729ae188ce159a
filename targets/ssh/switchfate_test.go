package ssh

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// A rollback cut short says which happened to the dead man's switch: still
// armed (and when it fires), or already cancelled, so nothing on the host
// will revert the fault.
func TestCutShortRollbackSaysWhatBecameOfTheSwitch(t *testing.T) {
	e2e.Need(t, "sshd", "setsid")
	s := startSSHD(t, "127.0.0.1", "")
	e := s.executor(t, nil)
	mark := filepath.Join(t.TempDir(), "mark")
	inj := targets.Injection{RunID: "tfate", Attack: "slow", Kind: "custom", Member: s.member(), Duration: time.Minute,
		Params: map[string]string{"inject": "touch {{mark:path}}", "rollback": "sleep 6; rm -f {{mark:path}}", "mark": mark}}
	if res, err := e.Inject(ctxFor(t), &inj); err != nil {
		t.Fatalf("inject: %v\n%s", err, res.Output)
	}
	t.Cleanup(func() { e.Rollback(ctxFor(t), inj) })

	// The revert hangs after the switch is cancelled; the deadline cuts it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := e.Rollback(ctx, inj)
	if err == nil || !strings.Contains(err.Error(), "the rollback had cancelled the dead man's switch, so nothing on the host will revert it") {
		t.Errorf("rollback cut after cancelling the switch: %v", err)
	}

	// A host that never answers: the switch was not reached.
	away := inj
	away.Member.Addr = "127.0.0.1:1"
	away.State = map[string]string{"switch_at": "2026-11-23T09:20:00Z"}
	_, err = e.Rollback(ctxFor(t), away)
	if err == nil || !strings.Contains(err.Error(), "the rollback stopped before it cancelled the dead man's switch, as far as the host's output shows: the switch still reverts it at 2026-11-23T09:20:00Z") {
		t.Errorf("rollback that never reached the host: %v", err)
	}
}

func TestSwitchFate(t *testing.T) {
	inj := targets.Injection{}
	for out, want := range map[string]string{
		"gameday: " + switchCancelled + "\n": "had cancelled",
		"gameday: " + noSwitch + "\n":        "no dead man's switch was waiting",
		"":                                   "still reverts it at its deadline (the attack's duration plus grace after the inject)",
		"gameday: cannot create state dir\n": "stopped before it cancelled",
	} {
		if got := SwitchFate(out, inj); !strings.Contains(got, want) {
			t.Errorf("SwitchFate(%q) = %q, want it to say %q", out, got, want)
		}
	}
}

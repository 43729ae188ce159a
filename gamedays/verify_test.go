package gamedays

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gameday/gameday/gamedays/journaltest"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/targetstest"
)

// refused runs a recovery that must refuse the journal at path, naming
// line: nothing rolled back, nothing written.
func refused(t *testing.T, path string, key *JournalKey, line int, says string) {
	t.Helper()
	before, _ := os.ReadFile(path)
	exec := targetstest.NewExecutor()
	_, err := Recover(context.Background(), path, recoverWith(exec, key))
	var ue *UntrustedError
	if !errors.As(err, &ue) {
		t.Fatalf("recover: %v, want the journal refused", err)
	}
	prefix := path + ":" + strconv.Itoa(line) + ": "
	if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), says) {
		t.Errorf("refusal %q, want it to start %q and say %q", err, prefix, says)
	}
	if exec.Rollbacks() != 0 {
		t.Errorf("%d rollbacks from a refused journal", exec.Rollbacks())
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a refused journal was written to")
	}
}

// Every way of changing a sealed journal after the fact is found at the
// line where it was made, and recover acts on none of them.
func TestRecoverRefusesAChangedJournal(t *testing.T) {
	// Lines of killedRun: 1 run.start, 2 blast.confirmed, 3 intent web-1,
	// 4 result web-1, 5 intent web-3, 6 result web-3, 7 rollback web-3,
	// 8 intent web-2.
	for _, c := range []struct {
		name   string
		change func([]string) []string
		line   int
		says   string
	}{
		{"edit a command", func(l []string) []string {
			l[3] = strings.Replace(l[3], `"workers":"1"`, `"workers":"64"`, 1)
			return l
		}, 4, "seal does not match"},
		{"insert a line", func(l []string) []string {
			forged := strings.Replace(l[2], `"web-1"`, `"web-9"`, 1)
			return append(l[:4], append([]string{forged}, l[4:]...)...)
		}, 5, "seal does not match"},
		{"delete a line", func(l []string) []string {
			return append(l[:4], l[5:]...)
		}, 5, "seal does not match"},
		{"swap two lines", func(l []string) []string {
			l[4], l[5] = l[5], l[4]
			return l
		}, 5, "seal does not match"},
		{"change run_id", func(l []string) []string {
			l[0] = strings.Replace(l[0], `"run_id":"r1"`, `"run_id":"r2"`, 1)
			return l
		}, 1, "seal does not match"},
		{"append an unsealed intent", func(l []string) []string {
			return append(l, `{"v":1,"seq":9999,"type":"attack.intent","run_id":"x","injection":{"run_id":"x","attack":"own","kind":"custom","member":{"target":"web","id":"web-1"},"params":{"inject":"id","rollback":"id >/tmp/pwned"},"duration":60000000000}}`+"\n")
		}, 9, "not sealed"},
		{"damage a line", func(l []string) []string {
			l[5] = l[5][:20] + "\n"
			return l
		}, 6, "damaged line"},
	} {
		t.Run(c.name, func(t *testing.T) {
			key := testKey(t)
			path := killedRun(t, t.TempDir(), key, false)
			journaltest.Edit(t, path, c.change)
			refused(t, path, key, c.line, c.says)
		})
	}
}

// A journal whose every line is sealed can still say what gameday never
// writes: recover refuses that too.
func TestRecoverRefusesAnInconsistentJournal(t *testing.T) {
	key := testKey(t)
	other := inj("web-1")
	other.RunID = "r0"
	changed := inj("web-1")
	changed.Kind = "memory"
	for _, c := range []struct {
		name    string
		dir     string
		members []string
		events  []Event
		line    int
		says    string
	}{
		{"moved to another run directory", "r2", []string{"web-1"}, []Event{{Type: EvAttackIntent, Injection: inj("web-1")}}, 1, `run_id "r2" is not this run's: the run directory is "r1"`},
		{"never confirmed", "r1", []string{"web-2"}, []Event{{Type: EvAttackIntent, Injection: inj("web-1")}}, 3, "which no blast.confirmed before it confirmed"},
		{"intent after run.end", "r1", []string{"web-1"}, []Event{{Type: EvRunEnd}, {Type: EvAttackIntent, Injection: inj("web-1")}}, 4, "after the run ended at line 3"},
		{"another run's injection", "r1", []string{"web-1"}, []Event{{Type: EvAttackIntent, Injection: other}}, 3, `attack.intent of run "r0" in the journal of run "r1"`},
		{"result unlike its intent", "r1", []string{"web-1"}, []Event{{Type: EvAttackIntent, Injection: inj("web-1")}, {Type: EvAttackResult, Injection: changed}}, 4, "does not match an attack.intent before it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			path := sealedRun(t, filepath.Join(tmp, c.dir), key, c.members, c.events...)
			if c.dir != "r1" {
				// The whole directory moved: every seal still holds.
				if err := os.Rename(filepath.Join(tmp, c.dir), filepath.Join(tmp, "r1")); err != nil {
					t.Fatal(err)
				}
				path = filepath.Join(tmp, "r1", JournalName)
			}
			refused(t, path, key, c.line, c.says)
		})
	}
}

func TestRecoverRefusesWithoutTheKey(t *testing.T) {
	path := killedRun(t, t.TempDir(), testKey(t), false)
	refused(t, path, testKey(t), 1, "sealed with another key")
	refused(t, path, nil, 1, "no journal key")
}

// A journal from before sealing still reads and reports; recover acts on
// it only when trusted.
func TestUnsealedJournalReadsButIsNotTrusted(t *testing.T) {
	key := testKey(t)
	dir := filepath.Join(t.TempDir(), "r1")
	os.MkdirAll(dir, 0o700)
	path := filepath.Join(dir, JournalName)
	j, err := CreateJournal(path, WallClock())
	if err != nil {
		t.Fatal(err)
	}
	j.Append(Event{Type: EvRunStart, RunID: "r1"})
	j.Append(Event{Type: EvConfirmed, Members: []targets.Member{inj("web-1").Member}})
	j.Append(Event{Type: EvAttackIntent, Injection: inj("web-1")})
	j.Close()
	if events, warn, err := ReadJournal(path); err != nil || warn != nil || len(events) != 3 {
		t.Fatalf("an unsealed journal reads back as %d events, %v, %v", len(events), warn, err)
	}
	refused(t, path, key, 1, "not sealed")

	o := recoverWith(targetstest.NewExecutor("burn@web-1"), key)
	o.TrustJournal = true
	rec, err := Recover(context.Background(), path, o)
	if err != nil || len(rec.Reverted) != 1 || len(rec.Problems) == 0 {
		t.Fatalf("trusted recover: %+v %v", rec, err)
	}
	events, _, _ := ReadJournal(path)
	if !strings.Contains(events[3].Msg, "not authenticated") || !strings.Contains(events[3].Msg, ":1: line is not sealed") {
		t.Errorf("the journal does not record that it was trusted: %+v", events[3])
	}
}

// planningExec words its rollback as the real executors do.
type planningExec struct{ *targetstest.Executor }

func (p planningExec) Plan(inj targets.Injection) []string {
	return []string{"ssh " + inj.Member.ID + " inject: start", "ssh " + inj.Member.ID + " rollback: stop " + inj.Attack}
}

// A damaged line in the middle is refused by default; trusted, the rest of
// the journal is recovered, after the person asked agreed to what it runs.
func TestRecoverTrustedAfterConfirmation(t *testing.T) {
	key := testKey(t)
	path := killedRun(t, t.TempDir(), key, false)
	journaltest.Edit(t, path, func(l []string) []string {
		l[5] = "{garbage\n" // web-3's result
		return l
	})
	refused(t, path, key, 6, "damaged line")

	fake := targetstest.NewExecutor("burn@web-1", "burn@web-2")
	o := recoverWith(planningExec{fake}, key)
	o.TrustJournal = true
	var shown []RecoveryPlan
	o.Confirm = func(p RecoveryPlan) bool { shown = append(shown, p); return false }
	before, _ := os.ReadFile(path)
	if _, err := Recover(context.Background(), path, o); !errors.Is(err, ErrNotConfirmed) {
		t.Fatalf("declined recover: %v, want ErrNotConfirmed", err)
	}
	if after, _ := os.ReadFile(path); fake.Rollbacks() != 0 || string(after) != string(before) {
		t.Fatalf("declined recover rolled back %d, changed the journal: %v", fake.Rollbacks(), string(after) != string(before))
	}
	if len(shown) != 1 || len(shown[0].Steps) != 2 || shown[0].Problems[0].Line != 6 {
		t.Fatalf("plan shown: %+v", shown)
	}
	for _, s := range shown[0].Steps {
		if len(s.Calls) != 1 || s.Calls[0] != "ssh "+s.Injection.Member.ID+" rollback: stop burn" {
			t.Errorf("plan for %s: %q, want its rollback alone", s.Injection.Member.ID, s.Calls)
		}
	}

	o.Confirm = func(p RecoveryPlan) bool { return true }
	rec, err := Recover(context.Background(), path, o)
	if err != nil || len(rec.Reverted) != 2 || fake.Active() != 0 {
		t.Fatalf("trusted, confirmed recover: %+v %v", rec, err)
	}
}

package gamedays

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/targetstest"
)

func inj(host string) *targets.Injection {
	return &targets.Injection{RunID: "r1", Attack: "burn", Kind: "cpu", Member: targets.Member{Target: "web", ID: host}, Params: map[string]string{"workers": "1"}, Duration: time.Minute}
}

func yes() *bool { t := true; return &t }

// testKey is a journal key of the test's own, never the user's.
func testKey(t *testing.T) *JournalKey {
	t.Helper()
	k, err := EnsureJournalKey(filepath.Join(t.TempDir(), "state", "gameday", "journal.key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sealedRun writes a journal as gameday run does, sealed with key, in dir
// (whose name is the run id): run.start, a blast.confirmed of the members
// named, then events.
func sealedRun(t *testing.T, dir string, key *JournalKey, members []string, events ...Event) string {
	t.Helper()
	var confirmed []targets.Member
	for _, m := range members {
		confirmed = append(confirmed, inj(m).Member)
	}
	head := []Event{{Type: EvRunStart, RunID: filepath.Base(dir)}, {Type: EvConfirmed, Members: confirmed}}
	path := filepath.Join(dir, JournalName)
	sealedCopy(t, path, key, append(head, events...))
	return path
}

// sealedCopy writes events to a new journal sealed with key, as the run's
// own journal was up to the kill.
func sealedCopy(t *testing.T, path string, key *JournalKey, events []Event) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	j, err := CreateSealedJournal(path, WallClock(), key)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if _, err := j.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

// killedRun writes the journal a run killed mid-attack leaves, in
// dir/r1: web-1 was injected (with state learnt at inject), web-2's intent
// was journalled but the crash came before its result, web-3 was injected
// and rolled back. ended adds a run.end as a finished run has.
func killedRun(t *testing.T, dir string, key *JournalKey, ended bool) string {
	t.Helper()
	withState := inj("web-1")
	withState.State = map[string]string{"pid": "42"}
	events := []Event{
		{Type: EvAttackIntent, Injection: inj("web-1")},
		{Type: EvAttackResult, Injection: withState, OK: yes()},
		{Type: EvAttackIntent, Injection: inj("web-3")},
		{Type: EvAttackResult, Injection: inj("web-3"), OK: yes()},
		{Type: EvRollbackResult, Injection: inj("web-3"), OK: yes()},
		{Type: EvAttackIntent, Injection: inj("web-2")},
	}
	if ended {
		events = append(events, Event{Type: EvRunEnd})
	}
	return sealedRun(t, filepath.Join(dir, "r1"), key, []string{"web-1", "web-2", "web-3"}, events...)
}

func withRollbackErr(e *targetstest.Executor, err error) *targetstest.Executor {
	e.RollbackErr = err
	return e
}

func recoverWith(exec targets.Executor, key *JournalKey) RecoverOptions {
	return RecoverOptions{Key: key, Executor: func(family string) (targets.Executor, error) {
		if family != targets.FamilySSH {
			return nil, errors.New("unexpected family " + family)
		}
		return exec, nil
	}}
}

func TestRecoverRollsBackWhatAKilledRunLeft(t *testing.T) {
	key := testKey(t)
	path := killedRun(t, t.TempDir(), key, false)
	// The kill also cut a line short.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"v":1,"seq":9,"type":"sam`)
	f.Close()

	exec := targetstest.NewExecutor("burn@web-1", "burn@web-2")
	rec, err := Recover(context.Background(), path, recoverWith(exec, key))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Truncated == nil || rec.Truncated.Line != 9 {
		t.Errorf("truncated line: %+v, want line 9", rec.Truncated)
	}
	if len(rec.Pending) != 2 || len(rec.Reverted) != 2 || len(rec.Failed) != 0 || rec.Ended {
		t.Fatalf("pending %d reverted %d failed %d ended %v; want 2, 2, 0, false", len(rec.Pending), len(rec.Reverted), len(rec.Failed), rec.Ended)
	}
	if exec.Active() != 0 || exec.Rollbacks() != 2 {
		t.Errorf("after recover: %d still applied, %d rollbacks; want 0 and 2 (web-3 was already reverted)", exec.Active(), exec.Rollbacks())
	}
	for _, g := range exec.RolledBack() {
		if g.Member.ID == "web-1" && g.State["pid"] != "42" {
			t.Errorf("web-1 rolled back without the state its inject recorded: %+v", g.State)
		}
	}

	checkJournalAfterRecover(t, path, key)
	checkRecoverIsIdle(t, path, exec, key)
}

// checkJournalAfterRecover: the journal of the killed run reads back
// whole and sealed, quotes the cut line in a note, and ends with a
// successful recover that left nothing unreverted.
func checkJournalAfterRecover(t *testing.T, path string, key *JournalKey) {
	t.Helper()
	events, warn, err := ReadJournal(path)
	if err != nil || warn != nil {
		t.Fatalf("journal after recover: %v %v", err, warn)
	}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
	if !strings.Contains(events[8].Msg, `line 9 was incomplete`) || !strings.Contains(events[8].Msg, `\"type\":\"sam`) {
		t.Errorf("the cut line is not quoted in a note: %+v", events[8])
	}
	// What recovery appended is sealed too: the journal is still whole.
	if chk, err := CheckJournal(path, key); err != nil || len(chk.Problems) > 0 {
		t.Errorf("journal after recover: %v, problems %v", err, chk.Problems)
	}
	last := events[len(events)-1]
	if last.Type != EvRecover || last.OK == nil || !*last.OK || last.Source != "recover" {
		t.Errorf("last event %+v, want a successful recover", last)
	}
	if left := Unreverted(events); len(left) != 0 {
		t.Errorf("still unreverted: %v", left)
	}
}

// checkRecoverIsIdle: twice is safe; nothing found, nothing written,
// nothing called.
func checkRecoverIsIdle(t *testing.T, path string, exec *targetstest.Executor, key *JournalKey) {
	t.Helper()
	before, _ := os.ReadFile(path)
	again, err := Recover(context.Background(), path, recoverWith(exec, key))
	if err != nil || !again.Idle() {
		t.Fatalf("second recover: %+v %v", again, err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) || exec.Rollbacks() != 2 {
		t.Errorf("second recover wrote %d bytes, made %d rollbacks", len(after)-len(before), exec.Rollbacks()-2)
	}
}

func TestRecoverRefusesARunStillInProgress(t *testing.T) {
	key := testKey(t)
	dir := filepath.Join(t.TempDir(), "r1")
	path := sealedRun(t, dir, key, []string{"web-1"})
	// The run's own process holds the lock, as CreateJournal takes it.
	live, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(live.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	chk, err := CheckJournal(path, key)
	if err != nil {
		t.Fatal(err)
	}
	j, err := chk.continueJournal(WallClock(), key)
	if err != nil {
		t.Fatal(err)
	}
	j.Append(Event{Type: EvAttackIntent, Injection: inj("web-1")})
	j.Sync()
	exec := targetstest.NewExecutor()
	if _, err := Recover(context.Background(), path, recoverWith(exec, key)); !errors.Is(err, ErrInProgress) {
		t.Fatalf("recover of a live run: %v, want ErrInProgress", err)
	}
	if exec.Rollbacks() != 0 {
		t.Error("rolled back under a live engine")
	}
	j.Close()
	live.Close() // as the process dying does
	rec, err := Recover(context.Background(), path, recoverWith(exec, key))
	if err != nil || len(rec.Reverted) != 1 {
		t.Fatalf("recover after the run ended: %+v %v", rec, err)
	}
}

func TestRecoverFailureIsLoudAndRetried(t *testing.T) {
	key := testKey(t)
	path := killedRun(t, t.TempDir(), key, true)
	exec := withRollbackErr(targetstest.NewExecutor("burn@web-1"), errors.New("host unreachable"))
	rec, err := Recover(context.Background(), path, recoverWith(exec, key))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Failed) != 2 || !strings.Contains(rec.Failed[0].Err, "host unreachable") {
		t.Fatalf("failed: %+v", rec.Failed)
	}
	events, _, _ := ReadJournal(path)
	last := events[len(events)-1]
	if last.Type != EvRecover || last.OK == nil || *last.OK || !strings.Contains(last.Msg, "ROLLBACK INCOMPLETE") || len(last.Failed) != 2 {
		t.Errorf("last event %+v, want a failed recover listing both", last)
	}
	list, err := Unfinished(filepath.Dir(filepath.Dir(path)))
	if err != nil || len(list) != 1 {
		t.Errorf("a run left unreverted is unfinished: %v %v", list, err)
	}
	// Once the host is back, a second recover finishes the job.
	exec.RollbackErr = nil
	rec, err = Recover(context.Background(), path, recoverWith(exec, key))
	if err != nil || len(rec.Reverted) != 2 || exec.Active() != 0 {
		t.Fatalf("retry: %+v %v, %d applied", rec, err, exec.Active())
	}
}

func TestRecoverUnknownKindOrFamily(t *testing.T) {
	key := testKey(t)
	odd := inj("web-1")
	odd.Kind = "teleport"
	aws := inj("i-123")
	aws.Kind = "ec2-stop"
	path := sealedRun(t, filepath.Join(t.TempDir(), "r1"), key, []string{"web-1", "i-123"},
		Event{Type: EvAttackIntent, Injection: odd}, Event{Type: EvAttackIntent, Injection: aws})
	rec, err := Recover(context.Background(), path, recoverWith(targetstest.NewExecutor(), key))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, f := range rec.Failed {
		msgs = append(msgs, f.Err)
	}
	all := strings.Join(msgs, "\n")
	if len(rec.Failed) != 2 || !strings.Contains(all, `unknown attack kind "teleport"`) || !strings.Contains(all, "aws executor: unexpected family aws") {
		t.Errorf("failures:\n%s", all)
	}
}

func TestUnfinished(t *testing.T) {
	runs := t.TempDir()
	sealedRun(t, filepath.Join(runs, "a-killed"), testKey(t), []string{"web-1"}, Event{Type: EvAttackIntent, Injection: inj("web-1")})
	clean := filepath.Join(runs, "b-clean")
	os.MkdirAll(clean, 0o755)
	j, _ := CreateJournal(filepath.Join(clean, JournalName), WallClock())
	j.Append(Event{Type: EvRunStart})
	j.Append(Event{Type: EvRunEnd})
	j.Close()
	os.MkdirAll(filepath.Join(runs, "c-not-a-run"), 0o755)
	got, err := Unfinished(runs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(got[0], "a-killed") {
		t.Errorf("unfinished: %v, want only a-killed", got)
	}
	if p, err := JournalPath(filepath.Join(runs, "c-not-a-run")); err == nil || !strings.Contains(err.Error(), "not a run directory") {
		t.Errorf("JournalPath of a non-run: %q %v", p, err)
	}
}

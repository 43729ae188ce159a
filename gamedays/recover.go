package gamedays

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gameday/gameday/targets"
)

// EvRecover closes a recovery in the journal: what it found and what it
// reverted. A recover event with OK set marks the run as finished, so a
// second recovery finds nothing to do.
const EvRecover = "recover"

// JournalName is the journal's file name inside a run directory.
const JournalName = "journal.jsonl"

// ErrInProgress says the run's own gameday process still holds its journal:
// rolling its attacks back from under it would fight the engine that owns them.
var ErrInProgress = errors.New("the run is still in progress (its gameday process holds the journal); abort it there instead")

// RecoverOptions wire a recovery to the targets.
type RecoverOptions struct {
	// Executor returns the executor of a target family ("ssh", "aws"). It is
	// called once for each family that has something to roll back, so a
	// family that is not needed is never configured.
	Executor func(family string) (targets.Executor, error)
	// Catalogue maps an attack kind to its family; nil means targets.Default().
	Catalogue *targets.Catalogue
	Clock     Clock
	// Timeout bounds all the rollbacks together; default 60s.
	Timeout time.Duration
	// OnEvent sees every event recovery appends, after it is journalled.
	OnEvent func(Event)
	Version string
	// Key authenticates the journal (see CheckJournal) and seals what
	// recovery appends; nil trusts no journal.
	Key *JournalKey
	// TrustJournal acts on a journal that is not authenticated or does not
	// hold together, for a person who has read it.
	TrustJournal bool
	// Confirm is shown what recovery is about to run, on which member, and
	// says whether to go on; nil goes on.
	Confirm func(RecoveryPlan) bool
}

// Recovery is what a recovery found and did.
type Recovery struct {
	Journal string
	// Truncated is the incomplete last line the run left, cut off before
	// appending so the journal stays readable; nil when there was none.
	Truncated *TruncatedError
	// Ended says the run had finished (run.end, or an earlier recovery);
	// Recovered that an earlier recovery finished it.
	Ended     bool
	Recovered bool
	Pending   []targets.Injection // maybe applied when recovery began
	Reverted  []targets.Injection
	Failed    []Failure // still maybe applied: the loudest result
	// Problems are why the journal is not trusted; recovery acted on it
	// anyway only with TrustJournal.
	Problems []Problem
}

// Failure is an injection recovery could not roll back, and why.
type Failure struct {
	Injection targets.Injection
	Err       string
}

// Idle says the journal needed nothing: no attack left, the run ended, and
// nothing was written.
func (r Recovery) Idle() bool {
	return r.Ended && r.Truncated == nil && len(r.Pending) == 0
}

// Unreverted lists the injections whose intent is in the journal and whose
// rollback was not confirmed, in injection order (State.Unreverted).
func Unreverted(events []Event) []targets.Injection {
	return Fold(events).Unreverted()
}

// JournalPath accepts a run directory or a journal file and returns the journal.
func JournalPath(p string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	if st.IsDir() {
		j := filepath.Join(p, JournalName)
		if _, err := os.Stat(j); err != nil {
			return "", fmt.Errorf("%s: not a run directory: %w", p, err)
		}
		return j, nil
	}
	return p, nil
}

// Unfinished lists the journals under runsDir (one run directory each) that
// need a recovery: the run never ended, or something was left unreverted.
// Journals that cannot be read are listed too, so the caller reports them
// rather than passing over them in silence.
func Unfinished(runsDir string) ([]string, error) {
	names, err := RunDirs(runsDir)
	if err != nil {
		return nil, fmt.Errorf("scan runs directory: %w", err)
	}
	var out []string
	for _, name := range names {
		path := filepath.Join(runsDir, name, JournalName)
		events, warn, err := ReadJournal(path)
		st := Fold(events)
		if err != nil || warn != nil || !st.Finished() || len(st.Unreverted()) > 0 {
			out = append(out, path)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Recover rolls back every injection of the journal at path that may still
// be applied, and appends what it did to that journal. It is safe to run
// again: rollbacks are idempotent, and a second run finds the first one's
// confirmations and does nothing. It refuses (ErrInProgress) while the run's
// own process is alive.
func Recover(ctx context.Context, path string, o RecoverOptions) (Recovery, error) {
	if o.Clock == nil {
		o.Clock = WallClock()
	}
	if o.Catalogue == nil {
		o.Catalogue = targets.Default()
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	rec := Recovery{Journal: path}
	lock, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return rec, fmt.Errorf("open journal: %w", err)
	}
	// Held to the end, so two recoveries of one run cannot interleave.
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return rec, fmt.Errorf("%s: %w", path, ErrInProgress)
		}
		return rec, fmt.Errorf("lock journal %s: %w", path, err)
	}

	chk, err := CheckJournal(path, o.Key)
	if err != nil {
		return rec, err
	}
	events := chk.Events
	rec.Problems = chk.Problems
	st := Fold(events)
	rec.Ended, rec.Recovered = st.Finished(), st.Recovered && !st.Ended
	rec.Pending = st.Unreverted()
	rec.Truncated = chk.Truncated
	if rec.Idle() {
		return rec, nil
	}
	if err := o.admit(rec); err != nil {
		return rec, err
	}
	var dropped []byte
	if te := rec.Truncated; te != nil {
		// Appending after a partial line would turn it into a damaged line
		// in the middle of the journal; it is cut off and quoted in a note.
		dropped, err = readTail(lock, te.Offset)
		if err != nil {
			return rec, err
		}
		if err := lock.Truncate(te.Offset); err != nil {
			return rec, fmt.Errorf("cut the incomplete last line of %s: %w", path, err)
		}
	}

	j, err := chk.continueJournal(o.Clock, o.Key)
	if err != nil {
		return rec, err
	}
	emit := func(ev Event) {
		ev.Source = "recover"
		ev, err := j.Append(ev)
		if err == nil && o.OnEvent != nil {
			o.OnEvent(ev)
		}
	}
	if rec.Truncated != nil {
		emit(Event{Type: EvNote, Msg: fmt.Sprintf("line %d was incomplete (the run was killed while writing it) and was cut off: %s",
			rec.Truncated.Line, strconv.Quote(string(clip(dropped, 512))))})
	}
	if len(rec.Problems) > 0 {
		emit(Event{Type: EvNote, Msg: "recovered from a journal that was not authenticated, trusted by the person recovering: " + (&UntrustedError{Path: path, Problems: rec.Problems}).Error()})
	}
	emit(Event{Type: EvNote, Msg: fmt.Sprintf("recovery started by gameday %s: %d injection(s) may still be applied", o.Version, len(rec.Pending))})

	rec.Reverted, rec.Failed = rollbackEach(ctx, rec.Pending, o, emit)

	ok := len(rec.Failed) == 0
	msg := fmt.Sprintf("recovered: %d injection(s) rolled back", len(rec.Reverted))
	var failed []targets.Injection
	if !ok {
		var where []string
		for _, f := range rec.Failed {
			failed = append(failed, f.Injection)
			where = append(where, fmt.Sprintf("%s on %s: %s", f.Injection.Attack, f.Injection.Member.ID, f.Err))
		}
		msg = fmt.Sprintf("ROLLBACK INCOMPLETE on %d of %d: %s", len(rec.Failed), len(rec.Pending), strings.Join(where, "; "))
	}
	emit(Event{Type: EvRecover, OK: &ok, Msg: msg, Failed: failed})
	if err := j.Close(); err != nil {
		return rec, err
	}
	return rec, nil
}

// rollbackEach reverts every injection at once, within the timeout, and
// journals an intent and a result for each.
func rollbackEach(ctx context.Context, pending []targets.Injection, o RecoverOptions, emit func(Event)) (reverted []targets.Injection, failed []Failure) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	execs := map[string]targets.Executor{}
	execErr := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, inj := range pending {
		fail := func(err string) {
			mu.Lock()
			failed = append(failed, Failure{Injection: inj, Err: err})
			mu.Unlock()
		}
		k, ok := o.Catalogue.Spec(inj.Kind)
		if !ok {
			fail(fmt.Sprintf("unknown attack kind %q: no executor knows how to revert it", inj.Kind))
			continue
		}
		exec, err := execs[k.Family], execErr[k.Family]
		if exec == nil && err == nil {
			if o.Executor == nil {
				err = fmt.Errorf("no executor for %s targets", k.Family)
			} else {
				exec, err = o.Executor(k.Family)
			}
			execs[k.Family], execErr[k.Family] = exec, err
		}
		if err != nil {
			fail(fmt.Sprintf("%s executor: %v", k.Family, err))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			emit(Event{Type: EvRollbackIntent, Injection: &inj, Msg: "recover"})
			res, err := exec.Rollback(ctx, inj)
			ok := err == nil
			if err != nil && res.Err == "" {
				res.Err = err.Error()
			}
			// After a crash a fault that is gone was most likely ended by
			// its own dead man's switch, or never applied: no claim.
			res.Gone = false
			emit(Event{Type: EvRollbackResult, Injection: &inj, Result: &res, OK: &ok})
			mu.Lock()
			defer mu.Unlock()
			if ok {
				reverted = append(reverted, inj)
			} else {
				failed = append(failed, Failure{Injection: inj, Err: res.Err})
			}
		}()
	}
	wg.Wait()
	return reverted, failed
}

func readTail(f *os.File, from int64) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b := make([]byte, st.Size()-from)
	if _, err := f.ReadAt(b, from); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read the incomplete last line of %s: %w", f.Name(), err)
	}
	return b, nil
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

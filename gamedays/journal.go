package gamedays

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// SchemaVersion is written into every journal event.
const SchemaVersion = 1

// Journal is the append-only record of a game day: one JSON event per line.
//
// Batching: events that announce an action or mark a point recovery relies
// on (Event.MustSync) are on disk before Append returns. Concurrent callers
// share fsyncs (group commit): while one fsync runs, others append, and the
// next fsync covers them all, so 200 rollbacks journalled at once cost a few
// fsyncs, not 200. Other events (metric samples, notes) are handed to the OS
// every flushEvery events, which survives a killed process, and fsynced
// every syncEvery events, which bounds what a machine crash can lose.
type Journal struct {
	mu      sync.Mutex
	synced  *sync.Cond // broadcast when an fsync ends
	f       *os.File
	w       *bufio.Writer
	path    string
	seq     int64 // last event appended
	onDisk  int64 // last event known fsynced
	syncing bool  // an fsync is running without the lock
	pending int   // events in the buffer, not yet written to the file
	clock   Clock
	err     error       // first write error; the journal refuses further writes after it
	key     *JournalKey // seals each line; nil writes an unsealed journal
	mac     string      // the last line's MAC, which the next one chains from
}

// flushEvery bounds the events a killed process can lose; syncEvery those a
// machine crash can lose. Intents are never among them.
const (
	flushEvery = 64
	syncEvery  = 1024
)

func newJournal(f *os.File, path string, clock Clock) *Journal {
	j := &Journal{f: f, w: bufio.NewWriterSize(f, 64<<10), path: path, clock: clock}
	j.synced = sync.NewCond(&j.mu)
	return j
}

// CreateJournal creates a new journal file; it refuses to overwrite one.
// Its lines are not sealed: it reads and reports like any other, but
// recover does not trust it (see CreateSealedJournal).
func CreateJournal(path string, clock Clock) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	// The lock tells gameday recover that this run is alive: it must not
	// roll back attacks a running engine still owns. The kernel drops it
	// when the process dies, however it dies.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock journal %s: %w", path, err)
	}
	return newJournal(f, path, clock), nil
}

// Path is where the journal is written.
func (j *Journal) Path() string { return j.path }

// Append records an event, filling its version, sequence and time. Events
// that announce an action (see Event.MustSync) are on disk when it returns.
func (j *Journal) Append(e Event) (Event, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return e, j.err
	}
	j.seq++
	e.V, e.Seq = SchemaVersion, j.seq
	if e.Time.IsZero() {
		e.Time = j.clock.Now().UTC()
	}
	line, err := json.Marshal(e)
	if err != nil {
		j.seq--
		return e, fmt.Errorf("journal %s: encode %s event: %w", j.path, e.Type, err)
	}
	if j.key != nil {
		line, j.mac = j.key.seal(j.mac, line)
	}
	line = append(line, '\n')
	if _, err := j.w.Write(line); err != nil {
		j.err = fmt.Errorf("journal %s: write: %w", j.path, err)
		return e, j.err
	}
	j.pending++
	switch {
	case e.MustSync() || j.seq-j.onDisk >= syncEvery:
		return e, j.syncToLocked(j.seq)
	case j.pending >= flushEvery:
		return e, j.flushLocked()
	}
	return e, nil
}

// Sync flushes and fsyncs everything appended so far.
func (j *Journal) Sync() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.syncToLocked(j.seq)
}

// syncToLocked returns once event seq is on disk. The fsync runs without
// the lock so that other events can be appended meanwhile; whoever finds an
// fsync running waits for it and, if it did not cover them, runs the next.
func (j *Journal) syncToLocked(seq int64) error {
	for j.onDisk < seq {
		if j.err != nil {
			return j.err
		}
		if j.syncing {
			j.synced.Wait()
			continue
		}
		if err := j.flushLocked(); err != nil {
			return err
		}
		upTo := j.seq
		j.syncing = true
		j.mu.Unlock()
		err := j.f.Sync()
		j.mu.Lock()
		j.syncing = false
		if err != nil {
			j.err = fmt.Errorf("journal %s: sync: %w", j.path, err)
		} else {
			j.onDisk = max(j.onDisk, upTo)
		}
		j.synced.Broadcast()
	}
	return j.err
}

// flushLocked hands buffered events to the OS: they survive the process.
func (j *Journal) flushLocked() error {
	if j.err != nil {
		return j.err
	}
	if err := j.w.Flush(); err != nil {
		j.err = fmt.Errorf("journal %s: write: %w", j.path, err)
		return j.err
	}
	j.pending = 0
	return nil
}

// Close syncs and closes the journal.
func (j *Journal) Close() error {
	err := j.Sync()
	j.mu.Lock()
	defer j.mu.Unlock()
	if cerr := j.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// TruncatedError says the journal's last line was cut short, as a crash leaves
// it. Everything before it was read.
type TruncatedError struct {
	Path   string
	Line   int
	Offset int64 // where the incomplete line starts, so it can be cut off before appending
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("%s:%d: last line is incomplete (the run was probably killed while writing); ignored", e.Path, e.Line)
}

// ReadJournal reads every event. A truncated last line is tolerated and
// reported as a *TruncatedError in warn; a damaged line elsewhere is an error
// naming it.
func ReadJournal(path string) (events []Event, warn error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()
	return readJournal(path, f)
}

func readJournal(path string, r io.Reader) ([]Event, error, error) {
	var events []Event
	var warn error
	err := scanJournal(path, r, func(line int, raw []byte, complete bool, start int64) error {
		var e Event
		if jerr := json.Unmarshal(raw, &e); jerr != nil {
			if !complete {
				warn = &TruncatedError{Path: path, Line: line, Offset: start}
				return nil
			}
			return fmt.Errorf("%s:%d: damaged journal line: %v", path, line, jerr)
		}
		if e.V > SchemaVersion {
			return fmt.Errorf("%s:%d: journal schema version %d is newer than this gameday reads (%d)", path, line, e.V, SchemaVersion)
		}
		events = append(events, e)
		return nil
	})
	return events, warn, err
}

// scanJournal calls fn with each non-blank line of a journal, trimmed, and
// where it starts. complete is false for a last line without its newline,
// which is all a crash can leave unfinished. An error from fn stops it.
func scanJournal(path string, r io.Reader, fn func(line int, raw []byte, complete bool, start int64) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var off int64
	for line := 1; ; line++ {
		raw, err := br.ReadBytes('\n')
		start := off
		off += int64(len(raw))
		if len(raw) == 0 && errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read journal %s: %w", path, err)
		}
		complete := len(raw) > 0 && raw[len(raw)-1] == '\n'
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 {
			if err := fn(line, raw, complete, start); err != nil {
				return err
			}
		}
		if !complete {
			return nil
		}
	}
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

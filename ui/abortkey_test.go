package ui

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/targetstest"
	"github.com/gameday/gameday/ui/keys/keystest"
)

// slowJournal is a journal whose synced writes wait: on a gate while it is
// closed, or a fixed delay, as a disk whose fsync hangs would.
type slowJournal struct {
	*gamedays.Journal
	delay time.Duration
	gate  chan struct{}
	mu    sync.Mutex
	n     int
}

func (s *slowJournal) Append(ev gamedays.Event) (gamedays.Event, error) {
	if ev.MustSync() {
		if s.gate != nil {
			<-s.gate
		}
		time.Sleep(s.delay)
	}
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	return s.Journal.Append(ev)
}

func engineWithJournal(tb testing.TB, rec gamedays.Recorder) *gamedays.Engine {
	rb := parseRunbook(tb)
	return gamedays.New(rb, gamedays.Options{RunID: "r1", Journal: rec, Clock: gamedays.NewManualClock(t0), Catalogue: targets.Default(),
		Resolvers: map[string]targets.Resolver{"ssh": targetstest.Resolver{Port: "22"}},
		Executors: map[string]targets.Executor{"ssh": &targetstest.Executor{}}})
}

func newSlowJournal(tb testing.TB, delay time.Duration) *slowJournal {
	j, err := gamedays.CreateJournal(filepath.Join(tb.TempDir(), gamedays.JournalName), gamedays.NewManualClock(t0))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { j.Close() })
	return &slowJournal{Journal: j, delay: delay}
}

// The abort key is handled by Update at once, pressed once or again, even
// while the journal's disk holds every synced write: the console hands the
// intent over and never writes itself.
func TestAbortKeyNeverWaitsOnTheDisk(t *testing.T) {
	sj := newSlowJournal(t, 0)
	sj.gate = make(chan struct{})
	eng := engineWithJournal(t, sj)
	c := New(Config{Runbook: parseRunbook(t), Version: "test"})
	m := c.newModel(eng, nil)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Update(keystest.Press("ctrl+x"))
		m.Update(keystest.Press("ctrl+x"))
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Update waited on a journal whose synced writes are held")
	}
	close(sj.gate)
	eng.Flush() // the repeated abort reaches the journal once the disk answers
	sj.mu.Lock()
	defer sj.mu.Unlock()
	if sj.n == 0 {
		t.Error("the repeated abort was never journalled")
	}
}

// BenchmarkAbortKeySlowFsync: Update handling the abort key while every
// synced journal write takes 500ms.
func BenchmarkAbortKeySlowFsync(b *testing.B) {
	eng := engineWithJournal(b, newSlowJournal(b, 500*time.Millisecond))
	c := New(Config{Runbook: parseRunbook(b), Version: "test"})
	m := c.newModel(eng, nil)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	b.ResetTimer()
	for range b.N {
		m.Update(keystest.Press("ctrl+x"))
	}
	b.StopTimer()
}

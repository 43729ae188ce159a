package ui

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/targets"
)

// hourLong is the observe screen an hour into a game day: 2 panels × 3
// series × 3,600 one-second points, at 200x50.
func hourLong(b *testing.B) *harness {
	b.Helper()
	rb := parseRunbook(b)
	evs, _ := scriptAt(stObserve)
	now := t0.Add(3599 * time.Second)
	obs := newStaticObserver(rb, instances, 3600, now, true)
	c := New(Config{Runbook: rb, File: "checkout.yaml", RunDir: "/var/lib/gameday/r1", Metrics: obs, Version: "test"})
	c.clock = func() time.Time { return now }
	hs := &harness{c: c, m: c.newModel(&fakeSender{}, nil), sent: &fakeSender{}, now: now}
	hs.m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	hs.m.Update(eventsMsg(evs))
	msg := hs.m.refreshReq().read()
	if n := len(obs.Points("p95", "web-1", msg.from, msg.to)); n != 3600 {
		b.Fatalf("window holds %d points, want 3600", n)
	}
	hs.m.Update(msg)
	return hs
}

// BenchmarkObserveView is one frame of the observe screen: View alone, the
// charts drawn at the last refresh.
func BenchmarkObserveView(b *testing.B) {
	hs := hourLong(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = hs.m.View()
	}
}

// BenchmarkObserveFrameWithNewData is a frame that follows a refresh: the
// charts are redrawn from the downsampled columns, then View.
func BenchmarkObserveFrameWithNewData(b *testing.B) {
	hs := hourLong(b)
	msg := hs.m.refreshReq().read()
	b.ReportAllocs()
	for b.Loop() {
		hs.m.handleRefresh(msg)
		_ = hs.m.View()
	}
}

// BenchmarkRefreshRead is the refresh command, off the update loop: read
// 6 × 3,600 points from the observer, downsample, evaluate the checks.
func BenchmarkRefreshRead(b *testing.B) {
	hs := hourLong(b)
	req := hs.m.refreshReq()
	b.ReportAllocs()
	for b.Loop() {
		_ = req.read()
	}
}

// feed plays engine events at 10 a second for the given simulated time,
// through OnEvent and the queue as the engine would, rendering a frame and
// refreshing every five simulated seconds.
func feed(tb testing.TB, hs *harness, from, seconds int) {
	tb.Helper()
	web := targets.Member{Target: "web", ID: "web-2"}
	inj := &targets.Injection{Attack: "slow", Member: web}
	for sec := from; sec < from+seconds; sec++ {
		at := t0.Add(time.Duration(sec) * time.Second)
		for k := range 10 {
			var ev gamedays.Event
			switch k {
			case 0:
				ev = gamedays.Event{Type: gamedays.EvMetricsError, Msg: "panel p95: connection refused"}
			case 1:
				ev = gamedays.Event{Type: gamedays.EvNote, Kind: "note", Author: "ana", Msg: "note " + strconv.Itoa(sec)}
			case 2:
				ev = gamedays.Event{Type: gamedays.EvAttackIntent, Injection: inj}
			case 3:
				ev = gamedays.Event{Type: gamedays.EvAttackResult, Injection: inj, OK: yes(), Result: &targets.Result{Output: "applied " + strconv.Itoa(sec)}}
			case 4:
				ev = gamedays.Event{Type: gamedays.EvRollbackIntent, Injection: inj, Msg: "duration over"}
			case 5:
				ev = gamedays.Event{Type: gamedays.EvRollbackResult, Injection: inj, OK: yes()}
			default:
				ev = gamedays.Event{Type: gamedays.EvNote, Msg: "engine remark " + strconv.Itoa(sec*10+k)}
			}
			ev.Time = at
			hs.c.OnEvent(ev)
		}
		hs.m.Update(eventsMsg(hs.c.q.take()))
		if sec%5 == 0 {
			hs.m.Update(hs.m.refreshReq().read())
		}
		_ = hs.m.View()
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// Ten events a second for two simulated hours: the heap after the second
// hour is what it was after the first, because everything the console keeps
// is bounded (the journal keeps the rest).
func TestEventsAtTenPerSecondDoNotGrowMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 72,000 events")
	}
	hs := newHarness(t, stObserve, 200, 50)
	hs.press("t") // the timeline open too, rebuilt as events arrive
	feed(t, hs, 0, 3600)
	warm := heap()
	feed(t, hs, 3600, 3600)
	after := heap()
	t.Logf("heap after 1h: %d KiB, after 2h: %d KiB", warm>>10, after>>10)
	if after > warm+warm/4+1<<20 {
		t.Errorf("heap grew from %d KiB to %d KiB over the second hour", warm>>10, after>>10)
	}
	if n := len(hs.m.run.timeline); n != maxTimeline {
		t.Errorf("timeline holds %d entries, want the bound %d", n, maxTimeline)
	}
	if n := len(hs.m.run.notes); n != maxNotes {
		t.Errorf("notes hold %d, want the bound %d", n, maxNotes)
	}
}

// BenchmarkTenEventsASecond is one simulated second: ten events through the
// queue and the update loop, and a frame.
func BenchmarkTenEventsASecond(b *testing.B) {
	hs := hourLong(b)
	sec := 0
	b.ReportAllocs()
	for b.Loop() {
		feed(b, hs, sec, 1)
		sec++
	}
}

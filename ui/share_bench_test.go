package ui

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/ui/serve"
)

// attach joins n observers to c over real SSH sessions on loopback, each
// with its own pty, and waits until every one has drawn the observe screen.
func attach(b *testing.B, c *Console, n int) {
	b.Helper()
	// hourLong fed the facilitator's model directly; late joiners replay
	// the same game day from the history.
	evs, _ := scriptAt(stObserve)
	c.mu.Lock()
	for _, ev := range evs {
		c.history.add(ev)
	}
	c.mu.Unlock()
	keys := make([]keyed, n)
	rb := c.cfg.Runbook
	rb.Roles.Observers = nil
	for i := range keys {
		keys[i] = newKey(b)
		rb.Roles.Observers = append(rb.Roles.Observers, runbook.Person{Name: fmt.Sprintf("obs%02d", i), Key: keys[i].pub})
	}
	srv, err := serve.Start(serve.Options{Addr: "127.0.0.1:0", HostKey: filepath.Join(b.TempDir(), "host_key"), Roles: rb.Roles,
		Console: c.Sessions(&fakeSender{})})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	for _, k := range keys {
		joinAt(b, srv.Addr(), k.signer).shows("OBSERVE")
	}
}

// BenchmarkTenEventsASecondTwentyObservers is BenchmarkTenEventsASecond
// (ten events through OnEvent, the facilitator's update loop and a frame)
// with twenty observers attached over SSH, each rendering its own console
// from the same events. Compare the two for what sharing costs the
// facilitator.
func BenchmarkTenEventsASecondTwentyObservers(b *testing.B) {
	hs := hourLong(b)
	attach(b, hs.c, 20)
	sec := 0
	b.ReportAllocs()
	for b.Loop() {
		feed(b, hs, sec, 1)
		sec++
	}
}

// BenchmarkOnEventTwentyObservers is what the engine pays per event with
// twenty observers attached and rendering: OnEvent runs on the engine's
// goroutine. It reports the 99th percentile too.
func BenchmarkOnEventTwentyObservers(b *testing.B) {
	hs := hourLong(b)
	attach(b, hs.c, 20)
	var took []time.Duration
	i := 0
	for b.Loop() {
		ev := gamedays.Event{Type: gamedays.EvNote, Kind: "note", Author: "ana", Msg: fmt.Sprintf("note %d", i), Time: t0.Add(time.Duration(i) * time.Millisecond)}
		start := time.Now()
		hs.c.OnEvent(ev)
		took = append(took, time.Since(start))
		i++
		// The facilitator's loop drains its queue as it would at a frame.
		if i%10 == 0 {
			hs.c.q.take()
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds()), "p99-ns/event")
	b.ReportMetric(float64(took[len(took)-1].Nanoseconds()), "max-ns/event")
}

package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/ui/keys/keystest"
)

// fleetMembers is how many members the fleet fixtures have, and every how
// many-th member's preflight fails (27 of 1,000).
const (
	fleetMembers = 1000
	fleetFailed  = 37
)

// fleetScript is scriptAt(to) on a fleet of n members, all selected: each
// event about web-2 happens to every member, and fleetFailed of them fail
// their preflight (the script's own preflight failure aside).
func fleetScript(n int, to stage) ([]gamedays.Event, time.Time) {
	evs, now := scriptAt(to)
	members := make([]targets.Member, n)
	for i := range members {
		members[i] = targets.Member{Target: "web", ID: fmt.Sprintf("web-%d", i+1), Addr: fmt.Sprintf("10.0.%d.%d:22", i/250, i%250+1)}
	}
	var out []gamedays.Event
	for _, ev := range evs {
		switch {
		case ev.Type == gamedays.EvResolved || ev.Type == gamedays.EvSelected:
			ev.Members = members
			out = append(out, ev)
		case ev.Injection != nil && ev.Injection.Member.ID == "web-2":
			for i, m := range members {
				e := ev
				inj := *ev.Injection
				inj.Member = m
				e.Injection = &inj
				if e.Type == gamedays.EvPreflight && e.OK != nil && *e.OK && i%(n/fleetFailed) == 0 && i/(n/fleetFailed) < fleetFailed {
					e.OK, e.Msg = no(), "host "+m.ID+": authentication as root failed: check that user root accepts your key"
				}
				out = append(out, e)
			}
		default:
			out = append(out, ev)
		}
	}
	for i := range out {
		out[i].Seq = int64(i + 1)
	}
	return out, now
}

func fleetHarness(tb testing.TB, to stage) *harness {
	tb.Helper()
	rb := parseRunbook(tb)
	evs, now := fleetScript(fleetMembers, to)
	c := New(Config{Runbook: rb, File: "checkout.yaml", RunDir: "/var/lib/gameday/r1", Metrics: newStaticObserver(rb, instances, 120, now, false), Version: "test"})
	c.clock = func() time.Time { return now }
	fs := &fakeSender{}
	hs := &harness{c: c, m: c.newModel(fs, nil), sent: fs, now: now}
	hs.m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	hs.m.Update(eventsMsg(evs))
	hs.m.Update(hs.m.refreshReq().read())
	return hs
}

// BenchmarkFleetView is one frame of each screen of a game day on 1,000
// members at 200x50, and of the timeline over it. Goal: under 2 ms.
func BenchmarkFleetView(b *testing.B) {
	for _, s := range []struct {
		name     string
		to       stage
		timeline bool
	}{
		{"blast", stBlast, false},
		{"preflight-failed", stPreflightFailed, false},
		{"run", stRun, false},
		{"observe", stObserve, false},
		{"aborted", stAborted, false},
		{"conclude", stConclude, false},
		{"observe-timeline", stObserve, true},
	} {
		b.Run(s.name, func(b *testing.B) {
			hs := fleetHarness(b, s.to)
			if s.timeline {
				hs.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("t")})
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = hs.m.View()
			}
		})
	}
}

// At 1,000 members the blast radius counts each target's preflights, puts
// the failures first, scrolls, and / shows the failures alone.
func TestFleetBlastRadiusFailuresFirstScrollAndFilter(t *testing.T) {
	hs := fleetHarness(t, stBlast)
	v := hs.m.View()
	if !strings.Contains(v, "web: 1000 of 1000 selected (seed 3), preflight 963 ok, 37 FAILED") {
		t.Fatalf("no per-target count of the preflights:\n%s", v)
	}
	rows := tableRows(v)
	if len(rows) < 3 || !strings.Contains(rows[0], "web-1 ") || !strings.Contains(rows[0], "FAILED") || !strings.Contains(rows[1], "web-28 ") {
		t.Fatalf("the failures are not first:\n%s", v)
	}
	shown := len(rows)
	key := func(k string) { hs.m.Update(keystest.Press(k)) }
	key("pgdown")
	rows = tableRows(hs.m.View())
	if len(rows) == 0 || strings.Contains(rows[0], "web-1 ") || !strings.Contains(hs.m.View(), fmt.Sprintf("rows %d–", shown)) {
		t.Fatalf("page down did not scroll:\n%s", hs.m.View())
	}
	key("/")
	v = hs.m.View()
	rows = tableRows(v)
	if !strings.Contains(v, "rows 1–") || !strings.Contains(v, "of 37: members with a problem only (1000 in all)") {
		t.Fatalf("the filter does not say what it hides:\n%s", v)
	}
	for _, r := range rows {
		if !strings.Contains(r, "FAILED") {
			t.Errorf("the filter shows a member whose preflight passed: %s", r)
		}
	}
	key("/")
	if rows = tableRows(hs.m.View()); len(rows) != shown || !strings.Contains(rows[0], "web-1 ") {
		t.Errorf("/ again does not show every member from the top:\n%s", hs.m.View())
	}
}

// At 1,000 injections the attacks table counts each attack's members by
// state and scrolls; the abort's table scrolls and / shows the failed
// rollbacks alone.
func TestFleetAttacksCountAndScroll(t *testing.T) {
	hs := fleetHarness(t, stObserve)
	v := hs.m.View()
	if !strings.Contains(v, "slow on 1000 member(s) of web: 1000 ACTIVE") || !strings.Contains(v, "rows 1–") {
		t.Fatalf("no per-attack count of the states, or no scrolling:\n%s", v)
	}
	hs.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/")})
	if v = hs.m.View(); !strings.Contains(v, "no rows: members with a problem only (1000 in all)") {
		t.Fatalf("the filter does not say it hides every healthy member:\n%s", v)
	}

	hs = fleetHarness(t, stAborted)
	hs.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/")})
	if v = hs.m.View(); !strings.Contains(v, "of 1000: members with a problem only (1000 in all)") || !strings.Contains(v, "0 of 1000 reverted") {
		t.Fatalf("the abort's table does not filter:\n%s", v)
	}
}

// tableRows are the lines of the member or attack table: those that start
// with the target or attack name.
func tableRows(view string) []string {
	var out []string
	for _, l := range strings.Split(view, "\n") {
		if strings.HasPrefix(l, "web ") || strings.HasPrefix(l, "slow ") {
			out = append(out, l)
		}
	}
	return out
}

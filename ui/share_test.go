package ui

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	gossh "golang.org/x/crypto/ssh"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/ui/serve"
)

// keyed is a participant's key pair: the public half for the runbook, the
// signer for their SSH client.
type keyed struct {
	pub    string
	signer gossh.Signer
}

func newKey(t testing.TB) keyed {
	t.Helper()
	s := e2e.Key(t)
	return keyed{pub: e2e.AuthorizedKey(s.PublicKey()), signer: s}
}

// room is a served game day: the facilitator's console on a pipe (live)
// and an SSH server whose sessions join it.
type room struct {
	*live
	srv  *serve.Server
	keys map[string]keyed
}

// newRoom gives alice the facilitator, bob the scribe, carol and dave
// observers (dave a safety officer) and rita a responder.
func newRoom(t *testing.T, drill bool) *room {
	t.Helper()
	r := &room{keys: map[string]keyed{}}
	for _, n := range []string{"alice", "bob", "carol", "dave", "rita", "eve"} {
		r.keys[n] = newKey(t)
	}
	p := func(n string) runbook.Person { return runbook.Person{Name: n, Key: r.keys[n].pub} }
	r.live = newLiveWith(t, func(rb *runbook.Runbook, cfg *Config) {
		alice, bob := p("alice"), p("bob")
		rb.Roles = runbook.Roles{Facilitator: &alice, Scribe: &bob, Observers: []runbook.Person{p("carol"), p("dave")},
			Responders: []runbook.Person{p("rita")}, SafetyOfficers: []string{"dave"}}
		rb.Drill = runbook.Drill{Allowed: drill, Hints: []runbook.Hint{{Text: "look at p95 per instance"}}}
		cfg.Shared, cfg.Drill, cfg.Author = true, drill, "alice"
	})
	srv, err := serve.Start(serve.Options{Addr: "127.0.0.1:0", HostKey: filepath.Join(t.TempDir(), "host_key"),
		Roles: r.c.cfg.Runbook.Roles, Console: r.c.Sessions(r.eng)})
	if err != nil {
		t.Fatal(err)
	}
	r.srv = srv
	t.Cleanup(func() { srv.Close() })
	return r
}

// terminal is one participant's ssh session with a pty.
type terminal struct {
	t      testing.TB
	client *gossh.Client
	conn   net.Conn
	in     io.WriteCloser
	out    *e2e.Screen
}

func (r *room) join(t *testing.T, name string) *terminal {
	t.Helper()
	return joinAt(t, r.srv.Addr(), r.keys[name].signer)
}

func joinAt(t testing.TB, addr string, signer gossh.Signer) *terminal {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cc, chans, reqs, err := gossh.NewClientConn(conn, addr, e2e.Participant("gameday", signer))
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	client := gossh.NewClient(cc, chans, reqs)
	in, out := e2e.Shell(t, client, "xterm")
	term := &terminal{t: t, client: client, conn: conn, in: in, out: out}
	t.Cleanup(func() { client.Close() })
	return term
}

func (tm *terminal) press(s string) {
	tm.t.Helper()
	e2e.Type(tm.t, tm.in, s)
}

// shows waits until the participant's screen has drawn text.
func (tm *terminal) shows(text string) {
	tm.t.Helper()
	tm.out.WaitText(tm.t, 20*time.Second, "the participant", text)
}

// journalled says whether the journal has an event that matches, waiting a
// little for it: notes are written without a sync.
func (l *live) journalled(t *testing.T, match func(gamedays.Event) bool) bool {
	t.Helper()
	for range 50 {
		events, _, err := gamedays.ReadJournal(l.journal)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if match(ev) {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// An observer watches: enter and Y are refused with the reason, on their
// screen, and the engine never hears them.
func TestObserverPhaseAndConfirmKeysAreRefused(t *testing.T) {
	r := newRoom(t, false)
	carol := r.join(t, "carol")
	carol.shows("you: carol (observer)")
	r.until("the hypothesis", r.phaseIs(gamedays.PhaseHypothesis))
	carol.shows("HYPOTHESIS")
	carol.press("\r")
	carol.shows("refused: only the facilitator moves the game day on")
	r.shows("online: carol")
	r.press("\r")
	r.until("the blast radius", r.phaseIs(gamedays.PhaseBlastRadius))
	r.shows("Press Y to confirm")
	carol.shows("The facilitator confirms the blast radius")
	carol.press("Y")
	carol.shows("refused: only the facilitator confirms the blast radius; carol is an observer")
	carol.press("n")
	carol.shows("refused: observers watch; ask the scribe to note it")
	carol.press("\x18")
	carol.shows("only the facilitator and the runbook's safety officers can abort")
	if r.eng.Phase() != gamedays.PhaseBlastRadius || r.exec.Injects() != 0 {
		t.Fatalf("an observer's keys moved the game day: phase %s, %d injects", r.eng.Phase(), r.exec.Injects())
	}
	if r.journalled(t, func(ev gamedays.Event) bool { return ev.Type == gamedays.EvConfirmed || ev.Type == gamedays.EvAbort }) {
		t.Fatal("an observer's key reached the engine")
	}
	r.press("Y")
	r.until("the attack", func() bool { return r.exec.Active() > 0 })
	r.srv.Close()
	r.until("left journalled", func() bool {
		return r.journalled(t, func(ev gamedays.Event) bool { return ev.Kind == NoteLeft && ev.Author == "carol" })
	})
	if !r.journalled(t, func(ev gamedays.Event) bool {
		return ev.Kind == NoteJoined && ev.Author == "carol" && ev.Msg == "observer"
	}) {
		t.Error("carol's join is not in the journal")
	}
}

// The scribe's note is the engine's and reaches the facilitator's timeline.
func TestScribeNoteReachesTheFacilitator(t *testing.T) {
	r := newRoom(t, false)
	bob := r.join(t, "bob")
	r.until("the hypothesis", r.phaseIs(gamedays.PhaseHypothesis))
	bob.shows("HYPOTHESIS")
	bob.press("n")
	bob.shows("type a note")
	bob.press("checkout p95 flat so far\r")
	bob.shows("note saved")
	r.press("t")
	r.shows("note (bob): checkout p95 flat so far")
	r.press("t")
	r.press("\r") // the phase change syncs the journal
	r.until("the blast radius", r.phaseIs(gamedays.PhaseBlastRadius))
	if !r.journalled(t, func(ev gamedays.Event) bool {
		return ev.Type == gamedays.EvNote && ev.Author == "bob" && ev.Msg == "checkout p95 flat so far"
	}) {
		t.Fatal("the scribe's note is not in the journal")
	}
}

// A safety officer's ctrl+x aborts, and everything is rolled back.
func TestSafetyOfficerAbortRollsBack(t *testing.T) {
	r := newRoom(t, false)
	dave := r.join(t, "dave")
	r.toTheAttack()
	dave.shows("ACTIVE")
	dave.press("\x18")
	// The rollback here is instant, so "ABORT sent" may be gone before a
	// frame shows it; the abort screen is what stays.
	dave.shows("ABORTED")
	r.until("the rollback", func() bool { return r.eng.Phase() == gamedays.PhaseDone })
	if r.exec.Active() != 0 || r.exec.Rollbacks() != 1 {
		t.Fatalf("after dave's abort: %d applied, %d rollbacks", r.exec.Active(), r.exec.Rollbacks())
	}
	if !r.journalled(t, func(ev gamedays.Event) bool { return ev.Type == gamedays.EvAbort && ev.Author == "dave" }) {
		t.Fatal("the journal does not say dave aborted")
	}
	// The engine is done before its last event reaches the console; q
	// leaves only once the console has seen the end.
	r.shows("ABORTED (ENDED)")
	r.press("q")
	r.wait()
	if r.outcome.Verdict != gamedays.VerdictAborted {
		t.Fatalf("verdict %s", r.outcome.Verdict)
	}
}

// A key no role names is turned away at the handshake.
func TestUnknownKeyIsRefused(t *testing.T) {
	r := newRoom(t, false)
	conn, err := net.DialTimeout("tcp", r.srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _, _, err = gossh.NewClientConn(conn, r.srv.Addr(), e2e.Participant("eve", r.keys["eve"].signer))
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("eve's key was not refused: %v", err)
	}
	if r.journalled(t, func(ev gamedays.Event) bool { return ev.Kind == NoteJoined }) {
		t.Fatal("a refused key was journalled as joined")
	}
}

// A participant whose connection vanishes leaves no goroutine behind, and
// the console carries on.
func TestDroppedSessionLeavesNoGoroutine(t *testing.T) {
	events, _ := scriptAt(stObserve)
	c := New(Config{Runbook: parseRunbook(t), Shared: true})
	for _, ev := range events {
		c.OnEvent(ev)
	}
	carol := newKey(t)
	var sent []gamedays.Intent
	sentCh := make(chan gamedays.Intent, 16)
	rb := c.cfg.Runbook
	rb.Roles.Observers = []runbook.Person{{Name: "carol", Key: carol.pub}}
	srv, err := serve.Start(serve.Options{Addr: "127.0.0.1:0", HostKey: filepath.Join(t.TempDir(), "host_key"), Roles: rb.Roles,
		Console: c.Sessions(permitSender(func(i gamedays.Intent) { sentCh <- i }))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	before := goleak.IgnoreCurrent()
	tm := joinAt(t, srv.Addr(), carol.signer)
	tm.shows("OBSERVE")
	tm.conn.Close() // the network goes, no goodbye
	deadline := time.After(20 * time.Second)
	for len(sent) < 2 {
		select {
		case i := <-sentCh:
			sent = append(sent, i)
		case <-deadline:
			t.Fatalf("the session did not end: %v", sent)
		}
	}
	if sent[0].Kind != NoteJoined || sent[1].Kind != NoteLeft || sent[1].Author != "carol" {
		t.Fatalf("intents %+v", sent)
	}
	goleak.VerifyNone(t, before)
	c.mu.Lock()
	n := len(c.joined)
	c.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d queue(s) still subscribed", n)
	}
	c.OnEvent(gamedays.Event{Type: gamedays.EvNote, Msg: "still taking events"})
}

// A drill: the responder sees the metrics but not the fault, marks it
// detected and mitigated over SSH, the facilitator releases a hint, and the
// journal measures both times from the inject.
func TestDrillMarksOverSSH(t *testing.T) {
	r := newRoom(t, true)
	rita := r.join(t, "rita")
	rita.shows("you: rita (responder)")
	r.toTheAttack()
	r.until("some time to pass", func() bool { return r.clock.Now().After(t0.Add(40 * time.Second)) })
	rita.shows("hidden: this is a drill")
	r.press("h")
	r.shows("hint released: look at p95 per instance")
	sees := func(tm *terminal, text string) func() bool {
		return func() bool { return strings.Contains(tm.out.String(), text) }
	}
	// Intents are taken when the engine wakes, so the clock moves on.
	r.until("the hint on the responder's screen", sees(rita, "· look at p95 per instance"))
	rita.press("d")
	rita.shows("what did you see?")
	rita.press("p95 up on one instance\r")
	rita.shows("detected saved")
	r.until("the detection", sees(rita, "by rita: p95 up on one instance"))
	// The responders' mitigation, as the run's fault check finds it: the
	// facilitator sees which fault went and when; the responder does not.
	var inj *targets.Injection
	journal, _, err := gamedays.ReadJournal(r.journal)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range journal {
		if ev.Type == gamedays.EvAttackResult && ev.Injection != nil {
			inj = ev.Injection
		}
	}
	if inj == nil {
		t.Fatal("no injection in the journal")
	}
	r.eng.Lifted(gamedays.SourceFaultCheck, *inj, "the fault was no longer in place")
	r.until("the fault seen gone", func() bool { return strings.Contains(r.out.String(), "seen gone: T+") })
	r.shows("after the inject): slow on web-")
	r.until("more time", func() bool { return r.clock.Now().After(t0.Add(50 * time.Second)) })
	rita.press("m")
	rita.shows("what did you do?")
	rita.press("drained it\r")
	rita.shows("mitigated saved")
	r.until("the mitigation", sees(rita, "by rita: drained it"))
	r.until("both marks", func() bool {
		return r.journalled(t, func(ev gamedays.Event) bool { return ev.Kind == gamedays.NoteMitigated })
	})
	events, _, err := gamedays.ReadJournal(r.journal)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := gamedays.Drill(events)
	if !ok || d.TTD <= 0 || d.TTM < d.TTD || d.DetectedBy != "rita" || d.MitigatedWhat != "drained it" || d.Hints != 1 {
		t.Fatalf("drill times %+v", d)
	}
	for _, secret := range []string{"network-latency", "delay=200ms", "injected slow", "checkout survives a slow instance",
		"Latency on one of three instances", "checkout.yaml", "seen gone", "FAULT ENDED"} {
		if strings.Contains(rita.out.String(), secret) {
			t.Errorf("the responder saw %q", secret)
		}
	}
	rita.press("h")
	rita.shows("refused: only the facilitator releases hints")
}

// dropOutput is a participant's screen that has dropped frames: it hands
// the console an OnDrop hook, as serve.FrameWriter does.
type dropOutput struct {
	e2e.Screen
	mu   sync.Mutex
	hook func()
}

func (d *dropOutput) OnDrop(fn func()) {
	d.mu.Lock()
	d.hook = fn
	d.mu.Unlock()
}

func (d *dropOutput) dropped() func() {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hook
}

// After frames were dropped the participant's console clears the screen and
// draws it whole, since the terminal no longer shows what the renderer
// believes.
func TestDroppedFramesRepaintInFull(t *testing.T) {
	events, _ := scriptAt(stObserve)
	c := New(Config{Runbook: parseRunbook(t), Shared: true})
	for _, ev := range events {
		c.OnEvent(ev)
	}
	out := &dropOutput{}
	in, keys := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.Join(ctx, JoinOptions{Who: serve.Who{Name: "carol", Role: runbook.RoleObserver}, Width: 100, Height: 30,
			Input: in, Output: out, Send: func(gamedays.Intent) error { return nil }})
	}()
	defer func() {
		cancel()
		keys.Close()
		<-done
	}()
	deadline := time.Now().Add(20 * time.Second)
	for out.dropped() == nil || !strings.Contains(out.String(), "OBSERVE") {
		if time.Now().After(deadline) {
			t.Fatal("the console never drew or never hooked OnDrop")
		}
		time.Sleep(2 * time.Millisecond)
	}
	const clear = "\x1b[2J"
	before := strings.Count(out.String(), clear)
	out.dropped()()
	for strings.Count(out.String(), clear) == before {
		if time.Now().After(deadline) {
			t.Fatalf("no full repaint after dropped frames; %d clears", before)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gameday/gameday/gamedays"
	gdreport "github.com/gameday/gameday/gamedays/report"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/runbook"
)

// waitText waits until who's screen has drawn text; a lab drill can take
// a minute to get there.
func waitText(t *testing.T, who string, screen *e2e.Screen, text string) {
	t.Helper()
	screen.WaitText(t, 60*time.Second, who, text)
}

// sshTerminal opens a session with a pty on addr as signer, the way a
// participant's ssh does, and returns its keyboard and screen.
func sshTerminal(t *testing.T, addr string, signer gossh.Signer) (io.Writer, *e2e.Screen) {
	t.Helper()
	client, err := gossh.Dial("tcp", addr, e2e.Participant("gameday", signer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return e2e.Shell(t, client, "xterm-256color")
}

// A drill on the lab: the facilitator's console on a pipe, a responder over
// SSH who is admitted by authorized_keys, a scheduled hint, and detected and
// mitigated marks typed by the responder. TTD and TTM land in the journal
// and the report.
func TestDrillOnTheLabMeasuresTTDAndTTM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a lab scenario for about 30s")
	}
	// It waits on a lab of its own most of the time: it runs beside the
	// other lab tests, as many at once as -parallel allows.
	t.Parallel()
	dir := t.TempDir()
	rita := e2e.Key(t)
	ak := filepath.Join(dir, "authorized_keys")
	line := e2e.AuthorizedKey(rita.PublicKey()) + " rita\n"
	if err := os.WriteFile(ak, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, press := io.Pipe()
	screen := &e2e.Screen{}
	ready := make(chan string, 1)
	runs := filepath.Join(dir, "runs")
	f := &drillFlags{
		lab: labFlags{hosts: 3, rps: 50, seed: 3, scenario: "latency-one-host", scale: 0.1, run: runFlags{RunsDir: runs}},
		serve: serveFlags{Listen: "127.0.0.1:0", HostKey: filepath.Join(dir, "host_key"), AuthorizedKeys: ak,
			Ready: func(addr, _ string) { ready <- addr }},
		in: keys, out: screen,
	}
	cmd := newDrillCmd()
	var stderr e2e.Screen
	cmd.SetErr(&stderr)
	cmd.SetContext(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDrill(cmd, nil, f) }()
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { press.Close() }) })
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("drill: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("the drill never started serving")
	}
	key := func(s string) {
		t.Helper()
		e2e.Type(t, press, s)
	}
	_, port, _ := strings.Cut(addr, ":")
	for _, want := range []string{"gameday drill: latency-one-host", "participants join with  ssh -p " + port + " 127.0.0.1", "host key SHA256:"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("before the console, stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	ritaKeys, ritaScreen := sshTerminal(t, addr, rita)
	ritaKey := func(s string) {
		t.Helper()
		e2e.Type(t, ritaKeys, s)
	}
	waitText(t, "rita", ritaScreen, "you: rita (responder)")
	waitText(t, "the facilitator", screen, "online: rita")
	waitText(t, "the facilitator", screen, "HYPOTHESIS")
	key("\r")
	waitText(t, "the facilitator", screen, "Press Y to confirm")
	key("Y")
	// The first hint is scheduled 3s after the inject at this time scale.
	waitText(t, "rita", ritaScreen, "The edge P95 moved")
	// rita marks what she found and then what she did: a key, the question
	// it asks, her answer and the console's receipt.
	mark := func(key, asks, answer, saved string) {
		t.Helper()
		ritaKey(key)
		waitText(t, "rita", ritaScreen, asks)
		ritaKey(answer + "\r")
		waitText(t, "rita", ritaScreen, saved)
	}
	mark("d", "what did you see?", "edge p95 went up, no errors", "detected saved")
	mark("m", "what did you do?", "took the slow host out", "mitigated saved")
	waitText(t, "the facilitator", screen, "by rita: took the slow host out")
	waitText(t, "the facilitator", screen, "Verdict:")
	key("\r")
	waitText(t, "the facilitator", screen, "has ended")
	key("q")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("drill: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the drill did not end")
	}
	for _, leak := range []string{"lab-latency", "slow down one instance", "delay=100ms", "checkout tolerates one slow instance",
		"100ms slower", "latency-one-host"} {
		if strings.Contains(ritaScreen.String(), leak) {
			t.Errorf("the responder saw %q", leak)
		}
	}
	checkDrillRecorded(t, runs)

}

// checkDrillRecorded: the drill's one journal has rita's marks, TTD and
// TTM, and the report built and written from it says the same.
func checkDrillRecorded(t *testing.T, runs string) {
	t.Helper()
	journals, _ := filepath.Glob(filepath.Join(runs, "*", gamedays.JournalName))
	if len(journals) != 1 {
		t.Fatalf("journals: %v", journals)
	}
	events := journal(t, filepath.Dir(journals[0]))
	d, ok := gamedays.Drill(events)
	if !ok || d.TTD <= 0 || d.TTM <= d.TTD || d.DetectedBy != "rita" || d.MitigatedWhat != "took the slow host out" || d.Hints < 1 {
		t.Fatalf("drill times from the journal: %+v", d)
	}
	t.Logf("TTD %s, TTM %s, hints %d", d.TTD.Round(time.Millisecond), d.TTM.Round(time.Millisecond), d.Hints)
	r, err := gdreport.Build(events, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Drill == nil || float64(r.Drill.TTD) != d.TTD.Seconds() || float64(r.Drill.TTM) != d.TTM.Seconds() || r.Drill.DetectedBy != "rita" {
		t.Fatalf("report drill %+v, journal %+v", r.Drill, d)
	}
	joined := false
	for _, p := range r.Participants {
		joined = joined || (p.Name == "rita" && p.Joined && len(p.Roles) > 0 && p.Roles[0] == runbook.RoleResponder)
	}
	if !joined {
		t.Errorf("the report does not list rita as a responder who joined: %+v", r.Participants)
	}
	files, err := gdreport.WriteAll(filepath.Dir(journals[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(filepath.Dir(journals[0]), "report.md"))
	if err != nil || !strings.Contains(string(md), "Time to detect") || !strings.Contains(string(md), "took the slow host out") {
		t.Fatalf("report %v: %v\n%s", files, err, md)
	}
}

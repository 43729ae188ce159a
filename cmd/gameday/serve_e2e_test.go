package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	sandbox "github.com/gameday/gameday/lab"
	"github.com/gameday/gameday/lab/e2e"
)

// Two terminals under tmux: the facilitator runs gameday serve on a lab
// game day, and an observer joins with the system's ssh client. The
// observer sees the game day live, is refused when pressing enter, and the
// facilitator walks it to its report, which lists the observer as joined.
func TestServeTwoPanesWalkALabGameDay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a lab game day for about a minute")
	}
	sshBin := e2e.Need(t, "tmux", "ssh")[1]
	l, err := sandbox.Start(context.Background(), sandbox.Options{Seed: 3, HealthInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	dir := t.TempDir()

	keyFile := filepath.Join(dir, "carol")
	pub := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(e2e.WriteKey(t, keyFile).PublicKey())))

	src, err := l.Runbook("latency-one-host", consoleScale)
	if err != nil {
		t.Fatal(err)
	}
	src = append(src, []byte("\nroles:\n  facilitator: {name: alice}\n  observers:\n    - {name: carol, key: \""+pub+"\"}\n")...)
	file := filepath.Join(dir, "latency-one-host.yaml")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	warm, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.WaitForMetrics(warm); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)

	runsDir := filepath.Join(dir, "runs")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LANG=C.UTF-8", "TERM=xterm-256color", "USER=alice"}
	fac := e2e.StartTmux(t, 120, 40, env, binary(t), "serve", file,
		"--prometheus", l.PrometheusURL, "-F", l.SSHConfigPath, "--known-hosts", l.KnownHostsPath,
		"-i", l.IdentityPath, "--runs-dir", runsDir, "--listen", addr, "--host-key", filepath.Join(dir, "host_key"))
	fac.WaitText(30*time.Second, "BASELINE", "online: nobody has joined")

	obs := e2e.StartTmux(t, 100, 30, env, sshBin, "-F", "/dev/null", "-p", port, "-i", keyFile, "-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile="+filepath.Join(dir, "known_hosts"),
		"-o", "BatchMode=yes", "-tt", "carol@127.0.0.1")
	obs.WaitText(30*time.Second, "you: carol (observer)")
	fac.WaitText(30*time.Second, "online: carol")

	fac.WaitText(60*time.Second, "HYPOTHESIS")
	obs.WaitText(30*time.Second, "HYPOTHESIS")
	obs.Send("Enter")
	obs.WaitText(10*time.Second, "refused: only the facilitator moves the game day on")
	fac.Send("Enter")
	fac.WaitText(60*time.Second, "Press Y to confirm")
	obs.WaitText(30*time.Second, "BLAST RADIUS")
	fac.Send("Y")
	obs.WaitText(60*time.Second, "ACTIVE")
	fac.WaitText(120*time.Second, "Verdict:")
	obs.WaitText(30*time.Second, "CONCLUDE")
	fac.Send("Enter")
	fac.WaitText(60*time.Second, "has ended")
	fac.Send("e")
	fac.WaitText(30*time.Second, "report written")
	fac.Send("q")
	if code := fac.Wait(60 * time.Second); code != 0 {
		t.Fatalf("gameday serve exited %d", code)
	}
	// The server closed with the game day, and carol's ssh with it.
	obs.Wait(30 * time.Second)

	reports, _ := filepath.Glob(filepath.Join(runsDir, "*", "report.json"))
	if len(reports) != 1 {
		t.Fatalf("reports: %v", reports)
	}
	data, err := os.ReadFile(reports[0])
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Participants []struct {
			Name   string
			Roles  []string
			Joined bool
		}
		Status struct{ Outcome string }
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range r.Participants {
		found = found || (p.Name == "carol" && p.Joined && len(p.Roles) == 1 && p.Roles[0] == "observer")
	}
	if !found || r.Status.Outcome != "held" {
		t.Fatalf("report: %s outcome, participants %+v", r.Status.Outcome, r.Participants)
	}
}

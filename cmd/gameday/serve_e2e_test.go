package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

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
	// It waits on a lab of its own most of the time: it runs beside the
	// other lab tests, as many at once as -parallel allows.
	t.Parallel()
	sshBin := e2e.Need(t, "tmux", "ssh")[1]
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "carol")
	pub := e2e.AuthorizedKey(e2e.WriteKey(t, keyFile).PublicKey())
	l, file := startConsoleLab(t, dir, "\nroles:\n  facilitator: {name: alice}\n  observers:\n    - {name: carol, key: \""+pub+"\"}\n")
	addr := e2e.FreeAddr(t)
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

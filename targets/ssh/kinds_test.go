package ssh

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

func TestServiceStopCommands(t *testing.T) {
	a, _ := buildFor(t, "service-stop", map[string]string{"unit": "nginx"})
	active := "systemctl is-active --quiet -- nginx.service || { echo \"gameday: nginx.service is not active\"; exit 1; }\n"
	if a.check != active+canStop("nginx.service") {
		t.Errorf("check:\n%q\nwant\n%q", a.check, active+canStop("nginx.service"))
	}
	if want := active + ": >\"$D/$N.stopped\"\nsystemctl stop -- nginx.service\n"; a.apply != want {
		t.Errorf("apply:\n%q\nwant\n%q", a.apply, want)
	}
	if want := "if [ -e \"$D/$N.stopped\" ]; then systemctl start -- nginx.service; fi\n"; a.revert != want {
		t.Errorf("revert:\n%q\nwant\n%q", a.revert, want)
	}
	if !a.root {
		t.Error("service-stop must need root")
	}
}

// fakeSystemctl is a systemctl stand-in that keeps unit states in files
// and logs its calls, for running the real scripts where there is no
// systemd, and so this machine's services are never touched.
func fakeSystemctl(t *testing.T, active ...string) (dir string, env []string) {
	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, "active"), []byte(strings.Join(active, "\n")+"\n"), 0o644)
	script := `#!/bin/sh
echo "systemctl $*" >>"$FAKE/log"
case "$1 $2 $3" in
"is-active --quiet --") grep -qx -- "$4" "$FAKE/active" ;;
"stop -- "*) grep -vx -- "$3" "$FAKE/active" >"$FAKE/active.new"; mv "$FAKE/active.new" "$FAKE/active" ;;
"start -- "*) echo "$3" >>"$FAKE/active" ;;
*) echo "unexpected: systemctl $*" >&2; exit 2 ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "systemctl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, append(os.Environ(), "FAKE="+dir, "PATH="+dir+":"+os.Getenv("PATH"))
}

// runScript runs a script here with env, as a stand-in host.
func runScript(env []string, script string) (string, error) {
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestServiceStopScripts runs the real preflight, inject and rollback
// scripts with the stand-in systemctl: an active unit is stopped and
// started again; a unit that was already down fails preflight and inject,
// and its rollback does not start it.
func TestServiceStopScripts(t *testing.T) {
	e := New(Options{SSHConfig: "/nonexistent-gameday-test", Grace: 30 * time.Second})
	run := "svc" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Cleanup(func() { os.RemoveAll(filepath.Join("/run/gameday", run)) })
	for _, tc := range []struct {
		unit    string
		running bool
	}{{"web.service", true}, {"idle.service", false}} {
		t.Run(tc.unit, func(t *testing.T) {
			var fake string
			var env []string
			if tc.running {
				fake, env = fakeSystemctl(t, tc.unit)
			} else {
				fake, env = fakeSystemctl(t, "web.service")
			}
			inj := targets.Injection{RunID: run, Attack: "stop " + tc.unit, Kind: "service-stop", Params: map[string]string{"unit": tc.unit}, Duration: time.Minute}
			a, n, err := e.build(inj)
			if err != nil {
				t.Fatal(err)
			}
			// Preflight without root checks is the kind's own check.
			pre := preflightScript(&attack{check: a.check}, false)
			out, err := runScript(env, pre)
			if tc.running != (err == nil) {
				t.Fatalf("preflight err=%v: %s", err, out)
			}
			if !tc.running && !strings.Contains(out, "gameday: "+tc.unit+" is not active") {
				t.Fatalf("preflight output: %s", out)
			}
			out, err = runScript(env, injectScript(n, a, time.Minute))
			if tc.running != (err == nil) {
				t.Fatalf("inject err=%v: %s", err, out)
			}
			if active := readFile(t, filepath.Join(fake, "active")); strings.Contains(active, tc.unit) {
				t.Fatalf("%s still active after inject", tc.unit)
			}
			if out, err := runScript(env, rollbackScript(n, a)); err != nil {
				t.Fatalf("rollback: %v %s", err, out)
			}
			active := readFile(t, filepath.Join(fake, "active"))
			if tc.running != strings.Contains(active, tc.unit) {
				t.Fatalf("after rollback active units are %q (was %s running before: %v)", active, tc.unit, tc.running)
			}
			log := readFile(t, filepath.Join(fake, "log"))
			if tc.running && (strings.Count(log, "systemctl stop -- "+tc.unit) != 1 || strings.Count(log, "systemctl start -- "+tc.unit) != 1) {
				t.Fatalf("log:\n%s", log)
			}
			if !tc.running && (strings.Contains(log, "systemctl stop") || strings.Contains(log, "systemctl start")) {
				t.Fatalf("touched a unit that was not running:\n%s", log)
			}
		})
	}
}

// TestServiceStopOnSystemd stops and restarts a transient unit of this
// machine's systemd through a real sshd.
func TestServiceStopOnSystemd(t *testing.T) {
	if fi, err := os.Stat("/run/systemd/system"); err != nil || !fi.IsDir() {
		// Not a missing package: this machine does not boot with systemd,
		// so even GAMEDAY_E2E=require skips.
		t.Skip("systemd is not running here (no /run/systemd/system); TestServiceStopScripts runs the scripts with a stand-in")
	}
	e2e.Need(t, "sshd", "systemctl", "systemd-run")
	unit := "gameday-test-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".service"
	if out, err := exec.Command("systemd-run", "--unit", unit, "sleep", "600").CombinedOutput(); err != nil {
		t.Skipf("systemd-run cannot start a transient unit here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("systemctl", "stop", unit).Run() })
	s := startSSHD(t, "127.0.0.1", "")
	e := s.executor(t, nil)
	ctx := ctxFor(t)
	inj := targets.Injection{RunID: "svc", Attack: "stop", Kind: "service-stop", Member: s.member(), Params: map[string]string{"unit": unit}, Duration: time.Minute}
	if err := e.Preflight(ctx, inj); err != nil {
		t.Fatal(err)
	}
	if res, err := e.Inject(ctx, &inj); err != nil {
		t.Fatalf("%v %s", err, res.Output)
	}
	if exec.Command("systemctl", "is-active", "--quiet", unit).Run() == nil {
		t.Fatal("unit still active after inject")
	}
	if res, err := e.Rollback(ctx, inj); err != nil {
		t.Fatalf("%v %s", err, res.Output)
	}
	if err := exec.Command("systemctl", "is-active", "--quiet", unit).Run(); err != nil {
		t.Fatalf("unit not active after rollback: %v", err)
	}
}

func TestDNSBlackholeCommands(t *testing.T) {
	a, n := buildFor(t, "dns-blackhole", map[string]string{"domain": "api.example.com"})
	tag := "# " + n.tag()
	strip := "if grep -qF -- " + Quote(tag) + " /etc/hosts; then\n  grep -vF -- " + Quote(tag) + " /etc/hosts >\"$D/$N.hosts\" || true\n  cat \"$D/$N.hosts\" >/etc/hosts\nfi\n"
	if a.revert != strip {
		t.Errorf("revert:\n%s\nwant\n%s", a.revert, strip)
	}
	lines := "0.0.0.0 api.example.com " + tag + "\n:: api.example.com " + tag + "\n"
	if want := strip + "printf '%s' " + Quote(lines) + " >>/etc/hosts\n"; a.apply != want {
		t.Errorf("apply:\n%s\nwant\n%s", a.apply, want)
	}
}

// TestDNSBlackholeInNetns runs dns-blackhole on an sshd whose /etc/hosts is
// private: ip netns exec bind-mounts /etc/netns/NAME/hosts over /etc/hosts
// for what it starts. Lookups of the domain fail (0.0.0.0), then resolve as
// before; the file comes back byte for byte; this machine's /etc/hosts is
// compared before and after.
func TestDNSBlackholeInNetns(t *testing.T) {
	e2e.Need(t, "sshd", "getent")
	before, _ := os.ReadFile("/etc/hosts")
	ns, _, nsIP := netns(t)
	etc := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	private := "127.0.0.1 localhost\n192.0.2.10 api.example.test\n"
	if err := os.WriteFile(filepath.Join(etc, "hosts"), []byte(private), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startSSHD(t, nsIP, ns)
	e := s.executor(t, nil)
	ctx := ctxFor(t)
	m := s.member()
	lookup := "getent ahostsv4 api.example.test | head -n 1 | cut -d ' ' -f 1"
	if out, err := e.Run(ctx, m, lookup); err != nil || out != "192.0.2.10" {
		t.Fatalf("before inject the namespace resolves %q (%v); is its /etc/hosts private?", out, err)
	}
	inj := targets.Injection{RunID: "dns", Attack: "cut api", Kind: "dns-blackhole", Member: m, Params: map[string]string{"domain": "api.example.test"}, Duration: time.Minute}
	if err := e.Preflight(ctx, inj); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a repeated inject adds its lines once
		if res, err := e.Inject(ctx, &inj); err != nil {
			t.Fatalf("%v %s", err, res.Output)
		}
	}
	if out, _ := e.Run(ctx, m, lookup); out != "0.0.0.0" {
		t.Fatalf("during the attack api.example.test resolves to %q, want 0.0.0.0", out)
	}
	if st, err := e.Status(ctx, inj); err != nil || !st.InPlace || !st.Armed {
		t.Fatalf("status during the attack: %+v %v", st, err)
	}
	if got := readFile(t, filepath.Join(etc, "hosts")); strings.Count(got, "api.example.test # gameday:") != 2 {
		t.Fatalf("hosts during the attack:\n%s", got)
	}
	if res, err := e.Rollback(ctx, inj); err != nil {
		t.Fatalf("%v %s", err, res.Output)
	}
	if out, _ := e.Run(ctx, m, lookup); out != "192.0.2.10" {
		t.Fatalf("after rollback api.example.test resolves to %q", out)
	}
	if st, err := e.Status(ctx, inj); err != nil || st.InPlace {
		t.Fatalf("status after rollback: %+v %v", st, err)
	}
	if got := readFile(t, filepath.Join(etc, "hosts")); got != private {
		t.Fatalf("the namespace's hosts file after rollback:\n%q\nwant\n%q", got, private)
	}
	if after, _ := os.ReadFile("/etc/hosts"); string(after) != string(before) {
		t.Fatalf("this machine's /etc/hosts changed")
	}
}

// TestPowerCommands pins reboot and shutdown, which no test runs: the
// command is detached and delayed so the inject reports back before the
// link goes, nothing is armed, and rollback does not even connect.
func TestPowerCommands(t *testing.T) {
	for kind, verb := range map[string]string{"reboot": "reboot", "shutdown": "poweroff"} {
		a, n := buildFor(t, kind, map[string]string{})
		want := "setsid sh -c 'sleep 2; systemctl " + verb + " || " + verb + "' </dev/null >/dev/null 2>&1 &\necho \"gameday: " + verb + " in 2s\"\n"
		if a.apply != want || !a.noRollback || !a.root || a.revert != "" {
			t.Errorf("%s: %+v\nwant apply %q", kind, a, want)
		}
		if in := injectScript(n, a, time.Minute); strings.Contains(in, "gameday-switch") {
			t.Errorf("%s arms a dead man's switch it has nothing to revert with", kind)
		}
		e := New(Options{SSHConfig: "/nonexistent-gameday-test"})
		// An address nothing listens on: a rollback that dialled would fail.
		inj := targets.Injection{RunID: "p", Attack: "p", Kind: kind, Duration: time.Minute,
			Member: targets.Member{ID: "h", Addr: "127.0.0.1:1", Labels: map[string]string{LabelUser: "root", LabelSudo: "true"}}}
		res, err := e.Rollback(t.Context(), inj)
		if err != nil || res.Output != "nothing to roll back" {
			t.Errorf("%s rollback: %+v %v", kind, res, err)
		}
		plan := e.Plan(inj)
		if len(plan) != 3 || !strings.Contains(plan[1], "sudo -n -- sh -c ") || !strings.Contains(plan[1], "systemctl "+verb) ||
			plan[2] != "ssh h: gameday loses h when it goes down; nothing reverts a "+kind {
			t.Errorf("%s plan: %q", kind, plan)
		}
	}
}

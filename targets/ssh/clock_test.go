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

// TestClockSkewCommands pins the exact commands: the clock is stepped by
// whole seconds, and stepped back only by the rollback that claims the
// marker.
func TestClockSkewCommands(t *testing.T) {
	a, _ := buildFor(t, "clock-skew", map[string]string{"offset": "-5m"})
	if !strings.Contains(a.apply, "now=$(date +%s)\ndate -s \"@$((now + -300))\" >/dev/null\necho -300 >\"$D/$N.skew\"\n") {
		t.Errorf("apply does not step the clock by -300s, then mark it:\n%s", a.apply)
	}
	if !strings.Contains(a.apply, "systemctl is-active --quiet \"$u\" 2>/dev/null; then echo \"$u\" >>\"$D/$N.sync\"; systemctl stop \"$u\"") {
		t.Errorf("apply does not stop the active time sync units:\n%s", a.apply)
	}
	want := "if mv -f \"$D/$N.skew\" \"$D/$N.unskew.$$\" 2>/dev/null; then\n  now=$(date +%s)\n  date -s \"@$((now - -300))\" >/dev/null\nfi\n"
	if !strings.HasPrefix(a.revert, want) {
		t.Errorf("revert:\n%s\nwant prefix\n%s", a.revert, want)
	}
	if !a.root || a.noRollback {
		t.Errorf("clock-skew must need root and have a rollback")
	}
	for in, want := range map[time.Duration]int64{90 * time.Second: 90, -5 * time.Minute: -300, 200 * time.Millisecond: 1, -200 * time.Millisecond: -1, 1600 * time.Millisecond: 2} {
		if got := skewSeconds(in); got != want {
			t.Errorf("skewSeconds(%s) = %d, want %d", in, got, want)
		}
	}
}

// fakeClock is a directory with date and systemctl stand-ins that keep the
// clock in a file and log what they were asked. This machine's clock must
// not move, and time namespaces do not cover setting CLOCK_REALTIME, so the
// real scripts run against these.
func fakeClock(t *testing.T, now int64, active ...string) (dir string, env []string) {
	dir = t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("now", strconv.FormatInt(now, 10)+"\n")
	write("active", strings.Join(active, "\n")+"\n")
	write("date", `#!/bin/sh
case "$1" in
+%s) cat "$FAKE/now" ;;
-s) echo "date -s $2" >>"$FAKE/log"; echo "${2#@}" >"$FAKE/now" ;;
*) echo "unexpected date $*" >>"$FAKE/log"; exit 2 ;;
esac
`)
	write("systemctl", `#!/bin/sh
echo "systemctl $*" >>"$FAKE/log"
case "$1" in
is-active) grep -qx "$3" "$FAKE/active" ;;
stop) grep -vx "$2" "$FAKE/active" >"$FAKE/active.new"; mv "$FAKE/active.new" "$FAKE/active" ;;
start) echo "$2" >>"$FAKE/active" ;;
esac
`)
	return dir, append(os.Environ(), "FAKE="+dir, "PATH="+dir+":"+os.Getenv("PATH"))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, _ := os.ReadFile(path)
	return string(b)
}

// TestClockSkewScripts runs the real inject and rollback scripts, dead
// man's switch included, against the fake clock: the clock moves by the
// offset and time sync stops; rollback cancels the switch, steps back once
// and starts time sync again; a second rollback changes nothing; and an
// inject left alone is reverted by its switch.
func TestClockSkewScripts(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid not installed")
	}
	const now = 1_800_000_000
	e := New(Options{SSHConfig: "/nonexistent-gameday-test", Grace: time.Second})
	run := "clk" + strconv.FormatInt(time.Now().UnixNano(), 36)
	sh := func(env []string, script string) string {
		t.Helper()
		out, err := runScript(env, script)
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return out
	}
	scripts := func(inj targets.Injection) (string, string) {
		a, n, err := e.build(inj)
		if err != nil {
			t.Fatal(err)
		}
		return injectScript(n, a, inj.Duration+time.Second), rollbackScript(n, a)
	}
	status := func(env []string, inj targets.Injection) string {
		a, n, _ := e.build(inj)
		return sh(env, statusScript(n, a))
	}
	t.Cleanup(func() {
		os.RemoveAll(filepath.Join("/run/gameday", run))
		os.RemoveAll(filepath.Join(os.Getenv("HOME"), ".gameday", run))
	})

	t.Run("rollback", func(t *testing.T) {
		fake, env := fakeClock(t, now, "systemd-timesyncd")
		inj := targets.Injection{RunID: run, Attack: "skew back", Kind: "clock-skew", Params: map[string]string{"offset": "-5m"}, Duration: time.Minute}
		in, rb := scripts(inj)
		if out := sh(env, in); !strings.Contains(out, "gameday: clock moved by -300s") {
			t.Fatalf("inject output: %s", out)
		}
		if got := strings.TrimSpace(readFile(t, filepath.Join(fake, "now"))); got != strconv.Itoa(now-300) {
			t.Fatalf("clock after inject %s, want %d", got, now-300)
		}
		if strings.Contains(readFile(t, filepath.Join(fake, "active")), "systemd-timesyncd") {
			t.Fatal("time sync still active during the skew")
		}
		if out := status(env, inj); !strings.Contains(out, "gameday: switch armed") || !strings.Contains(out, "gameday: in place") {
			t.Fatalf("status during the skew:\n%s", out)
		}
		sh(env, rb)
		if out := status(env, inj); !strings.Contains(out, "gameday: switch not armed") || !strings.Contains(out, "gameday: not in place") {
			t.Fatalf("status after rollback:\n%s", out)
		}
		if got := strings.TrimSpace(readFile(t, filepath.Join(fake, "now"))); got != strconv.Itoa(now) {
			t.Fatalf("clock after rollback %s, want %d", got, now)
		}
		if !strings.Contains(readFile(t, filepath.Join(fake, "active")), "systemd-timesyncd") {
			t.Fatal("time sync not started again")
		}
		sh(env, rb)
		log := readFile(t, filepath.Join(fake, "log"))
		if n := strings.Count(log, "date -s"); n != 2 {
			t.Fatalf("%d clock steps, want 2 (skew, one step back):\n%s", n, log)
		}
		if !strings.Contains(log, "date -s @"+strconv.Itoa(now-300)+"\n") || !strings.Contains(log, "systemctl stop systemd-timesyncd\n") ||
			!strings.Contains(log, "systemctl start systemd-timesyncd\n") {
			t.Fatalf("log:\n%s", log)
		}
	})

	t.Run("switch", func(t *testing.T) {
		fake, env := fakeClock(t, now)
		inj := targets.Injection{RunID: run, Attack: "skew ahead", Kind: "clock-skew", Params: map[string]string{"offset": "90s"}, Duration: time.Second}
		in, _ := scripts(inj)
		sh(env, in)
		if got := strings.TrimSpace(readFile(t, filepath.Join(fake, "now"))); got != strconv.Itoa(now+90) {
			t.Fatalf("clock after inject %s, want %d", got, now+90)
		}
		// Duration 1 s + grace 1 s; nobody rolls back.
		e2e.WaitFor(t, 15*time.Second, "the switch did not step the clock back", func() bool {
			return strings.TrimSpace(readFile(t, filepath.Join(fake, "now"))) == strconv.Itoa(now)
		})
		if log := readFile(t, filepath.Join(fake, "log")); strings.Contains(log, "systemctl start") {
			t.Fatalf("started a time sync unit that was not running before:\n%s", log)
		}
	})
}

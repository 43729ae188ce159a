package ssh

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/targets"
)

func buildFor(t *testing.T, kind string, params map[string]string) (*attack, names) {
	t.Helper()
	e := New(Options{SSHConfig: "/nonexistent-gameday-test", Grace: 30 * time.Second})
	inj := targets.Injection{RunID: "run1", Attack: "slow it", Kind: kind, Params: params, Duration: time.Minute, Member: targets.Member{ID: "h"}}
	a, n, err := e.build(inj)
	if err != nil {
		t.Fatal(err)
	}
	return a, n
}

// TestNetemCommands pins the exact tc commands, which no test can run where
// the kernel lacks sch_netem.
func TestNetemCommands(t *testing.T) {
	a, n := buildFor(t, "network-latency", map[string]string{"interface": "eth0", "delay": "200ms", "jitter": "50ms", "spare_control": "false"})
	h := n.handle("root")
	if want := "tc qdisc add dev eth0 root handle " + h + ": netem delay 200000us 50000us\n"; a.apply != want {
		t.Errorf("apply:\n%q\nwant\n%q", a.apply, want)
	}
	if want := "if tc qdisc show dev eth0 2>/dev/null | grep -q '^qdisc [a-z_]* " + h + ": root'; then tc qdisc del dev eth0 root; fi\n"; a.revert != want {
		t.Errorf("revert:\n%q\nwant\n%q", a.revert, want)
	}
	a, n = buildFor(t, "network-loss", map[string]string{"interface": "eth0", "percent": "10", "destination": "10.20.40.0/24", "port": "443", "spare_control": "false"})
	h, c := n.handle("root"), n.handle("child")
	prio := "tc qdisc add dev eth0 root handle " + h + ": prio bands 3 priomap 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n"
	want := prio +
		"tc qdisc add dev eth0 parent " + h + ":3 handle " + c + ": netem loss 10%\n" +
		"tc filter add dev eth0 parent " + h + ": protocol ip prio 2 u32 match ip dst 10.20.40.0/24 match ip dport 443 0xffff flowid " + h + ":3\n"
	if a.apply != want {
		t.Errorf("apply:\n%s\nwant\n%s", a.apply, want)
	}
	// By default every packet goes to the netem but the control session's,
	// which a filter ahead of it sends to the first band.
	a, n = buildFor(t, "network-loss", map[string]string{"interface": "eth0", "percent": "10"})
	h, c = n.handle("root"), n.handle("child")
	want = "tc qdisc add dev eth0 root handle " + h + ": prio bands 3 priomap 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n" +
		"tc qdisc add dev eth0 parent " + h + ":3 handle " + c + ": netem loss 10%\n" +
		"tc filter add dev eth0 parent " + h + ": protocol all prio 2 u32 match u32 0 0 flowid " + h + ":3\n" + spareTC("eth0", h)
	if a.apply != want {
		t.Errorf("apply:\n%s\nwant\n%s", a.apply, want)
	}
	if !strings.Contains(a.check, "match ip dport 40000 0xffff flowid "+h+":1") {
		t.Errorf("preflight does not try the control session's filter:\n%s", a.check)
	}
}

func TestBlackholeCommands(t *testing.T) {
	a, n := buildFor(t, "blackhole", map[string]string{"cidr": "10.20.30.0/28", "port": "6379", "protocol": "tcp", "direction": "both", "spare_control": "false"})
	tag := n.tag()
	out := "OUTPUT -d 10.20.30.0/28 -p tcp --dport 6379 -m comment --comment " + tag + " -j DROP"
	in := "INPUT -s 10.20.30.0/28 -p tcp --dport 6379 -m comment --comment " + tag + " -j DROP"
	want := "iptables -w -C " + out + " 2>/dev/null || iptables -w -I " + out + "\n" +
		"iptables -w -C " + in + " 2>/dev/null || iptables -w -I " + in + "\n"
	if a.apply != want {
		t.Errorf("apply:\n%s\nwant\n%s", a.apply, want)
	}
	if !strings.Contains(a.revert, "iptables -w -D "+out) || !strings.Contains(a.revert, "iptables -w -D "+in) {
		t.Errorf("revert does not delete exactly the rules:\n%s", a.revert)
	}
	if tag != "gameday:run1:slow_it-"+n.item[len("slow_it-"):] {
		t.Errorf("tag %q", tag)
	}
}

// A custom attack's typed params reach its commands checked and quoted.
func TestCustomTemplatesAreQuoted(t *testing.T) {
	a, _ := buildFor(t, "custom", map[string]string{
		"inject":   "systemctl stop {{unit:unit}}; sleep {{pause:duration}}",
		"rollback": "systemctl start {{unit:unit}}",
		"unit":     "nginx",
		"pause":    "90s",
	})
	// Plain words need no quotes; Quote adds them where the shell would
	// otherwise read something into the value.
	if a.apply != "systemctl stop nginx.service; sleep 1m30s" || a.revert != "systemctl start nginx.service" {
		t.Errorf("inject = %q, rollback = %q", a.apply, a.revert)
	}
	if got := targets.Expand("echo {{v:path}}", mustValues(t, "/srv/a~b"), Quote); got != "echo '/srv/a~b'" {
		t.Errorf("a path with a tilde expands to %q", got)
	}
}

func mustValues(t *testing.T, path string) targets.Values {
	t.Helper()
	k, _ := targets.Default().Spec("custom")
	v, probs := k.Parse(map[string]string{"inject": "echo {{v:path}}", "rollback": "true", "v": path})
	if len(probs) > 0 {
		t.Fatalf("%q: %v", path, probs)
	}
	return v
}

// TestScriptsParse runs sh -n over every kind's scripts.
func TestScriptsParse(t *testing.T) {
	cases := map[string]map[string]string{
		"cpu": {}, "memory": {"size": "80%"}, "io": {}, "disk-fill": {"path": "/var/log", "size": "95%"},
		"process-kill": {"name": "nginx"}, "process-pause": {"pidfile": "/run/x.pid"}, "service-stop": {"unit": "nginx"},
		"network-latency": {"interface": "eth0", "delay": "1ms"}, "network-loss": {"interface": "eth0", "percent": "5", "destination": "fd00::/64"},
		"blackhole": {"cidr": "::1"}, "dns-blackhole": {"domain": "api.example.com"}, "reboot": {}, "shutdown": {}, "clock-skew": {"offset": "-90s"},
		"custom": {"inject": "echo 'a b' {{size:bytes}} | tee /dev/null", "rollback": "true", "size": "1MiB"},
	}
	for kind, p := range cases {
		a, n := buildFor(t, kind, p)
		for step, script := range map[string]string{"preflight": preflightScript(a, true), "inject": injectScript(n, a, time.Minute), "rollback": rollbackScript(n, a), "status": statusScript(n, a)} {
			if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
				t.Errorf("%s %s: sh -n: %v %s\n%s", kind, step, err, out, script)
			}
		}
	}
}

func TestLabCommand(t *testing.T) {
	a, _ := buildFor(t, "lab-errors", map[string]string{"share": "10%"})
	if want := "errors '--share=10%' '--status=500' '--duration=1m0s'"; a.apply != want {
		t.Errorf("got %q want %q", a.apply, want)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{"": "''", "eth0": "eth0", "a b": "'a b'", "it's": `'it'\''s'`, "$(id)": "'$(id)'", "-rf": "-rf", "~": "'~'", "a=b": "'a=b'"} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
	for _, v := range hostileValues("/nonexistent/CANARY") {
		if strings.IndexByte(v, 0) >= 0 {
			continue
		}
		out, err := exec.Command("sh", "-c", "printf '%s' "+Quote(v)).Output()
		if err != nil || string(out) != v {
			t.Errorf("sh got %q for %q (%v)", out, v, err)
		}
	}
}

// TestEveryKindRuns: every ssh-family kind of the catalogue has commands
// here, so no runbook kind validates and then fails at inject.
func TestEveryKindRuns(t *testing.T) {
	for _, k := range targets.Default().Kinds() {
		if k.Family != targets.FamilySSH || strings.HasPrefix(k.Name, "lab-") {
			continue
		}
		if _, ok := linux[k.Name]; !ok {
			t.Errorf("catalogue kind %s has no commands in the ssh executor", k.Name)
		}
	}
}

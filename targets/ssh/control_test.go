package ssh

import (
	"context"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// TestBlackholeSparesControl: a blackhole of the network gameday reaches
// the host from (both directions) cuts the host's traffic to a service
// there and new connections, yet gameday's own session goes on: status
// and rollback run over it as usual.
func TestBlackholeSparesControl(t *testing.T) {
	e2e.Need(t, "sshd", "iptables", "bash", "timeout")
	ns, hostIP, nsIP := netns(t)
	s := startSSHD(t, nsIP, ns)
	e := s.executor(t, func(o *Options) { o.LinkTimeout = time.Second })
	ctx := ctxFor(t)
	m := s.member()
	probe, _ := serviceProbe(t, ctx, e, m, hostIP)
	inj := targets.Injection{RunID: "ctl", Attack: "cut us off", Kind: "blackhole", Member: m,
		Params: map[string]string{"cidr": network(hostIP), "direction": "both"}, Duration: time.Minute}
	if err := e.Preflight(ctx, inj); err != nil {
		t.Fatal(err)
	}
	res, err := e.Inject(ctx, &inj)
	if err != nil || res.LinkLost {
		t.Fatalf("inject: %+v %v", res, err)
	}
	if !strings.Contains(res.Output, "control session "+hostIP) {
		t.Errorf("inject does not say it spared the session:\n%s", res.Output)
	}
	if out, err := e.Run(ctx, m, probe); err != nil || out != "dropped" {
		t.Fatalf("service traffic during the blackhole: %q %v (want dropped, over the spared session)", out, err)
	}
	if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		c.Close()
		t.Fatal("a new connection got through the blackhole")
	}
	if st, err := e.Status(ctx, inj); err != nil || !st.InPlace || !st.Armed {
		t.Fatalf("status over the spared session: %+v %v", st, err)
	}
	if res, err := e.Rollback(ctx, inj); err != nil {
		t.Fatalf("rollback: %v\n%s", err, res.Output)
	}
	if out, _ := exec.Command("ip", "netns", "exec", ns, "iptables", "-S").CombinedOutput(); strings.Contains(string(out), "gameday:") {
		t.Fatalf("rules left after rollback:\n%s", out)
	}
	if out, err := e.Run(ctx, m, probe); err != nil || out != "reached" {
		t.Fatalf("after rollback: %q %v", out, err)
	}
	if e.Handshakes() != 1 {
		t.Errorf("the session should have lasted the whole attack; %d handshakes", e.Handshakes())
	}
}

// TestBlackholeCutsControlOnPurpose: with spare_control false the same
// blackhole cuts gameday's session. The inject comes back at once as
// applied with the link lost, saying when; the switch ends the fault on
// its own; and a rollback then confirms the host is clean.
func TestBlackholeCutsControlOnPurpose(t *testing.T) {
	e2e.Need(t, "sshd", "iptables")
	ns, hostIP, nsIP := netns(t)
	s := startSSHD(t, nsIP, ns)
	e := s.executor(t, func(o *Options) { o.LinkTimeout = time.Second; o.ConnectTimeout = 3 * time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	inj := targets.Injection{RunID: "ctl", Attack: "cut us off", Kind: "blackhole", Member: s.member(),
		Params: map[string]string{"cidr": network(hostIP), "direction": "both", "spare_control": "false"}, Duration: 3 * time.Second}
	if plan := strings.Join(e.Plan(inj), "\n"); !strings.Contains(plan, "gameday loses test-host from the inject until its dead man's switch ends the fault, 4s later") {
		t.Errorf("the plan does not say gameday will lose the host:\n%s", plan)
	}
	if w := e.Warnings(inj); len(w) != 1 || !strings.Contains(w[0], "gameday loses test-host") {
		t.Errorf("warnings before the confirmation: %q", w)
	}
	res, err := e.Inject(ctx, &inj)
	if err != nil {
		t.Fatalf("inject: %v\n%s", err, res.Output)
	}
	if !res.LinkLost || res.Applied.IsZero() || !res.Expires.Equal(res.Applied.Add(4*time.Second)) {
		t.Fatalf("want applied with the link lost and the switch's time: %+v", res)
	}
	rules := func() string {
		out, _ := exec.Command("ip", "netns", "exec", ns, "iptables", "-S").CombinedOutput()
		return string(out)
	}
	if !strings.Contains(rules(), "-j DROP") || strings.Contains(rules(), ":control") {
		t.Fatalf("want the DROP rules and no spared session:\n%s", rules())
	}
	e2e.WaitFor(t, 20*time.Second, "the dead man's switch did not end the blackhole", func() bool { return !strings.Contains(rules(), "gameday:") })
	res, err = e.Rollback(ctx, inj)
	if err != nil {
		t.Fatalf("rollback after the switch: %v\n%s", err, res.Output)
	}
	if !strings.Contains(res.Output, "gameday: not in place") {
		t.Errorf("rollback after a lost link did not confirm with a status step:\n%s", res.Output)
	}
}

// network is the /30 the test namespace's veth pair shares.
func network(ip string) string { return netip.MustParsePrefix(ip + "/30").Masked().String() }

// serve accepts and closes connections on ip until the test ends, and
// returns its port.
func serve(t *testing.T, ip string) string {
	l := acceptAll(t, "tcp", ip+":0", func(c net.Conn) { c.Close() })
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// serviceProbe serves a port on hostIP and returns it with a command that,
// run on m, says whether a connection to it got through ("reached") or
// not ("dropped"); before any fault it must get through.
func serviceProbe(t *testing.T, ctx context.Context, e *Executor, m targets.Member, hostIP string) (probe, port string) {
	t.Helper()
	port = serve(t, hostIP)
	probe = "timeout 2 bash -c 'echo >/dev/tcp/" + hostIP + "/" + port + "' && echo reached || echo dropped"
	if out, err := e.Run(ctx, m, probe); err != nil || out != "reached" {
		t.Fatalf("before inject: %q %v", out, err)
	}
	return probe, port
}

// TestControlCut: which faults cover the session 10.0.0.7:51000 ->
// 10.0.1.5:22 that the host reaches through eth0.
func TestControlCut(t *testing.T) {
	sess, ok := parseSession("10.0.0.7 51000 10.0.1.5 22")
	if !ok {
		t.Fatal("session not parsed")
	}
	cat := targets.Default()
	for _, c := range []struct {
		kind   string
		params map[string]string
		cuts   bool
	}{
		{"blackhole", map[string]string{"cidr": "10.0.0.0/16"}, true},
		{"blackhole", map[string]string{"cidr": "10.9.0.0/16"}, false},
		{"blackhole", map[string]string{"cidr": "10.0.0.0/16", "protocol": "udp"}, false},
		{"blackhole", map[string]string{"cidr": "10.0.0.0/16", "protocol": "tcp", "port": "443"}, false},
		{"blackhole", map[string]string{"cidr": "10.0.0.0/16", "protocol": "tcp", "port": "22", "direction": "ingress"}, true},
		{"network-loss", map[string]string{"interface": "eth0", "percent": "50"}, true},
		{"network-loss", map[string]string{"interface": "eth1", "percent": "50"}, false},
		{"network-latency", map[string]string{"interface": "eth0", "delay": "1s", "destination": "192.168.0.0/16"}, false},
	} {
		k, _ := cat.Spec(c.kind)
		v, probs := k.Parse(c.params)
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		if got := controlCut(c.kind, v, sess, "eth0"); (got != "") != c.cuts {
			t.Errorf("%s %v: %q, want cuts=%v", c.kind, c.params, got, c.cuts)
		}
	}
}

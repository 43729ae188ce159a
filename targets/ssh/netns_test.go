package ssh

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// usedNets are the 10.231.N.0/30 subnets this process's namespaces use.
var usedNets sync.Map

// netns makes a network namespace joined to this one by a veth pair
// (10.231.N.1 here, 10.231.N.2 inside) and removes both when t ends.
func netns(t *testing.T) (name, hostIP, nsIP string) {
	e2e.Need(t, "ip")
	e2e.NeedRoot(t)
	n := rand.IntN(250) + 1
	for range 250 { // a test with several namespaces needs one subnet each
		if _, taken := usedNets.LoadOrStore(n, true); !taken {
			break
		}
		n = n%250 + 1
	}
	t.Cleanup(func() { usedNets.Delete(n) })
	id := strconv.FormatInt(time.Now().UnixNano()%1e6, 36) + strconv.Itoa(n)
	name = "gdt-" + id
	a, b := "gdta"+id, "gdtb"+id
	if len(a) > 15 {
		a, b = a[:15], b[:15]
	}
	hostIP, nsIP = fmt.Sprintf("10.231.%d.1", n), fmt.Sprintf("10.231.%d.2", n)
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			e2e.Missing(t, fmt.Sprintf("network namespace setup (%s): %v: %s", strings.Join(args, " "), err, out))
		}
	}
	sh("ip", "netns", "add", name)
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", a).Run()
		exec.Command("ip", "netns", "del", name).Run()
	})
	sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
	sh("ip", "link", "set", b, "netns", name)
	sh("ip", "addr", "add", hostIP+"/30", "dev", a)
	sh("ip", "link", "set", a, "up")
	sh("ip", "netns", "exec", name, "ip", "addr", "add", nsIP+"/30", "dev", b)
	sh("ip", "netns", "exec", name, "ip", "link", "set", b, "up")
	sh("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
	return name, hostIP, nsIP
}

// TestBlackholeInNetns: the rule appears in the namespace's firewall,
// traffic to the port is dropped, then flows again after rollback. The
// host's own firewall is compared before and after.
func TestBlackholeInNetns(t *testing.T) {
	e2e.Need(t, "sshd", "iptables", "bash", "timeout")
	before, _ := exec.Command("iptables", "-S").CombinedOutput()
	ns, hostIP, nsIP := netns(t)
	s := startSSHD(t, nsIP, ns)
	e := s.executor(t, nil)

	ctx := ctxFor(t)
	m := s.member()
	probe, port := serviceProbe(t, ctx, e, m, hostIP)
	inj := targets.Injection{RunID: "bh", Attack: "cut cache", Kind: "blackhole", Member: m,
		Params: map[string]string{"cidr": hostIP, "port": port, "protocol": "tcp"}, Duration: time.Minute}
	if err := e.Preflight(ctx, inj); err != nil {
		t.Fatal(err)
	}
	if res, err := e.Inject(ctx, &inj); err != nil {
		t.Fatalf("%v\n%s", err, res.Output)
	}
	rules, _ := e.Run(ctx, m, "iptables -S OUTPUT")
	if !strings.Contains(rules, namesFor(inj).tag()) || !strings.Contains(rules, "--dport "+port) {
		t.Fatalf("rule not in the namespace's OUTPUT chain:\n%s", rules)
	}
	if out, _ := e.Run(ctx, m, probe); out != "dropped" {
		t.Fatalf("traffic to %s:%s not dropped: %q", hostIP, port, out)
	}
	if st, err := e.Status(ctx, inj); err != nil || !st.InPlace || !st.Armed {
		t.Fatalf("status during the attack: %+v %v", st, err)
	}
	if _, err := e.Inject(ctx, &inj); err != nil { // a repeated inject adds no second rule
		t.Fatal(err)
	}
	if res, err := e.Rollback(ctx, inj); err != nil {
		t.Fatalf("%v\n%s", err, res.Output)
	}
	if rules, _ := e.Run(ctx, m, "iptables -S OUTPUT"); strings.Contains(rules, "gameday:") {
		t.Fatalf("rule left after rollback:\n%s", rules)
	}
	if out, _ := e.Run(ctx, m, probe); out != "reached" {
		t.Fatalf("traffic still dropped after rollback: %q", out)
	}
	if st, err := e.Status(ctx, inj); err != nil || st.InPlace || st.Armed {
		t.Fatalf("status after rollback: %+v %v", st, err)
	}
	after, _ := exec.Command("iptables", "-S").CombinedOutput()
	if string(before) != string(after) {
		t.Fatalf("the host's own firewall changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestNetemInNetns runs network-latency where the kernel has sch_netem,
// and says why it skips where it has not; TestNetemCommands checks the
// commands either way.
func TestNetemInNetns(t *testing.T) {
	e2e.Need(t, "sshd", "tc")
	ns, _, nsIP := netns(t)
	if out, err := exec.Command("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms").CombinedOutput(); err != nil {
		// A kernel feature, not a missing package: skip even under
		// GAMEDAY_E2E=require.
		t.Skipf("kernel has no sch_netem here (tc qdisc add ... netem: %s)", strings.TrimSpace(string(out)))
	}
	exec.Command("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", "lo", "root").Run()
	s := startSSHD(t, nsIP, ns)
	e := s.executor(t, nil)
	ctx := ctxFor(t)
	inj := targets.Injection{RunID: "nm", Attack: "slow", Kind: "network-latency", Member: s.member(),
		Params: map[string]string{"interface": "lo", "delay": "50ms"}, Duration: time.Minute}
	if _, err := e.Inject(ctx, &inj); err != nil {
		t.Fatal(err)
	}
	if out, _ := e.Run(ctx, s.member(), "tc qdisc show dev lo"); !strings.Contains(out, "netem") {
		t.Fatalf("no netem qdisc: %s", out)
	}
	if _, err := e.Rollback(ctx, inj); err != nil {
		t.Fatal(err)
	}
	if out, _ := e.Run(ctx, s.member(), "tc qdisc show dev lo"); strings.Contains(out, "netem") {
		t.Fatalf("netem left after rollback: %s", out)
	}
}

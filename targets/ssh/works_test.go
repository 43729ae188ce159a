package ssh

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// TestPreflightTriesNetem: preflight builds the netem qdisc in a scratch
// namespace. Where the kernel has no sch_netem (these machines), it fails
// naming the host, the module, tc's own words and where the module comes
// from; where it has one, it passes. Either way the interface is untouched.
func TestPreflightTriesNetem(t *testing.T) {
	e2e.Need(t, "sshd", "tc", "unshare")
	s := startSSHD(t, "127.0.0.1", "")
	e := s.executor(t, nil)
	ctx := ctxFor(t)
	_, netemErr := exec.Command("unshare", "-n", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms").CombinedOutput()
	before, _ := exec.Command("tc", "qdisc", "show", "dev", "lo").CombinedOutput()
	links, _ := exec.Command("ip", "-o", "link").CombinedOutput()

	for _, params := range []map[string]string{
		{"interface": "lo", "delay": "50ms"},
		{"interface": "lo", "delay": "50ms", "destination": "10.9.0.0/16", "port": "443"},
	} {
		inj := targets.Injection{RunID: "pf", Attack: "slow", Kind: "network-latency", Member: s.member(), Params: params, Duration: time.Minute}
		err := e.Preflight(ctx, inj)
		if netemErr == nil {
			if err != nil {
				t.Fatalf("the kernel has netem, yet preflight failed: %v", err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("preflight passed %v on a kernel that cannot create a netem qdisc", params)
		}
		for _, want := range []string{"host test-host", "sch_", "Specified qdisc kind is unknown", "modprobe sch_", "linux-modules-extra"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("preflight error lacks %q:\n%v", want, err)
			}
		}
	}
	after, _ := exec.Command("tc", "qdisc", "show", "dev", "lo").CombinedOutput()
	if string(before) != string(after) {
		t.Errorf("preflight changed lo's qdiscs:\n%s\nthen\n%s", before, after)
	}
	if now, _ := exec.Command("ip", "-o", "link").CombinedOutput(); string(now) != string(links) {
		t.Errorf("preflight left links behind:\n%s\nthen\n%s", links, now)
	}
}

// TestPreflightTriesTheRest: disk-fill finds too little room, and a
// stress-ng and a blackhole attack that would work pass.
func TestPreflightTriesTheRest(t *testing.T) {
	e2e.Need(t, "sshd", "stress-ng", "fallocate", "iptables", "unshare")
	s := startSSHD(t, "127.0.0.1", "")
	e := s.executor(t, nil)
	ctx := ctxFor(t)
	dir := t.TempDir()
	try := func(kind string, params map[string]string) error {
		return e.Preflight(ctx, targets.Injection{RunID: "pf", Attack: kind, Kind: kind, Member: s.member(), Params: params, Duration: time.Minute})
	}
	if err := try("disk-fill", map[string]string{"path": dir, "size": "900000TiB"}); err == nil || !strings.Contains(err.Error(), "MiB free") {
		t.Errorf("disk-fill larger than the disk: %v", err)
	}
	if err := try("disk-fill", map[string]string{"path": dir, "size": "1MiB"}); err != nil {
		t.Errorf("disk-fill of 1MiB: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("preflight left files in %s: %v", dir, ents)
	}
	if err := try("memory", map[string]string{"size": "80%"}); err != nil {
		t.Errorf("memory: %v", err)
	}
	if err := try("blackhole", map[string]string{"cidr": "10.9.0.0/16", "direction": "both"}); err != nil {
		t.Errorf("blackhole: %v", err)
	}
}

// TestIptablesProbeNamesRefusedRule runs the iptables probe here with a
// rule no kernel accepts; it works in a scratch namespace, so nothing of
// this machine's firewall is touched.
func TestIptablesProbeNamesRefusedRule(t *testing.T) {
	e2e.Need(t, "iptables", "unshare")
	e2e.NeedRoot(t)
	before, _ := exec.Command("iptables", "-S").CombinedOutput()
	out, err := runScript(os.Environ(), iptablesWorks("iptables", []string{"-d 10.9.0.0/16 -j DROP", "-m gameday-no-such-match -j DROP"}))
	if err == nil || !strings.Contains(out, "iptables refuses a rule this attack adds: -m gameday-no-such-match -j DROP: ") {
		t.Errorf("probe of a bad rule: %v\n%s", err, out)
	}
	if out, err := runScript(os.Environ(), iptablesWorks("iptables", []string{"-d 10.9.0.0/16 -m comment --comment gameday:x -j DROP"})); err != nil {
		t.Errorf("probe of a good rule: %v\n%s", err, out)
	}
	if after, _ := exec.Command("iptables", "-S").CombinedOutput(); string(before) != string(after) {
		t.Errorf("the probe changed this machine's firewall:\n%s\nthen\n%s", before, after)
	}
}

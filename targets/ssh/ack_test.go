package ssh

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// TestInjectAcknowledges: an inject reports when the host acknowledged it
// (switch armed, fault next) and when the switch ends it; a failed inject
// carries the host's own words.
func TestInjectAcknowledges(t *testing.T) {
	e2e.Need(t, "sshd", "setsid")
	s := startSSHD(t, "127.0.0.1", "")
	e := s.executor(t, nil)
	ctx := ctxFor(t)
	inj := targets.Injection{RunID: "ack", Attack: "mark", Kind: "custom", Member: s.member(),
		Params: map[string]string{"inject": "true", "rollback": "true"}, Duration: 5 * time.Second}
	before := time.Now()
	res, err := e.Inject(ctx, &inj)
	after := time.Now()
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Output)
	}
	if res.Applied.Before(before) || res.Applied.After(after) {
		t.Errorf("applied %s is outside the call (%s .. %s)", res.Applied, before, after)
	}
	if want := res.Applied.Add(6 * time.Second); !res.Expires.Equal(want) {
		t.Errorf("expires %s, want applied + duration + grace = %s", res.Expires, want)
	}
	if res.LinkLost || inj.State["switch_at"] != res.Expires.UTC().Format(time.RFC3339Nano) {
		t.Errorf("link lost %v, switch_at %q", res.LinkLost, inj.State["switch_at"])
	}
	if _, err := e.Rollback(ctx, inj); err != nil {
		t.Fatal(err)
	}

	bad := targets.Injection{RunID: "ack", Attack: "fails", Kind: "custom", Member: s.member(),
		Params: map[string]string{"inject": "echo 'Error: Specified qdisc kind is unknown.' >&2; exit 2", "rollback": "true"}, Duration: 5 * time.Second}
	res, err = e.Inject(ctx, &bad)
	if err == nil || res.LinkLost {
		t.Fatalf("a failing inject succeeded: %+v", res)
	}
	for _, msg := range []string{err.Error(), res.Err} {
		if !strings.Contains(msg, "host test-host: inject custom: Error: Specified qdisc kind is unknown.") {
			t.Errorf("the host's reason is missing: %s", msg)
		}
	}
}

// TestInjectLinkLost: an inject whose fault cuts the SSH link (a firewall
// rule in the host's namespace dropping port 22) returns at once as
// applied with the link lost, not at the step deadline; a rollback keeps
// its deadline, and given time retries until the switch has removed the
// fault.
func TestInjectLinkLost(t *testing.T) {
	e2e.Need(t, "sshd", "iptables", "setsid")
	ns, _, nsIP := netns(t)
	s := startSSHD(t, nsIP, ns)
	e := s.executor(t, func(o *Options) {
		o.LinkTimeout = time.Second
		o.HostDeadline = 20 * time.Second
		o.ConnectTimeout = 15 * time.Second
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	in := "INPUT -p tcp --dport 22 -m comment --comment gameday-test-cut -j DROP"
	out := "OUTPUT -p tcp --sport 22 -m comment --comment gameday-test-cut -j DROP"
	inj := targets.Injection{RunID: "lost", Attack: "cut", Kind: "custom", Member: s.member(),
		Params: map[string]string{
			"inject":   "iptables -w -I " + in + " && iptables -w -I " + out,
			"rollback": "iptables -w -D " + in + "; iptables -w -D " + out,
		}, Duration: 4 * time.Second}
	res, err := e.Inject(ctx, &inj)
	if err != nil {
		t.Fatalf("inject whose fault cut the link failed: %v\n%s", err, res.Output)
	}
	if !res.LinkLost || res.Applied.IsZero() || !res.Expires.Equal(res.Applied.Add(5*time.Second)) || inj.State["link_lost"] != "true" {
		t.Fatalf("want link lost with applied and expires set: %+v state %v", res, inj.State)
	}
	rules := func() string {
		out, _ := exec.Command("ip", "netns", "exec", ns, "iptables", "-S").CombinedOutput()
		return string(out)
	}
	if !strings.Contains(rules(), "gameday-test-cut") {
		t.Fatalf("the fault is not in place:\n%s", rules())
	}
	// A rollback under a deadline shorter than a dial's timeout keeps it,
	// saying it cannot confirm yet and when the switch ends the fault.
	short, cancelShort := context.WithTimeout(context.Background(), time.Second)
	defer cancelShort()
	start := time.Now()
	_, err = e.Rollback(short, inj)
	if err == nil || !strings.Contains(err.Error(), "host test-host: rollback custom: cannot confirm yet") || !strings.Contains(err.Error(), "dead man's switch ends the fault at") {
		t.Fatalf("rollback of a cut host under a 1s deadline: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("rollback under a 1s deadline took %s: the deadline was not kept", took)
	}
	// Without a tight deadline it retries until the switch has fired, and
	// then succeeds on a clean host.
	if res, err := e.Rollback(ctxFor(t), inj); err != nil {
		t.Fatalf("rollback after the switch: %v\n%s", err, res.Output)
	}
	if strings.Contains(rules(), "gameday-test-cut") {
		t.Fatalf("the fault is still in place after rollback:\n%s", rules())
	}
}

// TestCancelAfterTheGoAhead: an inject cancelled (an abort) after the host
// acknowledged it is applying its fault, and the host goes on without the
// session: the call waits for it, so the rollback that follows finds the
// fault and reverts it, instead of running first and leaving the fault to
// land after it.
func TestCancelAfterTheGoAhead(t *testing.T) {
	e2e.Need(t, "sshd", "setsid")
	s := startSSHD(t, "127.0.0.1", "")
	e := s.executor(t, nil)
	mark := t.TempDir() + "/fault"
	// A first inject opens the connection, so the next one's acknowledgement
	// is a round trip on an open session, well inside the second below.
	warm := targets.Injection{RunID: "cut", Attack: "warm", Kind: "custom", Member: s.member(),
		Params: map[string]string{"inject": "true", "rollback": "true"}, Duration: 5 * time.Second}
	if _, err := e.Inject(ctxFor(t), &warm); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Rollback(ctxFor(t), warm); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	inj := targets.Injection{RunID: "cut", Attack: "slow", Kind: "custom", Member: s.member(),
		Params: map[string]string{"inject": "sleep 3; touch " + mark, "rollback": "rm -f " + mark}, Duration: 30 * time.Second}
	time.AfterFunc(time.Second, cancel)
	res, _ := e.Inject(ctx, &inj)
	if res.Applied.IsZero() {
		t.Fatalf("the host had not acknowledged within a second: %+v", res)
	}
	if _, err := os.Stat(mark); err != nil {
		t.Errorf("the cancelled inject returned before its fault was applied: %v", err)
	}
	if _, err := e.Rollback(ctxFor(t), inj); err != nil {
		t.Fatal(err)
	}
	// A fault cut loose would land up to two seconds after the rollback.
	time.Sleep(2500 * time.Millisecond)
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("the fault is in place after the rollback")
	}
}

package sink_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gameday/gameday/bench/sshsink/sink"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/ssh"
)

// start serves n loopback addresses and returns an executor that trusts
// them, and the user key they accept.
func start(t *testing.T, n int) (*sink.Server, *ssh.Executor, gossh.Signer) {
	t.Helper()
	dir := t.TempDir()
	f, err := sink.StartFleet(dir, sink.Loopback(n, 0), nil)
	if err != nil {
		e2e.Missing(t, "loopback addresses for the sink: "+err.Error())
	}
	t.Cleanup(f.Close)
	e := ssh.New(ssh.Options{SSHConfig: "/nonexistent-sink-test", KnownHosts: f.KnownHosts, IdentityFiles: []string{f.UserKey}, AgentSocket: "-"})
	t.Cleanup(func() { e.Close() })
	b, err := os.ReadFile(f.UserKey)
	if err != nil {
		t.Fatal(err)
	}
	user, err := gossh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return f.Server, e, user
}

func TestLoopbackCrossesOctets(t *testing.T) {
	got := sink.Loopback(1000, 22)
	if got[0] != "127.0.0.1:22" || got[254] != "127.0.0.255:22" || got[255] != "127.0.1.0:22" || got[999] != "127.0.3.232:22" {
		t.Fatalf("addresses 1, 255, 256, 1000: %s %s %s %s", got[0], got[254], got[255], got[999])
	}
}

// The sink records each script as the executor composed it, acknowledges
// an inject so it counts as applied, and keeps each address's record apart.
func TestSinkRecordsWhatItWasAskedToRun(t *testing.T) {
	s, e, _ := start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inj := targets.Injection{RunID: "r1", Attack: "cpu", Kind: "cpu", Params: map[string]string{"workers": "1"}, Duration: time.Minute,
		Member: targets.Member{ID: "a", Addr: s.Addrs[0], Labels: map[string]string{ssh.LabelUser: "bench"}}}
	if err := e.Preflight(ctx, inj); err != nil {
		t.Fatal(err)
	}
	res, err := e.Inject(ctx, &inj)
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied.IsZero() {
		t.Fatal("the inject was not acknowledged: the sink must print the acknowledgement and wait for the go-ahead")
	}
	// A status step, as a run's checks make: the fault is in place.
	if st, err := e.Status(ctx, inj); err != nil || !st.Known || !st.InPlace {
		t.Fatalf("status: %+v, %v; want the fault in place", st, err)
	}
	if _, err := e.Rollback(ctx, inj); err != nil {
		t.Fatal(err)
	}
	ran := s.Ran(s.Addrs[0])
	ran = append(ran[:2], ran[3:]...) // the status step is not in the plan
	plan := e.Plan(inj)
	if len(ran) != 3 || len(plan) < 3 {
		t.Fatalf("ran %d scripts, planned %d lines: %q", len(ran), len(plan), ran)
	}
	for i, step := range []string{"preflight", "inject", "rollback"} {
		want := "ssh a " + step + ": sh -c " + ssh.Quote(ran[i])
		if plan[i] != want {
			t.Errorf("%s: the sink recorded a script other than the one planned:\nplanned %s\nrecorded %s", step, plan[i], want)
		}
	}
	if other := s.Ran(s.Addrs[1]); len(other) != 0 {
		t.Errorf("the untouched address recorded %q", other)
	}
}

// A line not framed as the executor frames scripts fails with status 2,
// recorded as unreadable, instead of being told it succeeded.
func TestSinkRefusesWhatItCannotRead(t *testing.T) {
	s, _, user := start(t, 1)
	c, err := gossh.Dial("tcp", s.Addrs[0], &gossh.ClientConfig{User: "x", HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Auth: []gossh.AuthMethod{gossh.PublicKeys(user)}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	stdin, _ := sess.StdinPipe()
	stdout, _ := sess.StdoutPipe()
	if err := sess.Start("sh"); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "echo hi; printf '\\n%s%d\\n' 'gameday-end-00ff ' \"$?\"\n")
	r := bufio.NewReader(stdout)
	var got []string
	for len(got) < 3 {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, strings.TrimSuffix(l, "\n"))
	}
	if got[2] != "gameday-end-00ff 2" {
		t.Fatalf("answer %q, want exit status 2", got)
	}
	if ran := s.Ran(s.Addrs[0]); len(ran) != 1 || !strings.HasPrefix(ran[0], "unreadable: echo hi") {
		t.Fatalf("recorded %q", ran)
	}
}

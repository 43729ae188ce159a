package lab

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/lab/fleet"
	"github.com/gameday/gameday/lab/prom"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/ssh"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func startLab(t *testing.T, o Options) *Lab {
	t.Helper()
	if o.HealthInterval == 0 {
		o.HealthInterval = 100 * time.Millisecond
	}
	l, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// addrs lists every address the lab listens on.
func addrs(l *Lab) []string {
	out := []string{hostPort(l.PrometheusURL), hostPort(l.LoadBalancerURL), hostPort(l.AWS.Endpoint)}
	for _, h := range l.Hosts {
		out = append(out, h.SSHAddr, hostPort(h.ServiceURL))
	}
	for _, tg := range l.Fleet().Targets() {
		out = append(out, hostPort(strings.TrimSuffix(tg.URL, "/metrics")))
	}
	return out
}

func hostPort(u string) string { return strings.TrimPrefix(u, "http://") }

func TestStartWritesFilesAndCloseLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	l, err := Start(context.Background(), Options{Dir: dir, Hosts: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Hosts) != 2 || l.Hosts[1].Name != "checkout-2" || l.Hosts[1].InstanceID == "" || l.AWS.Endpoint == "" || l.AWS.SecretAccessKey == "" {
		t.Fatalf("lab: %+v", l)
	}
	st, err := os.Stat(l.IdentityPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("identity %s: %v, mode %v", l.IdentityPath, err, st.Mode())
	}
	kh, _ := os.ReadFile(l.KnownHostsPath)
	for _, h := range l.Hosts {
		_, port, _ := net.SplitHostPort(h.SSHAddr)
		if !regexp.MustCompile(`(?m)^\[127\.0\.0\.1\]:` + port + ` ssh-ed25519 AAAA\S+$`).Match(kh) {
			t.Errorf("known_hosts has no line for %s:\n%s", h.SSHAddr, kh)
		}
	}
	cfg, _ := os.ReadFile(l.SSHConfigPath)
	for _, want := range []string{"Host checkout-1\n", "HostName 127.0.0.1", "User gameday", "IdentityFile " + l.IdentityPath, "UserKnownHostsFile " + l.KnownHostsPath, "StrictHostKeyChecking yes", "IdentitiesOnly yes"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("ssh_config lacks %q:\n%s", want, cfg)
		}
	}
	listening := addrs(l)
	l.Close()
	e2e.Closed(t, "Close", listening...)
	if _, err := os.Stat(l.SSHConfigPath); err != nil {
		t.Errorf("Close removed the files of a --dir lab: %v", err)
	}
	goleak.VerifyNone(t)

	// A temporary directory goes with the lab.
	l2, err := Start(context.Background(), Options{Hosts: 1, RPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	l2.Close()
	if _, err := os.Stat(l2.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary lab dir %s left behind: %v", l2.Dir, err)
	}
}

func TestContextEndStopsTheLab(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l, err := Start(ctx, Options{Hosts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cancel()
	e2e.WaitFor(t, 15*time.Second, "the lab to stop", func() bool {
		c, err := net.DialTimeout("tcp", l.Hosts[0].SSHAddr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
}

// TestOpenSSHClient drives the lab hosts with the system's ssh client and
// nothing but the lab's ssh_config.
func TestOpenSSHClient(t *testing.T) {
	bin := e2e.Need(t, "ssh")[0]
	l := startLab(t, Options{Hosts: 2, RPS: -1})
	ssh := func(args ...string) (string, int) {
		cmd := exec.Command(bin, append([]string{"-F", l.SSHConfigPath, "-o", "BatchMode=yes"}, args...)...)
		cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK=")
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("ssh %v: %v", args, err)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := ssh("checkout-1", "help"); code != 0 || !strings.Contains(out, "checkout-1 is a gameday lab host") {
		t.Fatalf("ssh checkout-1 help: exit %d\n%s", code, out)
	}
	if out, code := ssh("checkout-2", "errors", "'--share=50%'", "'--duration=1m'"); code != 0 || !strings.Contains(out, "checkout-2: errors share=50% status=500 for 1m") {
		t.Fatalf("inject over ssh: exit %d\n%s", code, out)
	}
	in, _ := l.Fleet().Instance("checkout-2")
	if fs := in.Faults(); len(fs) != 1 || fs[0].Name != "errors" {
		t.Fatalf("checkout-2 faults after inject: %+v", fs)
	}
	if out, code := ssh("checkout-2", "status"); code != 0 || !strings.Contains(out, "errors share=50% status=500: ") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	if out, code := ssh("checkout-2", "errors --rollback"); code != 0 || !strings.Contains(out, "errors rolled back") || len(in.Faults()) != 0 {
		t.Fatalf("rollback: exit %d\n%s", code, out)
	}
	if out, code := ssh("checkout-1", "cat /etc/passwd"); code != fleet.ExitUnknown || !strings.Contains(out, `unknown command "cat"`) {
		t.Fatalf("a shell command: exit %d\n%s", code, out)
	}
	if out, code := ssh("checkout-1"); code != 1 || !strings.Contains(out, "not a shell") {
		t.Fatalf("interactive login: exit %d\n%s", code, out)
	}
	// Another key is refused, however the client asks.
	other := filepath.Join(t.TempDir(), "other")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other).CombinedOutput(); err == nil {
		if out, code := ssh("-o", "IdentityFile="+other, "-i", other, "-l", "gameday", "-o", "IdentitiesOnly=yes", "-F", "/dev/null",
			"-o", "UserKnownHostsFile="+l.KnownHostsPath, "-p", strings.Split(l.Hosts[0].SSHAddr, ":")[1], "127.0.0.1", "help"); code != 255 {
			t.Fatalf("a stranger's key: exit %d\n%s", code, out)
		}
	} else {
		t.Logf("ssh-keygen not usable, stranger's key not tried: %v %s", err, out)
	}
}

// executor is gameday's SSH executor configured the way gameday lab does.
func executor(l *Lab) *ssh.Executor {
	return ssh.New(ssh.Options{SSHConfig: l.SSHConfigPath, KnownHosts: l.KnownHostsPath, IdentityFiles: []string{l.IdentityPath}, AgentSocket: "-"})
}

// TestExecutorRunsEveryLabKind injects each lab kind through the SSH
// executor, checks the fleet shows it, rolls back and checks it is gone.
func TestExecutorRunsEveryLabKind(t *testing.T) {
	l := startLab(t, Options{Hosts: 3, RPS: 100})
	e := executor(l)
	defer e.Close()
	ctx := context.Background()
	members, err := e.Resolve(ctx, runbook.Target{Name: "checkout", SSH: &runbook.SSHTarget{Hosts: []string{"checkout-1", "checkout-2", "checkout-3"}, User: User}})
	if err != nil {
		t.Fatal(err)
	}
	host := members[1]
	in, _ := l.Fleet().Instance(host.ID)
	effects := map[string]struct {
		params map[string]string
		on     func() bool // the fault is visibly in effect
	}{
		"lab-latency":            {map[string]string{"delay": "50ms"}, nil},
		"lab-errors":             {map[string]string{"share": "100%", "status": "503"}, func() bool { return metric(t, host, in, `http_requests_total{code="503"}`) > 0 }},
		"lab-cpu":                {map[string]string{"load": "50"}, nil},
		"lab-process-kill":       {map[string]string{"restart_after": "10m"}, func() bool { return !in.Up() }},
		"lab-blackhole":          {nil, func() bool { return !l.Fleet().LB().Healthy()[host.ID] }},
		"lab-dependency-latency": {map[string]string{"delay": "20ms"}, nil},
	}
	cat := targets.Default()
	var kinds []string
	for _, k := range cat.Kinds() {
		if k.LabCommand() != "" {
			kinds = append(kinds, k.Name)
		}
	}
	if len(kinds) != len(effects) {
		t.Fatalf("catalogue has lab kinds %v; this test knows %d", kinds, len(effects))
	}
	for _, kind := range kinds {
		eff := effects[kind]
		k, _ := cat.Spec(kind)
		v, probs := k.Parse(eff.params)
		if len(probs) > 0 {
			t.Fatalf("%s: %v", kind, probs)
		}
		inj := targets.Injection{RunID: "t", Attack: kind, Kind: kind, Member: host, Params: v.Canonical(), Duration: 5 * time.Minute}
		if err := e.Preflight(ctx, inj); err != nil {
			t.Fatalf("%s preflight: %v", kind, err)
		}
		if res, err := e.Inject(ctx, &inj); err != nil {
			t.Fatalf("%s inject: %v (%s)", kind, err, res.Output)
		}
		name := k.LabCommand()
		if fs := in.Faults(); len(fs) != 1 || fs[0].Name != name {
			t.Fatalf("%s: faults on %s after inject: %+v", kind, host.ID, fs)
		}
		if eff.on != nil {
			e2e.WaitFor(t, 15*time.Second, kind+" to show", eff.on)
		}
		for _, other := range []string{"checkout-1", "checkout-3"} {
			if o, _ := l.Fleet().Instance(other); len(o.Faults()) != 0 {
				t.Fatalf("%s landed on %s too", kind, other)
			}
		}
		for range 2 { // idempotent
			if res, err := e.Rollback(ctx, inj); err != nil {
				t.Fatalf("%s rollback: %v (%s)", kind, err, res.Output)
			}
		}
		if fs := in.Faults(); len(fs) != 0 || !in.Up() {
			t.Fatalf("%s: after rollback up=%v faults %+v", kind, in.Up(), fs)
		}
		out, err := e.Run(ctx, host, "status")
		if err != nil || !strings.Contains(out, "no active faults") {
			t.Fatalf("%s: status after rollback: %v\n%s", kind, err, out)
		}
	}
}

// A fault a person ended with the lab host's reset is found gone by its
// rollback, as a real host's probe would find it; one that expired on its
// own is not.
func TestAFaultResetByHandIsFoundGone(t *testing.T) {
	l := startLab(t, Options{Hosts: 1, RPS: 10})
	e := executor(l)
	defer e.Close()
	ctx := context.Background()
	members, err := e.Resolve(ctx, runbook.Target{Name: "checkout", SSH: &runbook.SSHTarget{Hosts: []string{"checkout-1"}, User: User}})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := l.Fleet().Instance(members[0].ID)
	latency := func(d time.Duration) targets.Injection {
		inj := targets.Injection{RunID: "t", Attack: "slow", Kind: "lab-latency", Member: members[0], Params: map[string]string{"delay": "50ms"}, Duration: d}
		if res, err := e.Inject(ctx, &inj); err != nil {
			t.Fatalf("inject: %v (%s)", err, res.Output)
		}
		return inj
	}
	inj := latency(5 * time.Minute)
	if out, err := e.Run(ctx, members[0], "reset"); err != nil || !strings.Contains(out, "rolled back latency") {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	res, err := e.Rollback(ctx, inj)
	if err != nil || !res.Gone || !strings.Contains(res.Output, "reset by hand") {
		t.Fatalf("rollback after a reset: %v, gone %v (%s)", err, res.Gone, res.Output)
	}
	inj = latency(time.Second)
	e2e.WaitFor(t, 10*time.Second, "the fault to expire", func() bool { return len(in.Faults()) == 0 })
	if res, err := e.Rollback(ctx, inj); err != nil || res.Gone {
		t.Errorf("rollback after the fault expired: %v, gone %v (%s)", err, res.Gone, res.Output)
	}
}

// A lab fault a person reset by hand is told to Options.Ended while its
// attack runs, in the host's words, as a real host's would be; one still
// in place is not, nor a killed process the lab restarts on its own.
func TestALabFaultResetByHandIsToldWhileItRuns(t *testing.T) {
	l := startLab(t, Options{Hosts: 2, RPS: 10})
	told := make(chan string, 8)
	e := ssh.New(ssh.Options{SSHConfig: l.SSHConfigPath, KnownHosts: l.KnownHostsPath, IdentityFiles: []string{l.IdentityPath}, AgentSocket: "-",
		WatchEvery: 100 * time.Millisecond, Ended: func(inj targets.Injection, msg string) { told <- inj.Attack + "@" + inj.Member.ID + ": " + msg }})
	defer e.Close()
	ctx := context.Background()
	members, err := e.Resolve(ctx, runbook.Target{Name: "checkout", SSH: &runbook.SSHTarget{Hosts: []string{"checkout-1", "checkout-2"}, User: User}})
	if err != nil {
		t.Fatal(err)
	}
	inject := func(attack, kind string, m targets.Member, params map[string]string) targets.Injection {
		inj := targets.Injection{RunID: "t", Attack: attack, Kind: kind, Member: m, Params: params, Duration: 5 * time.Minute}
		if res, err := e.Inject(ctx, &inj); err != nil {
			t.Fatalf("%s: inject: %v (%s)", attack, err, res.Output)
		}
		return inj
	}
	slow := inject("slow", "lab-latency", members[0], map[string]string{"delay": "50ms"})
	kept := inject("kept", "lab-cpu", members[1], nil)
	killed := inject("killed", "lab-process-kill", members[1], map[string]string{"restart_after": "1s"})
	if st, err := e.Status(ctx, kept); err != nil || !st.Known || !st.InPlace {
		t.Fatalf("status of a fault in place: %+v, %v", st, err)
	}
	if out, err := e.Run(ctx, members[0], "reset"); err != nil || !strings.Contains(out, "rolled back latency") {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	if msg := e2e.Receive(t, told, 10*time.Second, "the fault reset by hand, told"); !strings.HasPrefix(msg, "slow@checkout-1: the fault was no longer in place at ") || !strings.HasSuffix(msg, ": it was reset by hand") {
		t.Errorf("told %q", msg)
	}
	// The killed process restarted after 1s; the checks go on meanwhile.
	time.Sleep(2 * time.Second)
	select {
	case msg := <-told:
		t.Errorf("told of a fault still in place or one the lab ends by design: %q", msg)
	default:
	}
	if st, err := e.Status(ctx, slow); err != nil || !st.Known || st.InPlace || !strings.Contains(st.Output, "reset by hand") {
		t.Errorf("status of the reset fault: %+v, %v", st, err)
	}
	for _, inj := range []targets.Injection{slow, kept, killed} {
		if res, err := e.Rollback(ctx, inj); err != nil {
			t.Fatalf("%s: rollback: %v (%s)", inj.Attack, err, res.Output)
		}
	}
	if st, err := e.Status(ctx, kept); err != nil || !st.Known || st.InPlace {
		t.Errorf("status after the rollback: %+v, %v", st, err)
	}
}

// metric reads one sample of the host's own /metrics.
func metric(t *testing.T, _ targets.Member, in *fleet.Instance, series string) float64 {
	t.Helper()
	resp, err := http.Get(in.URL() + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
				return v
			}
		}
	}
	return 0
}

// TestEC2StopStopsTheHost stops and starts a host through the lab's EC2
// hook: its service and SSH server go, then come back on the same ports.
func TestEC2StopStopsTheHost(t *testing.T) {
	l := startLab(t, Options{Hosts: 2, RPS: -1})
	h := l.Hosts[0]
	in, _ := l.Fleet().Instance(h.Name)
	in.Exec("latency --delay=1s --duration=1h")
	l.instanceState(h.InstanceID, "stopping")
	if in.Up() || len(in.Faults()) != 0 {
		t.Fatalf("after stop: up=%v faults=%v", in.Up(), in.Faults())
	}
	if c, err := net.DialTimeout("tcp", h.SSHAddr, time.Second); err == nil {
		c.Close()
		t.Fatal("a stopped host's SSH server still answers")
	}
	l.instanceState(h.InstanceID, "running")
	e := executor(l)
	defer e.Close()
	out, err := e.Run(context.Background(), targets.Member{ID: h.Name, Labels: map[string]string{ssh.LabelUser: User}}, "status")
	if err != nil || !strings.Contains(out, "service up") {
		t.Fatalf("after start: %v\n%s", err, out)
	}
	stdout, stderr, code := l.runShell(context.Background(), h.InstanceID, []string{"errors '--share=10%' '--duration=1m'", "status"})
	if code != 0 || !strings.Contains(stdout, "errors share=10% status=500: ") || stderr != "" {
		t.Fatalf("run shell: %d %q %q", code, stdout, stderr)
	}
	if _, stderr, code := l.runShell(context.Background(), h.InstanceID, []string{"uptime"}); code != fleet.ExitUnknown || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("run shell of a non-lab command: %d %q", code, stderr)
	}
}

// TestScenariosValidate renders every scenario at full length and
// shortened, and checks each against the runbook loader and catalogue.
func TestScenariosValidate(t *testing.T) {
	l := &Lab{PrometheusURL: "http://127.0.0.1:9090", SSHConfigPath: "/tmp/lab/ssh_config",
		Hosts: []Host{{Name: "checkout-1"}, {Name: "checkout-2"}, {Name: "checkout-3"}},
		AWS:   AWS{Endpoint: "http://127.0.0.1:4566", Region: "us-east-1", Account: "123456789012"}}
	scenarios := Scenarios()
	alerting := 0
	if len(scenarios) < 3 {
		t.Fatalf("%d scenarios", len(scenarios))
	}
	for _, s := range scenarios {
		if s.Summary == "" || (s.Outcome != "held" && s.Outcome != "refuted" && s.Outcome != "aborted") {
			t.Errorf("%s: summary %q, outcome %q", s.Name, s.Summary, s.Outcome)
		}
		for _, scale := range []float64{1, 0.1} {
			if checkScenarioAt(t, l, s, scale) {
				alerting++
			}
		}
	}
	if alerting == 0 {
		t.Error("no lab scenario carries alerting rules")
	}
	if _, err := l.Runbook("nope", 1); err == nil || !strings.Contains(err.Error(), "expected one of") {
		t.Fatalf("unknown scenario: %v", err)
	}
}

// checkScenarioAt renders scenario s at scale and checks its runbook
// against the loader and catalogue and its alerting rules, if it has any,
// against rulefmt; it reports whether it has rules.
func checkScenarioAt(t *testing.T, l *Lab, s Scenario, scale float64) bool {
	t.Helper()
	src, err := l.Runbook(s.Name, scale)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := runbook.Parse(s.Name+".yaml", src, targets.Default())
	if err != nil {
		t.Fatalf("%s at scale %g: %v\n%s", s.Name, scale, err, src)
	}
	tg := rb.Targets[0]
	if rb.Metrics.URL != l.PrometheusURL || len(rb.Targets) != 1 || (tg.SSH == nil || tg.SSH.Config != l.SSHConfigPath) && (tg.AWS == nil || tg.AWS.Endpoint != l.AWS.Endpoint) {
		t.Errorf("%s: lab values not filled in: %+v", s.Name, rb.Metrics)
	}
	if rb.Stages() > 0 && s.Outcome == "refuted" && (s.Stage < 1 || s.Stage > rb.Stages()) {
		t.Errorf("%s: %d stages, outcome line says refuted at stage %d; want the stage it breaks at", s.Name, rb.Stages(), s.Stage)
	}
	if scale < 1 && rb.Baseline.Duration > 10*time.Second {
		t.Errorf("%s at scale %g: baseline %s", s.Name, scale, rb.Baseline.Duration)
	}
	// A scenario that expects alerts carries the rules that raise
	// them, and Prometheus's rulefmt accepts them.
	rules, ok, err := l.Rules(s.Name, scale)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		if err := prom.CheckRules(s.Name+RulesExt, rules); err != nil {
			t.Errorf("%s at scale %g: %v\n%s", s.Name, scale, err, rules)
		}
	}
	if (len(rb.Alerts.Expect) > 0) != ok {
		t.Errorf("%s: %d expected alert(s), rules %v", s.Name, len(rb.Alerts.Expect), ok)
	}
	for _, x := range rb.Alerts.Expect {
		if !strings.Contains(string(rules), "- alert: "+x.Name+"\n") {
			t.Errorf("%s: expects %s, which its rules do not define", s.Name, x.Name)
		}
	}
	return ok
}

// The scenarios' rule files, rendered at full and at test scale, are rule
// files Prometheus itself accepts.
func TestScenarioRulesPassPromtool(t *testing.T) {
	promtool := e2e.Need(t, "promtool")[0]
	l := &Lab{PrometheusURL: "http://127.0.0.1:9090"}
	for _, s := range Scenarios() {
		for _, scale := range []float64{1, 0.1} {
			rules, ok, err := l.Rules(s.Name, scale)
			if err != nil || !ok {
				continue
			}
			path := filepath.Join(t.TempDir(), s.Name+RulesExt)
			if err := os.WriteFile(path, rules, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
				t.Errorf("%s at scale %g: promtool: %v\n%s", s.Name, scale, err, out)
			}
		}
	}
}

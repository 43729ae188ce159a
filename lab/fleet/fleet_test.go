package fleet

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/gameday/gameday/lab/e2e"
	sshexec "github.com/gameday/gameday/targets/ssh"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startFleet starts a fleet without load unless rps says otherwise, and
// closes it at the end of the test.
func startFleet(t *testing.T, o Options) *Fleet {
	t.Helper()
	if o.RPS == 0 {
		o.RPS = -1
	}
	if o.HealthInterval == 0 {
		o.HealthInterval = 50 * time.Millisecond
	}
	f, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func get(t *testing.T, url string, timeout time.Duration) (int, time.Duration, error) {
	t.Helper()
	c := &http.Client{Timeout: timeout}
	defer c.CloseIdleConnections()
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		return 0, time.Since(start), err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start), nil
}

// scrape reads a /metrics endpoint into metric families.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return mf
}

func requests(mf map[string]*dto.MetricFamily, code string) float64 {
	for _, m := range mf["http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "code" && l.GetValue() == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func exec(t *testing.T, in *Instance, line string, wantCode int) string {
	t.Helper()
	out, errOut, code := in.Exec(line)
	if code != wantCode {
		t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", line, code, wantCode, out, errOut)
	}
	return out + errOut
}

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
		err  string
	}{
		{line: "help", want: []string{"help"}},
		{line: "  status  ", want: []string{"status"}},
		{line: `latency '--delay=200ms' '--duration=5m0s'`, want: []string{"latency", "--delay=200ms", "--duration=5m0s"}},
		{line: `errors --share=10% --duration=1m`, want: []string{"errors", "--share=10%", "--duration=1m"}},
		{line: `x 'it'\''s'`, want: []string{"x", "it's"}},
		{line: `x ''`, want: []string{"x", ""}},
		{line: `x a\ b`, want: []string{"x", "a b"}},
		{line: `x 'a;b'`, want: []string{"x", "a;b"}},
		{line: "", want: nil},
		{line: "latency --delay=1s; rm -rf /", err: `";" at column 19`},
		{line: "status | cat", err: `"|" at column 8`},
		{line: "echo $HOME", err: `"$" at column 6`},
		{line: `echo "x"`, err: `"\"" at column 6`},
		{line: "status\nhelp", err: "column 7"},
		{line: "x 'open", err: "unterminated single quote at column 3"},
		{line: `x \`, err: "backslash at the end"},
	} {
		got, err := splitWords(tc.line)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("splitWords(%q) error = %v, want %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", tc.line, got, err, tc.want)
		}
	}
}

func TestExecRefusesAndExplains(t *testing.T) {
	f := startFleet(t, Options{Instances: 1})
	in := f.Instances()[0]
	for _, tc := range []struct {
		line string
		code int
		want string
	}{
		{"", ExitUsage, "no command given"},
		{"rm -rf /", ExitUnknown, `unknown command "rm"`},
		{"latencyy --delay=1s --duration=1m", ExitUnknown, `did you mean "latency"`},
		{"memory --size=1GiB --duration=1m", ExitUnknown, "this lab host runs blackhole, cpu, dependency-latency, errors, latency, process-kill"},
		{"latency --delay=200ms", ExitUsage, "missing --duration"},
		{"latency --duration=1m", ExitUsage, `missing param "delay"`},
		{"latency --delay=fast --duration=1m", ExitUsage, "params.delay: expected a duration such as 200ms"},
		{"latency --delay=100ms --jitter=200ms --duration=1m", ExitUsage, "params.jitter: expected at most delay"},
		{"latency --delay=100ms --color=red --duration=1m", ExitUsage, `unknown param "color"`},
		{"latency --delay=100ms --duration=5h", ExitUsage, "--duration: at most 4h"},
		{"latency --delay=100ms --duration=-1s", ExitUsage, "--duration: expected a duration"},
		{"latency --delay=100ms --delay=1s --duration=1m", ExitUsage, "--delay given twice"},
		{"latency delay=100ms --duration=1m", ExitUsage, `expected --param=value, found "delay=100ms"`},
		{"errors --share=1 --duration=1m", ExitUsage, "params.share"},
		{"errors --share=10% --status=200 --duration=1m", ExitUsage, "params.status"},
		{"latency --rollback --delay=1s", ExitUsage, "--rollback takes nothing else"},
		{"status; reboot", ExitUsage, "not a shell"},
	} {
		out, errOut, code := in.Exec(tc.line)
		if code != tc.code || !strings.Contains(errOut, tc.want) || !strings.HasPrefix(errOut, "checkout-1: ") || out != "" {
			t.Errorf("Exec(%q) = %q, %q, %d; want exit %d and a message naming the host with %q", tc.line, out, errOut, code, tc.code, tc.want)
		}
	}
	if got := in.Faults(); len(got) != 0 {
		t.Fatalf("refused commands left faults: %v", got)
	}
	help := exec(t, in, "help", ExitOK)
	for _, want := range []string{"latency [--param=value ...] --duration=D", "--delay=duration (required)", "--share=share (default 100%)", "process-kill", "--restart_after", "NAME --rollback"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
}

func TestFaultLifecycle(t *testing.T) {
	f := startFleet(t, Options{Instances: 1})
	in := f.Instances()[0]
	if got := exec(t, in, "status", ExitOK); !strings.Contains(got, "service up") || !strings.Contains(got, "no active faults") {
		t.Fatalf("status of a clean host:\n%s", got)
	}
	got := exec(t, in, `latency '--delay=200ms' '--jitter=0s' '--share=100%' '--duration=5m0s'`, ExitOK)
	if !strings.Contains(got, "latency delay=200ms jitter=0s share=100% for 5m") {
		t.Fatalf("inject said:\n%s", got)
	}
	st := exec(t, in, "status", ExitOK)
	if !strings.Contains(st, "latency delay=200ms jitter=0s share=100%: 5m left") && !strings.Contains(st, "latency delay=200ms jitter=0s share=100%: 4m59s left") {
		t.Fatalf("status with a fault:\n%s", st)
	}
	// Applied again: replaced, not doubled.
	exec(t, in, "latency --delay=100ms --duration=1m", ExitOK)
	if fs := in.Faults(); len(fs) != 1 || fs[0].Params["delay"] != "100ms" {
		t.Fatalf("after re-apply: %+v", fs)
	}
	if got := exec(t, in, "latency --rollback", ExitOK); !strings.Contains(got, "latency rolled back") {
		t.Fatalf("rollback said %q", got)
	}
	if got := exec(t, in, "latency --rollback", ExitOK); !strings.Contains(got, "nothing to roll back") {
		t.Fatalf("second rollback said %q", got)
	}
	// Each fault expires on its own.
	exec(t, in, "errors --share=50% --duration=100ms", ExitOK)
	exec(t, in, "cpu --load=10 --duration=150ms", ExitOK)
	e2e.WaitFor(t, 10*time.Second, "faults to expire", func() bool { return len(in.Faults()) == 0 })
	exec(t, in, "blackhole --duration=1m", ExitOK)
	exec(t, in, "dependency-latency --delay=1s --duration=1m", ExitOK)
	if got := exec(t, in, "reset", ExitOK); !strings.Contains(got, "rolled back blackhole, dependency-latency") {
		t.Fatalf("reset said %q", got)
	}
	if got := exec(t, in, "status", ExitOK); !strings.Contains(got, "no active faults") {
		t.Fatalf("status after reset:\n%s", got)
	}
}

func TestFaultEffects(t *testing.T) {
	f := startFleet(t, Options{Instances: 1, Seed: 7})
	in := f.Instances()[0]
	url := in.URL() + "/checkout"
	code, _, err := get(t, url, 5*time.Second)
	if err != nil || code != 200 {
		t.Fatalf("clean instance: %d %v", code, err)
	}

	t.Run("latency", func(t *testing.T) { checkSlowed(t, in, url, "latency", "300ms latency") })
	t.Run("dependency-latency", func(t *testing.T) { checkSlowed(t, in, url, "dependency-latency", "a 300ms database") })
	t.Run("errors", func(t *testing.T) { checkErrors(t, f, in, url) })
	t.Run("cpu", func(t *testing.T) { checkCPU(t, f, in, url) })
	t.Run("blackhole", func(t *testing.T) { checkBlackhole(t, f, in, url) })
	t.Run("process-kill", func(t *testing.T) { checkProcessKill(t, f, in, url) })
}

// checkSlowed runs the lab command fault with a 300ms delay and checks a
// request through url takes at least that long; slow says what was slowed.
func checkSlowed(t *testing.T, in *Instance, url, fault, slow string) {
	exec(t, in, fault+" --delay=300ms --duration=1m", ExitOK)
	defer exec(t, in, fault+" --rollback", ExitOK)
	if code, took, err := get(t, url, 5*time.Second); err != nil || code != 200 || took < 300*time.Millisecond {
		t.Fatalf("with %s: %d after %s, %v", slow, code, took, err)
	}
}

func checkErrors(t *testing.T, f *Fleet, in *Instance, url string) {
	before := requests(scrape(t, in.URL()+"/metrics"), "503")
	exec(t, in, "errors --share=100% --status=503 --duration=1m", ExitOK)
	for range 3 {
		if code, _, err := get(t, url, 5*time.Second); err != nil || code != 503 {
			t.Fatalf("with errors at 100%%: %d, %v", code, err)
		}
	}
	if after := requests(scrape(t, in.URL()+"/metrics"), "503"); after-before != 3 {
		t.Fatalf("http_requests_total{code=\"503\"} went from %v to %v, want +3", before, after)
	}
	exec(t, in, "errors --rollback", ExitOK)
	if code, _, err := get(t, url, 5*time.Second); err != nil || code != 200 {
		t.Fatalf("after rollback: %d, %v", code, err)
	}
}

func checkCPU(t *testing.T, f *Fleet, in *Instance, url string) {
	exec(t, in, "cpu --load=80 --duration=1m", ExitOK)
	if got := in.fx.Load().cpuFactor; got != cpuSlowdown(80) || got < 2 {
		t.Fatalf("cpu factor %v", got)
	}
	exec(t, in, "cpu --rollback", ExitOK)
	if got := in.fx.Load().cpuFactor; got != 1 {
		t.Fatalf("cpu factor after rollback %v", got)
	}
}

func checkBlackhole(t *testing.T, f *Fleet, in *Instance, url string) {
	exec(t, in, "blackhole --duration=1m", ExitOK)
	if _, _, err := get(t, url, 200*time.Millisecond); err == nil {
		t.Fatal("a blackholed instance answered")
	}
	e2e.WaitFor(t, 10*time.Second, "the LB to take the instance out", func() bool { return !f.LB().Healthy()["checkout-1"] })
	if code, _, err := get(t, f.LB().URL()+"/checkout", 5*time.Second); err != nil || code != 503 {
		t.Fatalf("LB with its only instance blackholed: %d, %v", code, err)
	}
	exec(t, in, "blackhole --rollback", ExitOK)
	e2e.WaitFor(t, 10*time.Second, "the LB to take the instance back", func() bool { return f.LB().Healthy()["checkout-1"] })
	if code, _, err := get(t, f.LB().URL()+"/checkout", 5*time.Second); err != nil || code != 200 {
		t.Fatalf("LB after rollback: %d, %v", code, err)
	}
}

func checkProcessKill(t *testing.T, f *Fleet, in *Instance, url string) {
	addr := strings.TrimPrefix(in.URL(), "http://")
	exec(t, in, "process-kill --restart_after=300ms --duration=1m", ExitOK)
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("a killed instance still accepts connections")
	}
	if in.Up() {
		t.Fatal("killed instance reports up")
	}
	e2e.WaitFor(t, 10*time.Second, "the supervisor to restart it", in.Up)
	if in.Restarts() != 1 || len(in.Faults()) != 0 {
		t.Fatalf("after restart: %d restarts, faults %v", in.Restarts(), in.Faults())
	}
	if code, _, err := get(t, url, 5*time.Second); err != nil || code != 200 {
		t.Fatalf("after restart: %d, %v", code, err)
	}
	// Rolled back before restart_after: up at once.
	exec(t, in, "process-kill --restart_after=1h --duration=2h", ExitOK)
	exec(t, in, "process-kill --rollback", ExitOK)
	if !in.Up() || in.Restarts() != 2 {
		t.Fatalf("after rollback: up=%v restarts=%d", in.Up(), in.Restarts())
	}
}

func TestLBRoutesAroundDeadInstance(t *testing.T) {
	f := startFleet(t, Options{Instances: 3})
	victim := f.Instances()[1]
	exec(t, victim, "process-kill --restart_after=1h --duration=1h", ExitOK)
	e2e.WaitFor(t, 10*time.Second, "the LB to take checkout-2 out", func() bool { return !f.LB().Healthy()["checkout-2"] })
	for range 6 {
		if code, _, err := get(t, f.LB().URL()+"/checkout", 5*time.Second); err != nil || code != 200 {
			t.Fatalf("with one instance of three down and out of rotation: %d, %v", code, err)
		}
	}
	f.PowerOff("checkout-1")
	f.PowerOff("checkout-3")
	if f.Instances()[0].Up() || len(victim.Faults()) != 1 {
		t.Fatal("power off did not stop checkout-1, or touched checkout-2")
	}
	e2e.WaitFor(t, 10*time.Second, "every instance out", func() bool {
		code, _, err := get(t, f.LB().URL()+"/checkout", 5*time.Second)
		return err == nil && code == 503
	})
	lb := scrape(t, f.LB().MetricsURL())
	if requests(lb, "200") < 6 || requests(lb, "503") < 1 {
		t.Fatalf("LB metrics: 200=%v 503=%v", requests(lb, "200"), requests(lb, "503"))
	}
	if err := f.PowerOn("checkout-1"); err != nil || !f.Instances()[0].Up() {
		t.Fatalf("power on: %v", err)
	}
}

// TestLBRetriesRefusedConnections: a dead instance refuses connections,
// and the LB sends the request to the next instance before any health
// check has run.
func TestLBRetriesRefusedConnections(t *testing.T) {
	f := startFleet(t, Options{Instances: 2, HealthInterval: time.Hour})
	exec(t, f.Instances()[0], "process-kill --restart_after=1h --duration=1h", ExitOK)
	for range 4 {
		if code, _, err := get(t, f.LB().URL()+"/checkout", 5*time.Second); err != nil || code != 200 {
			t.Fatalf("with checkout-1 dead: %d, %v", code, err)
		}
	}
	if f.LB().Healthy()["checkout-1"] || !f.LB().Healthy()["checkout-2"] {
		t.Fatalf("healthy: %v", f.LB().Healthy())
	}
	if got := requests(scrape(t, f.Instances()[1].URL()+"/metrics"), "200"); got != 4 {
		t.Fatalf("checkout-2 served %v, want all 4", got)
	}
}

// TestLoadAndMetrics runs the load generator for a moment and checks the
// LB's and instances' metrics agree with each other.
func TestLoadAndMetrics(t *testing.T) {
	f := startFleet(t, Options{Instances: 3, RPS: 200, Seed: 1})
	e2e.WaitFor(t, 10*time.Second, "100 requests at the LB", func() bool { return requests(scrape(t, f.LB().MetricsURL()), "200") >= 100 })
	lb := scrape(t, f.LB().MetricsURL())
	h := lb["http_request_duration_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() < 100 {
		t.Fatalf("LB histogram count %d", h.GetSampleCount())
	}
	// Latency lands in the expected range: the median under 60ms, and
	// every instance took some of the traffic.
	var under60 uint64
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == 0.075 {
			under60 = b.GetCumulativeCount()
		}
	}
	if float64(under60) < 0.5*float64(h.GetSampleCount()) {
		t.Fatalf("only %d of %d requests under 75ms", under60, h.GetSampleCount())
	}
	for _, in := range f.Instances() {
		if got := requests(scrape(t, in.URL()+"/metrics"), "200"); got == 0 {
			t.Errorf("%s served nothing", in.Name())
		}
	}
	for _, code := range presetCodes {
		if _, ok := func() (float64, bool) {
			for _, m := range lb["http_requests_total"].GetMetric() {
				if m.GetLabel()[0].GetValue() == code {
					return 0, true
				}
			}
			return 0, false
		}(); !ok {
			t.Errorf("LB does not export http_requests_total{code=%q} before the first such request", code)
		}
	}
}

func TestCloseLeavesNoPorts(t *testing.T) {
	f, err := Start(Options{Instances: 2, RPS: 100, HealthInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, f.Instances()[0], "cpu --load=50 --duration=1m", ExitOK)
	exec(t, f.Instances()[1], "blackhole --duration=1m", ExitOK)
	time.Sleep(200 * time.Millisecond) // let requests pile up on the blackhole
	var addrs []string
	for _, tg := range f.Targets() {
		addrs = append(addrs, strings.TrimSuffix(strings.TrimPrefix(tg.URL, "http://"), "/metrics"))
	}
	addrs = append(addrs, strings.TrimPrefix(f.LB().URL(), "http://"))
	f.Close()
	for _, a := range addrs {
		d := net.Dialer{Timeout: time.Second}
		if c, err := d.DialContext(context.Background(), "tcp", a); err == nil {
			c.Close()
			t.Errorf("%s still listening after Close", a)
		}
	}
	goleak.VerifyNone(t)
}

// FuzzSplitWordsReadsQuote: whatever the SSH executor quotes, the lab host
// reads back exactly, word for word.
func FuzzSplitWordsReadsQuote(f *testing.F) {
	for _, s := range []string{"200ms", "it's", "a b", "10%", "", `\`, "'';'", "--x=$(y)"} {
		f.Add(s, "--duration=5m0s")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if strings.ContainsAny(a+b, "\x00") {
			return
		}
		got, err := splitWords(sshexec.Quote(a) + " " + sshexec.Quote(b))
		if err != nil {
			// Quote leaves only plain words unquoted, so nothing it
			// produces may be refused.
			t.Fatalf("splitWords(Quote(%q) Quote(%q)): %v", a, b, err)
		}
		if len(got) != 2 || got[0] != a || got[1] != b {
			t.Fatalf("splitWords(Quote(%q) Quote(%q)) = %q", a, b, got)
		}
	})
}

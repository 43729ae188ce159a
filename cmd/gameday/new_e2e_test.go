package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/lab/e2e"
)

// fleet is two real sshd hosts named in an ssh_config, and a real
// Prometheus scraping a service's latency histogram and status counter as
// job checkout: a small system of a user's own.
type fleet struct {
	prom      string
	sshConfig string
	dir       string
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	e2e.Need(t, "sshd", "prometheus", "stress-ng", "setsid")
	f := &fleet{dir: t.TempDir()}
	svc := e2e.StartService(t)
	f.prom = e2e.StartPrometheusScraping(t, svc.ScrapeJob("checkout"))
	var conf, known strings.Builder
	for _, name := range []string{"h1", "h2"} {
		d := e2e.StartSSHD(t, "127.0.0.1", "")
		// The runbooks run here burn CPU as written (cpu-hog: every core
		// at 90%); at the lowest priority they leave the tests that share
		// the machine their time.
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, d.Pid, 19); err != nil {
			t.Fatal(err)
		}
		host, port, _ := strings.Cut(d.Addr, ":")
		fmt.Fprintf(&conf, "Host %s\n  HostName %s\n  Port %s\n  User root\n  IdentityFile %s\n", name, host, port, d.UserKey)
		kh, err := os.ReadFile(d.KnownHosts)
		if err != nil {
			t.Fatal(err)
		}
		known.Write(kh)
	}
	kh := filepath.Join(f.dir, "known_hosts")
	if err := os.WriteFile(kh, []byte(known.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// A wildcard block and a host of another name: neither is picked by h*.
	fmt.Fprintf(&conf, "Host db-1\n  HostName 127.0.0.1\nHost *\n  UserKnownHostsFile %s\n", kh)
	f.sshConfig = filepath.Join(f.dir, "ssh_config")
	if err := os.WriteFile(f.sshConfig, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// Discovery wants rates, which need two scrapes of traffic.
	api := e2e.PrometheusAPI(t, f.prom)
	e2e.WaitFor(t, 30*time.Second, "request rates in Prometheus", func() bool {
		return len(e2e.Query(t, api, `sum(rate(http_request_duration_seconds_bucket[1m])) > 0`, time.Now())) > 0
	})
	return f
}

// The acceptance: on such a fleet, gameday new with --yes writes a
// runbook whose panels answer, which validates with --check-metrics, and
// which runs end to end in autopilot; run again, it overwrites nothing.
func TestNewFromDiscoveryRunsEndToEnd(t *testing.T) {
	f := newFleet(t)
	path := filepath.Join(f.dir, "shop.yaml")
	args := []string{"new", "shop", "--prometheus", f.prom, "--hosts", "h*", "-F", f.sshConfig, "--from", "cpu-hog", "--yes", "-o", path}
	c := start(t, args...)
	if code := c.wait(t, time.Minute); code != exitOK {
		t.Fatalf("new: exit %d\nstdout:\n%s\nstderr:\n%s", code, c.stdout.String(), c.stderr.String())
	}
	out := c.stdout.String()
	for _, want := range []string{`job="checkout"`, "1 series", "h1", "h2", "wrote " + path} {
		if !strings.Contains(out, want) {
			t.Errorf("new's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "db-1") {
		t.Errorf("db-1 does not match h*:\n%s", out)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rb := string(src)
	t.Logf("new said:\n%s\nand wrote:\n%s", out, rb)
	for _, want := range []string{
		`histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="checkout"}[1m])))`,
		`(sum(rate(http_requests_total{job="checkout",code=~"5.."}[1m])) or vector(0)) / sum(rate(http_requests_total{job="checkout"}[1m]))`,
		"hosts: [h1, h2]", "sudo: false", "last 15 minutes", "url: " + f.prom, "target: checkout",
	} {
		if !strings.Contains(rb, want) {
			t.Errorf("runbook lacks %q:\n%s", want, rb)
		}
	}

	// The panels answer as written, the error ratio included while
	// there are no errors.
	c = start(t, "validate", "--check-metrics", path)
	if code := c.wait(t, time.Minute); code != exitOK {
		t.Fatalf("validate --check-metrics: exit %d\n%s%s", code, c.stdout.String(), c.stderr.String())
	}
	for _, want := range []string{"p95: ok, 1 series", "error_rate: ok, 1 series"} {
		if !strings.Contains(c.stdout.String(), want) {
			t.Errorf("validate says:\n%s\nwant %q", c.stdout.String(), want)
		}
	}

	// Never overwrites.
	c = start(t, args...)
	if code := c.wait(t, time.Minute); code != exitInvalid || !strings.Contains(c.stderr.String(), "already exists") {
		t.Fatalf("second new: exit %d, stderr %s", code, c.stderr.String())
	}
	if again, _ := os.ReadFile(path); string(again) != rb {
		t.Fatal("the second new changed the file")
	}

	checkRehearsal(t, f, path)
}

// checkRehearsal runs the runbook new wrote end to end in autopilot
// against the fleet, rehearsed at 0.03 of its durations (its ten minutes
// in about 30s): it holds, injects once, leaves nothing behind, and the
// run and its report say it was a rehearsal.
func checkRehearsal(t *testing.T, f *fleet, path string) {
	t.Helper()
	runs := filepath.Join(f.dir, "runs")
	c := start(t, "run", "--autopilot", "--yes", "--time-scale", "0.03", path, "--runs-dir", runs)
	code := c.wait(t, 2*time.Minute)
	if code != exitOK || !strings.Contains(c.stderr.String(), "verdict held") {
		t.Fatalf("run: exit %d\nstderr:\n%s", code, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "a rehearsal at 0.03× its durations") {
		t.Errorf("the run does not say it is a rehearsal:\n%s", c.stderr.String())
	}
	m, _ := filepath.Glob(filepath.Join(runs, "*", gamedays.JournalName))
	if len(m) != 1 {
		t.Fatalf("run directories: %v", m)
	}
	events := journal(t, filepath.Dir(m[0]))
	intents := 0
	for _, e := range events {
		if e.Type == gamedays.EvAttackIntent {
			intents++
		}
	}
	if intents != 1 {
		t.Errorf("%d attack intents, want 1 (count: 1 of h1, h2)", intents)
	}
	if left := gamedays.Unreverted(events); len(left) != 0 {
		t.Errorf("left unreverted: %v", left)
	}
	rep := start(t, "report", "--format", "md", filepath.Dir(m[0]))
	if code := rep.wait(t, time.Minute); code != exitOK {
		t.Fatalf("report: exit %d\n%s", code, rep.stderr.String())
	}
	md, _ := filepath.Glob(filepath.Join(filepath.Dir(m[0]), "*.md"))
	if len(md) != 1 {
		t.Fatalf("report files: %v", md)
	} else if text, _ := os.ReadFile(md[0]); !strings.Contains(string(text), "multiplied by 0.03") {
		t.Errorf("the report does not say it was a rehearsal:\n%s", text)
	}
	if !strings.Contains(c.stderr.String(), "h1") && !strings.Contains(c.stderr.String(), "h2") {
		t.Errorf("the run names neither host:\n%s", c.stderr.String())
	}
}

// Bad input: each says what was found instead, and writes nothing.
func TestNewBadInputSaysWhatWasFound(t *testing.T) {
	f := newFleet(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "queue_depth", Help: "Jobs waiting."}))
	gauges := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(gauges.Close)
	noHist := e2e.StartPrometheusScraping(t, "  - job_name: batch\n    static_configs:\n      - targets: [\""+strings.TrimPrefix(gauges.URL, "http://")+"\"]\n")
	api := e2e.PrometheusAPI(t, noHist)
	e2e.WaitFor(t, 30*time.Second, "queue_depth scraped", func() bool {
		return len(e2e.Query(t, api, "queue_depth", time.Now())) > 0
	})
	down := fmt.Sprintf("http://127.0.0.1:%d", e2e.FreePort(t))
	out := filepath.Join(f.dir, "bad.yaml")
	for _, tc := range []struct {
		name string
		args []string
		says []string
	}{
		{"server does not answer", []string{"--prometheus", down}, []string{down, "does not answer", "connection refused"}},
		{"no histograms", []string{"--prometheus", noHist}, []string{noHist, "no latency histogram", "queue_depth (gauge)"}},
		{"no host matches", []string{"--prometheus", f.prom, "--hosts", "web-*", "-F", f.sshConfig}, []string{`no host matches "web-*"`, f.sshConfig, "db-1, h1, h2"}},
		{"no such job", []string{"--prometheus", f.prom, "--job", "payments"}, []string{`"payments"`, `found job="checkout"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GAMEDAY_PROMETHEUS_URL", "")
			code, stdout, stderr := gameday(t, append([]string{"new", "bad", "--yes", "-o", out}, tc.args...)...)
			if code != exitInvalid {
				t.Fatalf("exit %d, want %d\nstdout:%s\nstderr:%s", code, exitInvalid, stdout, stderr)
			}
			for _, s := range tc.says {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("a file was written")
			}
		})
	}
}

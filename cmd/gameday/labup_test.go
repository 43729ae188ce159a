package main

import (
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
)

var (
	printedAddr   = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	printedConfig = regexp.MustCompile(`(?m)^ssh_config +(\S+)$`)
	printedProm   = regexp.MustCompile(`(?m)^Prometheus +(http://\S+)$`)
)

// labUp is a running gameday lab up and the endpoints it printed.
type labUp struct {
	*child
	printed    string
	sshConfig  string
	prometheus string
	addrs      []string // every 127.0.0.1:PORT printed
}

// startLabUp runs the built gameday lab up and waits for it to print its
// last endpoint.
func startLabUp(tb testing.TB, args ...string) *labUp {
	tb.Helper()
	u := &labUp{child: start(tb, append([]string{"lab", "up"}, args...)...)}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(u.stdout.String(), "AWS_SECRET_ACCESS_KEY="); time.Sleep(2 * time.Millisecond) {
		select {
		case <-u.exited:
			tb.Fatalf("gameday lab up exited %d before printing its endpoints:\n%s%s", u.code, u.stdout.String(), u.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("gameday lab up printed no endpoints in 20s:\n%s%s", u.stdout.String(), u.stderr.String())
		}
	}
	u.printed = u.stdout.String()
	u.addrs = printedAddr.FindAllString(u.printed, -1)
	if m := printedConfig.FindStringSubmatch(u.printed); m != nil {
		u.sshConfig = m[1]
	}
	if m := printedProm.FindStringSubmatch(u.printed); m != nil {
		u.prometheus = m[1]
	}
	if u.sshConfig == "" || u.prometheus == "" || len(u.addrs) < 5 {
		tb.Fatalf("gameday lab up output lacks endpoints:\n%s", u.printed)
	}
	return u
}

// answering says whether every printed address takes a connection and
// the Prometheus API says it is ready.
func (u *labUp) answering(client *http.Client) bool {
	for _, a := range u.addrs {
		c, err := net.DialTimeout("tcp", a, time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	resp, err := client.Get(u.prometheus + "/-/ready")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop sends what Ctrl-C sends and waits for a clean exit.
func (u *labUp) stop(tb testing.TB) {
	tb.Helper()
	u.cmd.Process.Signal(os.Interrupt)
	if code := u.wait(tb, 30*time.Second); code != 0 {
		tb.Fatalf("gameday lab up exited %d after Ctrl-C:\n%s", code, u.stderr.String())
	}
}

// TestLabUpWithOpenSSH runs the gameday binary's lab up and drives a host
// with the system's ssh client and nothing but the config file it printed.
func TestLabUpWithOpenSSH(t *testing.T) {
	sshBin := e2e.Need(t, "ssh")[0]
	u := startLabUp(t)
	cmd := exec.Command(sshBin, "-F", u.sshConfig, "-o", "BatchMode=yes", "checkout-1", "help")
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK=")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("ssh: %v", err)
	}
	if cmd.ProcessState.ExitCode() != 0 || !strings.Contains(string(out), "checkout-1 is a gameday lab host") || !strings.Contains(string(out), "latency") {
		t.Fatalf("ssh -F %s checkout-1 help: exit %d\n%s", u.sshConfig, cmd.ProcessState.ExitCode(), out)
	}
	u.stop(t)
	e2e.Closed(t, "gameday lab up stopped", u.addrs...)
	if _, err := os.Stat(u.sshConfig); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary lab files left behind: %s: %v", u.sshConfig, err)
	}
}

// BenchmarkLabUpReady is the time from starting the (already built)
// gameday binary's lab up to every endpoint it prints answering: each SSH
// host, service, the load balancer, the Prometheus API (ready) and the AWS
// endpoint. Stopping it is not timed.
func BenchmarkLabUpReady(b *testing.B) {
	binary(b) // built before the clock starts
	transport := &http.Transport{DisableKeepAlives: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: time.Second}
	var worst time.Duration
	for b.Loop() {
		start := time.Now()
		u := startLabUp(b)
		for deadline := start.Add(30 * time.Second); !u.answering(client); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("endpoints not all answering 30s after start:\n%s", u.printed)
			}
		}
		worst = max(worst, time.Since(start))
		b.StopTimer()
		u.stop(b)
		b.StartTimer()
	}
	b.ReportMetric(worst.Seconds()*1000, "worst-ms")
}

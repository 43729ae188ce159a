package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
	"github.com/gameday/gameday/targets/aws"
	"github.com/gameday/gameday/targets/ssh"
)

// planRunbook is a runbook with one attack of kind on one member, its
// params and duration as given; every value is a YAML double-quoted
// string, so any text reaches the loader as the param's value.
func planRunbook(cat *targets.Catalogue, kind string, params [][2]string, duration string) []byte {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	target := `{ssh: {hosts: [h1], user: root}}`
	if k, ok := cat.Spec(kind); ok && k.Family == targets.FamilyAWS {
		res := "ec2:instance"
		if len(k.Resources) > 0 {
			res = k.Resources[0]
		}
		target = `{aws: {region: us-east-1, resource: ` + q(res) + `, tags: {service: checkout}, accounts: ["123456789012"]}}`
	}
	var ps []string
	for _, p := range params {
		if p[0] != "" {
			ps = append(ps, q(p[0])+": "+q(p[1]))
		}
	}
	dur := ""
	if duration != "" {
		dur = ", duration: " + q(duration)
	}
	return fmt.Appendf(nil, `version: 1
name: fuzz
metrics:
  url: http://127.0.0.1:9090
  panels:
    p95: {query: 'up', unit: seconds}
baseline:
  duration: 1m
  steady_state: {p95: "< 300ms"}
hypothesis:
  statement: it holds
  expect: {p95: "< 1s"}
targets:
  t: %s
blast_radius:
  t: {count: 1}
attacks:
  - {name: a, target: t, kind: %s, params: {%s}%s, allow_irreversible: true}
observe: {duration: 1h}
`, target, q(kind), strings.Join(ps, ", "), dur)
}

// planned checks what planning a run checks, without an engine: the
// blast radius phase parses each attack's params with the catalogue and
// runs on the canonical values, and each executor parses those again to
// build its commands or API calls (what --dry-run prints). It returns why
// planning refuses the runbook, or "".
func planned(cat *targets.Catalogue, execs map[string]targets.Executor, rb *runbook.Runbook) string {
	for _, a := range rb.Attacks {
		k, ok := cat.Spec(a.Kind)
		if !ok {
			return fmt.Sprintf("attack %q: unknown kind %q", a.Name, a.Kind)
		}
		v, probs := k.Parse(a.Params)
		if len(probs) > 0 {
			return fmt.Sprintf("attack %q: %s", a.Name, probs[0].Msg)
		}
		m := targets.Member{Target: a.Target, ID: "h1", Labels: map[string]string{ssh.LabelUser: "root"}}
		if k.Family == targets.FamilyAWS {
			m = targets.Member{Target: a.Target, ID: "i-0123456789abcdef0", Labels: map[string]string{aws.LabelAccount: "123456789012", aws.LabelRegion: "us-east-1"}}
		}
		inj := targets.Injection{RunID: "20261123T090000Z-fuzz", Attack: a.Name, Kind: a.Kind, Member: m, Params: v.Canonical(), Duration: a.Duration}
		for _, line := range execs[k.Family].Plan(inj) {
			if strings.Contains(line, "cannot plan") {
				return line
			}
		}
	}
	return ""
}

// planSeed is one attack for the property below: kind, three params and a
// duration, and whether validate accepts it.
type planSeed struct {
	kind                   string
	k1, v1, k2, v2, k3, v3 string
	duration               string
	valid                  bool
}

// planSeeds cover every family and the kinds with the most parsing, and
// keep the cases that once passed validate and failed planning.
var planSeeds = []planSeed{
	// systemd's limit is 255 with the suffix: 248 + ".service" is over.
	{"service-stop", "unit", strings.Repeat("u", 248), "", "", "", "", "5m", false},
	{"service-stop", "unit", strings.Repeat("u", 247), "", "", "", "", "5m", true},
	{"service-stop", "unit", "nginx", "", "", "", "", "5m", true},
	{"cpu", "workers", "2", "load", "50%", "", "", "5m", true},
	{"memory", "size", "80%", "", "", "", "", "5m", true},
	{"disk-fill", "path", "/var/tmp", "size", "90%", "max_fill", "95%", "5m", true},
	{"disk-fill", "path", "/", "size", "20GiB", "", "", "5m", true},
	{"network-latency", "interface", "eth0", "delay", "200ms", "jitter", "50ms", "5m", true},
	{"network-loss", "interface", "eth0", "percent", "5%", "port", "443", "5m", true},
	{"blackhole", "cidr", "10.0.0.0/24", "", "", "", "", "5m", true},
	{"dns-blackhole", "domain", "api.example.com", "", "", "", "", "5m", true},
	{"process-kill", "name", "nginx", "signal", "TERM", "", "", "1m", true},
	{"process-pause", "pidfile", "/run/nginx.pid", "", "", "", "", "1m", true},
	{"clock-skew", "offset", "-5m", "", "", "", "", "5m", true},
	{"custom", "inject", "systemctl stop {{unit:unit}}", "rollback", "systemctl start {{unit:unit}}", "unit", "nginx", "5m", true},
	{"ec2-stop", "", "", "", "", "", "", "5m", true},
	{"ssm-command", "attack", "cpu", "workers", "1", "", "", "5m", true},
	{"lambda-fault", "error_rate", "10%", "status_code", "500", "", "", "5m", true},
	{"lab-latency", "delay", "100ms", "", "", "", "", "1m", true},
}

func (s planSeed) runbook(cat *targets.Catalogue) []byte {
	return planRunbook(cat, s.kind, [][2]string{{s.k1, s.v1}, {s.k2, s.v2}, {s.k3, s.v3}}, s.duration)
}

// The seeds exercise the property: those meant valid pass validate (so the
// fuzz test checks their planning), and those that once slipped through
// are refused by validate now.
func TestPlanSeeds(t *testing.T) {
	cat := targets.Default()
	execs := planExecutors()
	for _, s := range planSeeds {
		src := s.runbook(cat)
		rb, err := runbook.Parse("fuzz.yaml", src, cat)
		if (err == nil) != s.valid {
			t.Errorf("%s %s=%.20q: validate says %v, want valid %v", s.kind, s.k1, s.v1, err, s.valid)
			continue
		}
		if err == nil {
			if why := planned(cat, execs, rb); why != "" {
				t.Errorf("%s: planning refuses a valid runbook: %s", s.kind, why)
			}
		}
	}
}

func planExecutors() map[string]targets.Executor {
	return map[string]targets.Executor{targets.FamilySSH: ssh.New(ssh.Options{}), targets.FamilyAWS: aws.New(aws.Options{})}
}

// FuzzValidateImpliesPlan: whatever gameday validate accepts, a dry run
// plans. A check that only planning makes would let a runbook pass review
// and fail on the day. The seeds run with every go test; fuzz with
// go test ./cmd/gameday -run '^$' -fuzz FuzzValidateImpliesPlan -fuzztime 60s.
func FuzzValidateImpliesPlan(f *testing.F) {
	for _, s := range planSeeds {
		f.Add(s.kind, s.k1, s.v1, s.k2, s.v2, s.k3, s.v3, s.duration)
	}
	cat := targets.Default()
	execs := planExecutors()
	f.Fuzz(func(t *testing.T, kind, k1, v1, k2, v2, k3, v3, duration string) {
		if _, ok := cat.Spec(kind); !ok {
			return
		}
		src := planRunbook(cat, kind, [][2]string{{k1, v1}, {k2, v2}, {k3, v3}}, duration)
		rb, err := runbook.Parse("fuzz.yaml", src, cat)
		if err != nil {
			return // validate refuses it: nothing to hold planning to
		}
		if why := planned(cat, execs, rb); why != "" {
			t.Fatalf("validate accepts this runbook, planning refuses it: %s\n%s", why, src)
		}
	})
}

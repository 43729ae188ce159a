package runbook_test

import (
	"os"
	"testing"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

func TestValidFixture(t *testing.T) {
	rb, err := runbook.Load("testdata/valid.yaml", targets.Default())
	if err != nil {
		t.Fatal(err)
	}
	if rb.Name != "checkout survives losing one instance" || len(rb.Metrics.Panels) != 2 || len(rb.Attacks) != 2 {
		t.Fatalf("unexpected runbook: %+v", rb)
	}
	if p := rb.Metrics.Panels[0]; p.Name != "p95" || p.Unit != runbook.UnitSeconds || p.Title != "P95 latency" {
		t.Errorf("first panel = %+v", p)
	}
	if rb.Metrics.Poll != rb.Metrics.Step || rb.Abort.Timeout != runbook.DefaultAbortTimeout {
		t.Errorf("defaults not applied: poll %v step %v abort %v", rb.Metrics.Poll, rb.Metrics.Step, rb.Abort.Timeout)
	}
	if b := rb.BlastRadius["checkout"]; b.Count != 1 || !b.HasSeed || b.Seed != 7 {
		t.Errorf("blast radius = %+v", b)
	}
	if a := rb.Attacks[1]; a.StartAfter.String() != "1m0s" || a.Kind != "ec2-stop" {
		t.Errorf("second attack = %+v", a)
	}
	if g := rb.Guardrails; g.MetricsBlind.String() != "1m0s" || len(g.Checks) != 2 || g.Checks[1].Threshold.For.String() != "15s" {
		t.Errorf("guardrails = %+v", g)
	}
}

// Each broken runbook is the valid fixture with one edit; the test pins the
// exact messages and positions, and that nothing else is reported.
func TestBrokenRunbooks(t *testing.T) {
	base, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []brokenCase{
		{"unknown top-level field", "name: checkout", "nmae: checkout", []string{
			"2:1: runbook: unknown field \"nmae\" (did you mean \"name\"?); expected one of: version, name, description, tags, metrics, baseline, hypothesis, guardrails, targets, blast_radius, attacks, observe, abort, roles, slo, drill, notes, alerts",
		}},
		{"version 2", "version: 1", "version: 2", []string{
			"1:10: version: this gameday reads version 1 runbooks, found 2",
		}},
		{"version not a number", "version: 1", "version: one", []string{
			"1:10: version: expected a whole number, found \"one\"",
		}},
		{"missing name", "name: checkout survives losing one instance\n", "", []string{
			"1:1: runbook: missing required field \"name\" (what this game day is about, in a line)",
		}},
		{"empty name", "name: checkout survives losing one instance", "name: \"\"", []string{
			"2:7: name: must not be empty",
		}},
		{"duplicate key", "  step: 5s", "  step: 5s\n  step: 10s", []string{
			"10:3: metrics: duplicate key \"step\" (first at line 9)",
		}},
		{"step without unit", "  step: 5s", "  step: 5", []string{
			"9:9: metrics.step: expected a duration such as 30s, 5m or 1h30m, found \"5\" (a unit is required: ms, s, m or h)",
		}},
		{"step too small", "  step: 5s", "  step: 500ms", []string{
			"9:9: metrics.step: expected at least 1s, found 500ms",
		}},
		{"url not http", "url: http://127.0.0.1:9090", "url: ftp://127.0.0.1:9090", []string{
			"8:8: metrics.url: expected an http:// or https:// URL with a host, found \"ftp://127.0.0.1:9090\"",
		}},
		{"panel unknown field", "unit: seconds, title", "unit: seconds, tilte", []string{
			"11:139: metrics.panels.p95: unknown field \"tilte\" (did you mean \"title\"?); expected one of: query, unit, title, by",
		}},
		{"panel unit unknown", "unit: seconds,", "unit: millis,", []string{
			"11:130: metrics.panels.p95.unit: expected one of seconds, ratio, bytes (or leave it out for a plain number), found \"millis\"",
		}},
		{"panel name invalid", "    p95: {", "    P-95: {", []string{
			"11:5: metrics.panels: panel name \"P-95\" must be lower case letters, digits and _ , starting with a letter",
			"15:18: baseline.steady_state: no panel named \"p95\" (did you mean \"P-95\"?); panels are: P-95, error_rate",
			"18:12: hypothesis.expect: no panel named \"p95\" (did you mean \"P-95\"?); panels are: P-95, error_rate",
			"20:3: guardrails: no panel named \"p95\" (did you mean \"P-95\"?); panels are: P-95, error_rate",
		}},
		{"panels empty", "  panels:\n    p95: {query: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"checkout\"}[1m])))', unit: seconds, title: P95 latency}\n    error_rate: {query: 'sum(rate(http_requests_total{job=\"checkout\",code=~\"5..\"}[1m])) / sum(rate(http_requests_total{job=\"checkout\"}[1m]))', unit: ratio}", "  panels: {}", []string{
			"10:11: metrics.panels: expected at least one panel, e.g. p95: {query: '...', unit: seconds}",
		}},
		{"panel query missing", "{query: 'sum(rate(http_requests_total{job=\"checkout\",code=~\"5..\"}[1m])) / sum(rate(http_requests_total{job=\"checkout\"}[1m]))', unit: ratio}", "{unit: ratio}", []string{
			"12:17: metrics.panels.error_rate: missing required field \"query\" (PromQL expression; a scalar or one series per `by` value)",
		}},
		{"baseline duration missing", "  duration: 2m\n", "", []string{
			"14:3: baseline: missing required field \"duration\" (how long to measure)",
		}},
		{"steady state unknown panel", "steady_state: {p95:", "steady_state: {p59:", []string{
			"15:18: baseline.steady_state: no panel named \"p59\" (did you mean \"p95\"?); panels are: p95, error_rate",
		}},
		{"steady state relative", "steady_state: {p95: \"< 300ms\"", "steady_state: {p95: \"< baseline * 2\"", []string{
			"15:23: baseline.steady_state.p95: \"< baseline * 2\" is relative to the baseline, which this section defines; use an absolute value such as \"< 300ms\"",
		}},
		{"steady state with for", "steady_state: {p95: \"< 300ms\"", "steady_state: {p95: \"< 300ms for 1m\"", []string{
			"15:23: baseline.steady_state.p95: \"for\" only applies to guardrails; write the threshold without it",
		}},
		{"threshold double operator", "  p95: \"> 2s for 30s\"", "  p95: \"<< 3\"", []string{
			"20:10: guardrails.p95: expected a number or \"baseline\" after \"<\", found \"<\"",
		}},
		{"threshold unknown unit", "  p95: \"> 2s for 30s\"", "  p95: \"> 10 parsecs\"", []string{
			"20:14: guardrails.p95: unknown unit \"parsecs\": expected ms, s, m, h, %, or a byte unit such as MiB",
		}},
		{"threshold negative for", "  p95: \"> 2s for 30s\"", "  p95: \"> 2s for -5s\"", []string{
			"20:18: guardrails.p95: \"for\" needs a positive duration such as 15s, found \"-5s\"",
		}},
		{"threshold bad factor", "  p95: \"> 2s for 30s\"", "  p95: \"> baseline * abc\"", []string{
			"20:22: guardrails.p95: expected a number after \"baseline *\", found \"abc\"; e.g. baseline * 1.5",
		}},
		{"threshold unit mismatch", "error_rate: \"< 2%\"", "error_rate: \"< 300ms\"", []string{
			"18:49: hypothesis.expect.error_rate: \"300ms\" is a duration, but this panel measures a ratio: write a percentage such as 1% or a plain ratio such as 0.01",
		}},
		{"hypothesis statement missing", "  statement: Losing one of three instances keeps P95 under 500ms and errors under 2%.\n", "", []string{
			"17:3: hypothesis: missing required field \"statement\" (the hypothesis in a sentence)",
		}},
		{"hypothesis without expect", "  expect: {p95: \"< baseline * 1.5\", error_rate: \"< 2%\"}\n", "", []string{
			"17:3: hypothesis: missing \"expect\": without a measurable expectation the hypothesis can neither hold nor be refuted",
		}},
		{"metrics_blind not a duration", "metrics_blind: 60s", "metrics_blind: soon", []string{
			"22:18: guardrails.metrics_blind: expected a duration such as 30s, 5m or 1h30m, found \"soon\"",
		}},
		{"target with ssh and aws", "    ssh: {hosts: [checkout-1, checkout-2, checkout-3], user: gameday, sudo: true}", "    ssh: {hosts: [checkout-1, checkout-2, checkout-3], user: gameday, sudo: true}\n    aws: {region: us-east-1, resource: \"ec2:instance\", ids: [i-1], accounts: [\"123456789012\"]}", []string{
			"25:5: targets.checkout: expected exactly one of ssh or aws",
			"35:11: attack \"add latency\": kind network-latency runs on ssh targets, but target \"checkout\" is an aws target",
		}},
		{"duplicate host", "hosts: [checkout-1, checkout-2, checkout-3]", "hosts: [checkout-1, checkout-2, checkout-1]", []string{
			"25:43: targets.checkout.ssh.hosts[2]: \"checkout-1\" is listed twice",
		}},
		{"host with shell", "hosts: [checkout-1, checkout-2, checkout-3]", "hosts: [checkout-1, \"checkout-2;reboot\", checkout-3]", []string{
			"25:31: targets.checkout.ssh.hosts[1]: \"checkout-2;reboot\" is not a host name or address",
		}},
		{"port out of range", "user: gameday, sudo", "user: gameday, port: 70000, sudo", []string{
			"25:77: targets.checkout.ssh.port: expected a number from 1 to 65535, found 70000",
		}},
		{"sudo not a bool", "sudo: true", "sudo: yes please", []string{
			"25:77: targets.checkout.ssh.sudo: expected true or false, found \"yes please\"",
		}},
		{"ssh unknown field", "{hosts:", "{hots:", []string{
			"25:11: targets.checkout.ssh: unknown field \"hots\" (did you mean \"hosts\"?); expected one of: hosts, user, port, sudo, jump, config",
		}},
		{"aws bad region", "region: us-east-1, resource: \"ec2:instance\", tags", "region: useast1, resource: \"ec2:instance\", tags", []string{
			"27:19: targets.checkout-ec2.aws.region: expected an AWS region such as us-east-1, found \"useast1\"",
		}},
		{"aws unknown resource", "resource: \"ec2:instance\", tags", "resource: \"ec2:instances\", tags", []string{
			"27:40: targets.checkout-ec2.aws.resource: expected one of ec2:instance, ec2:security-group, lambda:function, ecs:task, rds:cluster, rds:instance, autoscaling:group, fis:experiment-template, dynamodb:table, found \"ec2:instances\"",
			"39:11: attack \"stop one\": kind ec2-stop acts on ec2:instance, but target \"checkout-ec2\" selects ec2:instances",
		}},
		{"aws bad account", "accounts: [\"123456789012\"]}", "accounts: [\"12345\"]}", []string{
			"27:94: targets.checkout-ec2.aws.accounts[0]: expected a 12-digit AWS account id, found \"12345\"",
		}},
		{"aws without selector", "tags: {service: checkout}, ", "", []string{
			"27:10: targets.checkout-ec2.aws: expected at least one of ids, tags or filters, so that the target cannot match every resource in the account",
		}},
		{"blast radius unknown target", "  checkout-ec2: {percent: 34}", "  checkout-ec2: {percent: 34}\n  checkuot: {count: 1}", []string{
			"31:3: blast_radius: no target named \"checkuot\" (did you mean \"checkout\"?); targets are: checkout, checkout-ec2",
		}},
		{"blast radius two modes", "{count: 1, seed: 7}", "{count: 1, percent: 20, seed: 7}", []string{
			"29:13: blast_radius.checkout: expected exactly one of count, percent or all: true",
		}},
		{"blast radius percent too big", "{percent: 34}", "{percent: 150}", []string{
			"30:27: blast_radius.checkout-ec2.percent: expected a number above 0 and at most 100, found 150",
		}},
		{"blast radius all false", "{percent: 34}", "{all: false}", []string{
			"30:23: blast_radius.checkout-ec2.all: all: false selects nothing; use count or percent instead",
		}},
		{"unknown attack kind", "kind: network-latency", "kind: network-latncy", []string{
			"34:11: attack \"add latency\": unknown attack kind \"network-latncy\" (did you mean \"network-latency\"?); run `gameday kinds` or see docs/attacks.md for the list",
		}},
		{"unknown attack target", "    target: checkout\n", "    target: chekout\n", []string{
			"33:13: attack \"add latency\": target: no target named \"chekout\" (did you mean \"checkout\"?); targets are: checkout, checkout-ec2",
		}},
		{"attack duration missing", "    duration: 5m\n", "", []string{
			"32:5: attacks[0]: missing required field \"duration\" (how long it stays injected)",
		}},
		{"duplicate attack name", "name: stop one", "name: add latency", []string{
			"37:11: attacks[1].name: attack name \"add latency\" is already used at line 32",
		}},
		{"unknown param", "delay: 200ms, interface", "dealy: 200ms, interface", []string{
			"35:14: attack \"add latency\": unknown param \"dealy\" for network-latency (did you mean \"delay\"?); it takes: delay, destination, interface, jitter, port, spare_control",
		}},
		{"bad param value", "delay: 200ms", "delay: fast", []string{
			"35:21: attack \"add latency\": params.delay: expected a duration such as 200ms, found \"fast\"",
		}},
		{"kind on wrong family", "kind: ec2-stop", "kind: cpu", []string{
			"39:11: attack \"stop one\": kind cpu runs on ssh targets, but target \"checkout-ec2\" is an aws target",
		}},
		{"irreversible without opt-in", "kind: ec2-stop", "kind: ec2-terminate", []string{
			"39:11: attack \"stop one\": kind ec2-terminate cannot be rolled back; add allow_irreversible: true to this attack if you mean it",
		}},
		{"attacked target without blast radius", "  checkout-ec2: {percent: 34}\n", "", []string{
			"29:3: blast_radius: target \"checkout-ec2\" is attacked by attack \"stop one\" but has no blast radius; add checkout-ec2: {count: 1} (or percent, or all: true)",
		}},
		{"observe shorter than attacks", "observe: {duration: 6m}", "observe: {duration: 2m}", []string{
			"42:10: observe.duration: 2m ends before the last attack does (5m after the run starts); make it at least 5m or leave it out",
		}},
		{"attacks not a list", "attacks:\n  - name: add latency", "attacks: add latency\nx:\n  - name: add latency", []string{
			"31:10: attacks: expected a list of attacks (- name: ...), found \"add latency\"",
			"32:1: runbook: unknown field \"x\"; expected one of: version, name, description, tags, metrics, baseline, hypothesis, guardrails, targets, blast_radius, attacks, observe, abort, roles, slo, drill, notes, alerts",
		}},
		{"tags not a list", "tags: [checkout, latency]", "tags: checkout", []string{
			"6:7: tags: expected a list such as [a, b], found \"checkout\"",
		}},
		{"people and hints not lists", "observe: {duration: 6m}", "observe: {duration: 6m}\nroles: {observers: carol}\ndrill: {hints: hint}", []string{
			"43:20: roles.observers: expected a list of people (- name: ...), found \"carol\"",
			"44:16: drill.hints: expected a list of hints (- text: ...), found \"hint\"",
		}},
		{"yaml syntax", "  url: http://127.0.0.1:9090", "  url: http://127.0.0.1:9090\n bad: indent", []string{
			"9:2: YAML syntax: did not find expected key",
		}},
		{"merge key", "  checkout-ec2: {percent: 34}", "  checkout-ec2: {<<: {percent: 34}}", []string{
			"30:17: blast_radius.checkout-ec2: expected exactly one of count, percent or all: true",
			"30:18: blast_radius.checkout-ec2: merge keys (<<) are not supported; write the fields out",
		}},
		{"several errors in file order", "version: 1\nname: checkout", "version: 3\nnme: checkout", []string{
			"1:10: version: this gameday reads version 1 runbooks, found 3",
			"2:1: runbook: unknown field \"nme\" (did you mean \"name\"?); expected one of: version, name, description, tags, metrics, baseline, hypothesis, guardrails, targets, blast_radius, attacks, observe, abort, roles, slo, drill, notes, alerts",
		}},
		{"attack longer than kind allows", "    duration: 5m\n", "    duration: 100h\n", []string{
			"36:15: attack \"add latency\".duration: 100h is longer than kind network-latency allows (4h)",
			"42:10: observe.duration: 6m ends before the last attack does (100h after the run starts); make it at least 100h or leave it out",
		}},
		{"tab indentation", "  step: 5s", "\tstep: 5s", []string{
			"9:1: YAML syntax: a tab is used for indentation; YAML allows only spaces",
		}},
		{"engine unknown", "    start_after: 1m\n", "    start_after: 1m\n    engine: lambda\n", []string{
			"41:13: attacks[1].engine: expected one of gameday, fis, found \"lambda\"",
		}},
		{"engine fis without a role", "    start_after: 1m\n", "    start_after: 1m\n    engine: fis\n", []string{
			"41:13: attack \"stop one\": engine fis: target \"checkout-ec2\" needs fis_role, the IAM role ARN FIS assumes (docs/aws.md gives its policy)",
		}},
		{"engine fis on an ssh target", "    params: {delay: 200ms, interface: eth0}\n", "    params: {delay: 200ms, interface: eth0}\n    engine: fis\n", []string{
			"36:13: attack \"add latency\": engine fis needs an aws target, but target \"checkout\" is an ssh target",
		}},
		{"engine fis for a kind FIS lacks", "    kind: ec2-stop\n", "    kind: ec2-terminate\n    allow_irreversible: true\n    engine: fis\n", []string{
			"41:13: attack \"stop one\": kind ec2-terminate has no FIS action; engine fis runs ec2-stop, lambda-fault, ssm-command (use engine: gameday for this attack)",
			"41:13: attack \"stop one\": engine fis: target \"checkout-ec2\" needs fis_role, the IAM role ARN FIS assumes (docs/aws.md gives its policy)",
		}},
		{"fis role and alarm not ARNs", "accounts: [\"123456789012\"]}\nblast", "accounts: [\"123456789012\"], fis_role: gameday, stop_alarms: [p95]}\nblast", []string{
			"27:121: targets.checkout-ec2.aws.fis_role: expected an IAM role ARN such as arn:aws:iam::123456789012:role/gameday-fis, found \"gameday\"",
			"27:144: targets.checkout-ec2.aws.stop_alarms[0]: expected a CloudWatch alarm ARN such as arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-p95, found \"p95\"",
		}},
		{"list where a string goes", "name: checkout survives losing one instance", "name: [a, b]", []string{
			"2:7: name: expected a string, found a list",
		}},
	}
	if len(tests) < 40 {
		t.Fatalf("only %d cases", len(tests))
	}
	wantBroken(t, string(base), targets.Default(), tests)
}

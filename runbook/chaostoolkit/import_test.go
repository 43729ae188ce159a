package chaostoolkit_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gameday/gameday/runbook/chaostoolkit"
)

var update = flag.Bool("update", false, "rewrite the golden runbooks in testdata")

// goldens are the fixtures, each shaped like experiments people publish, with
// every warning the import must give, in order.
var goldens = []struct {
	file     string
	warnings []string
}{
	{"ec2-terminate.json", []string{
		`$.steady-state-hypothesis.probes[0]: HTTP probe GET https://shop.example.com/ has no gameday equivalent: the steady state is judged from Prometheus panels, so chart this endpoint's success rate and latency instead (described in notes)`,
		`$.steady-state-hypothesis.probes[1]: HTTP probe GET https://shop.example.com/api/checkout/health has no gameday equivalent: the steady state is judged from Prometheus panels, so chart this endpoint's success rate and latency instead (described in notes)`,
		`$.method[0]: target "checkout-ec2" needs the AWS account ids it may touch; wrote the placeholder 000000000000, which matches no account`,
		`$.method[0]: terminate_instances acts on every instance the filters match, so the blast radius of "checkout-ec2" is all: true; narrow it to count: 1 unless you mean to lose them all`,
		`$.method[0]: IRREVERSIBLE: terminate_instances destroys every instance it selects; the runbook sets allow_irreversible: true to match the experiment — check target "checkout-ec2" and its blast radius before running`,
		`$.method[1]: HTTP call GET https://shop.example.com/ in a method activity has no gameday equivalent; not imported (described in notes)`,
		`$.steady-state-hypothesis: no probe queries Prometheus, so there is nothing to chart; wrote placeholder panels p95 and error_rate with example thresholds: point them at the service (job="TODO")`,
	}},
	{"ec2-stop-prometheus.yaml", []string{
		`$.configuration.aws_region: read from environment variable AWS_REGION when Chaos Toolkit runs; the import used its default "eu-west-1"`,
		`$.secrets: secrets are not imported: gameday takes AWS credentials from the standard chain (or a target's profile) and Prometheus credentials from metrics.auth files`,
		`$.controls[0]: control "safeguards" (chaosaddons.controls.safeguards) is not imported; its probes are the kind of stop condition gameday calls guardrails: express them as panel thresholds under guardrails`,
		`$.steady-state-hypothesis.probes[1].provider.arguments.start: start=5 minutes ago is not imported: gameday queries every step from the start of the game day to its end`,
		`$.steady-state-hypothesis.probes[1].provider.arguments.end: end=now is not imported: gameday queries every step from the start of the game day to its end`,
		`$.steady-state-hypothesis.probes[2].tolerance.range: range [20, 500] of steady-state probe "orders-per-second" keeps only its upper bound: a gameday threshold is one comparison`,
		`$.steady-state-hypothesis.probes[3].tolerance: exact tolerance 0 cannot be a threshold: gameday compares with <, <=, > or >=; not imported`,
		`$.method[0]: target "ec2" needs the AWS account ids it may touch; wrote the placeholder 000000000000, which matches no account`,
		`$.method[1].provider.arguments.when: when=now is not imported: gameday queries every step from the start of the game day to its end`,
		`$.extensions[0]: extension "chaosiq" is not imported; gameday has no extension mechanism`,
		`$.configuration.slack_channel: configuration "slack_channel" is not used by anything the import mapped; not imported`,
	}},
	{"process-kill.json", []string{
		`$.steady-state-hypothesis.probes[0]: process "pgrep -f gunicorn" runs on the machine running Chaos Toolkit and has no gameday equivalent; not imported (described in notes); chart the same check as a Prometheus panel (up, or a blackbox exporter probe)`,
		`$.steady-state-hypothesis.probes[1]: process "curl -s http://localhost:8000/health" runs on the machine running Chaos Toolkit and has no gameday equivalent; not imported (described in notes); chart the same check as a Prometheus panel (up, or a blackbox exporter probe)`,
		`$.method[0]: process "pkill -9 -f gunicorn" runs where Chaos Toolkit runs, not on a target; it became a process-kill attack on the placeholder target "hosts": fill in its hosts; pkill -f matched the whole command line, process-kill matches the process name`,
		`$.method[1]: process "/usr/bin/killall -s TERM celery-beat" runs where Chaos Toolkit runs, not on a target; it became a process-kill attack on the placeholder target "hosts": fill in its hosts`,
		`$.method[2].background: runs in the background in Chaos Toolkit; in gameday every attack runs on its own schedule (start_after), so this is implied`,
		`$.method[2]: process "dd if=/dev/zero of=/tmp/fill bs=1M count=1024" runs on the machine running Chaos Toolkit and has no gameday equivalent; not imported (described in notes); if it injects a fault on a host, look for the matching gameday attack kind (process-kill, service-stop, cpu, ...)`,
		`$.method[3].ref: refers to "worker-is-running" ($.steady-state-hypothesis.probes[0]), which was not imported`,
		`$.rollbacks[0]: process "systemctl restart gunicorn" runs on the machine running Chaos Toolkit and has no gameday equivalent; not imported (described in notes)`,
		`$.steady-state-hypothesis: no probe queries Prometheus, so there is nothing to chart; wrote placeholder panels p95 and error_rate with example thresholds: point them at the service (job="TODO")`,
	}},
	{"lambda-concurrency.yaml", []string{
		`$.steady-state-hypothesis.probes[0].tolerance: jsonpath tolerance (matches $.data.result[0].value[1] against 0) cannot be a threshold: gameday compares a panel's value with <, <=, > or >=; not imported`,
		`$.steady-state-hypothesis.probes[1].provider: steady-state probe "function-has-no-errors" calls chaosaws.awslambda.probes.get_function_errors, which has no gameday equivalent; not imported`,
		`$.method[0]: target "order-processor" needs the AWS account ids it may touch; wrote the placeholder 000000000000, which matches no account`,
		`$.steady-state-hypothesis: no tolerance became a threshold; wrote the placeholder expectation dlq_is_empty: "< baseline * 1.5"`,
	}},
	{"odds-and-ends.yaml", []string{
		`$.configuration.webhook_function: read from environment variable WEBHOOK_FUNCTION when Chaos Toolkit runs and has no default; the import cannot know its value`,
		`$.method[0].pauses.during: "during" is not a pause Chaos Toolkit knows; not imported`,
		`$.method[0]: target "payments-ec2" needs the AWS account ids it may touch; wrote the placeholder 000000000000, which matches no account`,
		`$.method[0].tolerance: a tolerance on an action that became an attack is not imported; say what must hold under hypothesis.expect`,
		`$.method[2].provider.secrets: secrets are not imported: gameday takes AWS credentials from the standard chain or the target's profile`,
		`$.method[2].provider.arguments.qualifier: argument "qualifier" of method activity "throttle-webhooks" is not imported`,
		`$.method[2].provider.arguments.function_name: ${webhook_function} has no value the import can know; left as it is`,
		`$.method[2]: target "webhook-function" needs the AWS account ids it may touch; wrote the placeholder 000000000000, which matches no account`,
		`$.method[3].tolerance.range: range [0.9, 0.99] of method activity "payment-success-under-stress" keeps only its upper bound: a gameday threshold is one comparison`,
		`$.method[4].provider.arguments.note: argument "note" of method activity "terminate-a-worker" is not imported`,
		`$.method[4]: target "ec2" needs the AWS account ids it may touch; wrote the placeholder 000000000000, which matches no account`,
		`$.method[4]: IRREVERSIBLE: terminate_instance destroys the instance it picks; the runbook sets allow_irreversible: true to match the experiment — check target "ec2" and its blast radius before running`,
		`$.dry: "dry" is not part of the Chaos Toolkit format this import knows; not imported`,
		`$.method[4]: nothing in the experiment says how long attack "terminate-a-worker" lasts (no pause follows it); wrote duration: 5m`,
	}},
	{"kubernetes-only.json", []string{
		`$.steady-state-hypothesis.probes[0].provider: steady-state probe "all-pods-running" calls chaosk8s.pod.probes.pods_in_phase, which has no gameday equivalent; not imported`,
		`$.method[0].provider: method activity "delete-one-pod" calls chaosk8s.pod.actions.terminate_pods, which has no gameday equivalent; not imported`,
		`$.method[1].ref: refers to "no-such-probe", which no earlier activity is called; not imported`,
		`$.runtime: runtime strategies are not imported: gameday always rolls back and holds the hypothesis for the whole run`,
		`$.title: the experiment has no title; wrote the placeholder name "imported from kubernetes-only.json"`,
		`$.steady-state-hypothesis: no steady-state-hypothesis title to state the hypothesis with; wrote a placeholder statement`,
		`$.steady-state-hypothesis: no probe queries Prometheus, so there is nothing to chart; wrote placeholder panels p95 and error_rate with example thresholds: point them at the service (job="TODO")`,
		`$.method: no action maps to a gameday attack; wrote a placeholder cpu attack on target "hosts"`,
	}},
}

// importFixture imports testdata/file, failing the test if it cannot.
func importFixture(t *testing.T, file string) (in string, data []byte, res chaostoolkit.Result) {
	t.Helper()
	in = filepath.Join("testdata", file)
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	res, err = chaostoolkit.Import(in, data)
	if err != nil {
		t.Fatalf("Import %s: %v", file, err)
	}
	return in, data, res
}

func TestImportGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			in, data, res := importFixture(t, g.file)
			golden := strings.TrimSuffix(in, filepath.Ext(in)) + ".golden.yaml"
			if *update {
				if err := os.WriteFile(golden, res.YAML, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(res.YAML, want) {
				t.Errorf("runbook differs from %s (go test -update rewrites it):\n%s", golden, res.YAML)
			}
			var got []string
			for _, w := range res.Warnings {
				got = append(got, w.String())
			}
			if strings.Join(got, "\n") != strings.Join(g.warnings, "\n") {
				t.Errorf("warnings:\n%s\nwant:\n%s", quoteAll(got), quoteAll(g.warnings))
			}
			checkPaths(t, data, res.Warnings)
			checkTODOs(t, res)
			again, _ := chaostoolkit.Import(in, data)
			if !bytes.Equal(again.YAML, res.YAML) {
				t.Error("a second import of the same experiment differs")
			}
		})
	}
}

func quoteAll(ss []string) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString("\t\t" + strconv.Quote(s) + ",\n")
	}
	return b.String()
}

var pathStep = regexp.MustCompile(`^(?:\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])`)

// checkPaths makes sure each warning points at something in the experiment,
// or at a field that is missing from something that is there: a path the
// reader cannot follow is no help.
func checkPaths(t *testing.T, data []byte, warnings []chaostoolkit.Warning) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, w := range warnings {
		n := doc.Content[0]
		rest, ok := strings.CutPrefix(w.Path, "$")
		for ok && rest != "" {
			m := pathStep.FindStringSubmatch(rest)
			if m == nil {
				t.Errorf("warning path %q: cannot read %q", w.Path, rest)
				break
			}
			rest = rest[len(m[0]):]
			var next *yaml.Node
			switch {
			case m[2] != "":
				i, _ := strconv.Atoi(m[2])
				if n.Kind == yaml.SequenceNode && i < len(n.Content) {
					next = n.Content[i]
				}
			default:
				key := m[1]
				if m[3] != "" {
					key, _ = strconv.Unquote(m[3])
				}
				for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == key {
						next = n.Content[i+1]
					}
				}
			}
			if next == nil {
				if rest != "" {
					t.Errorf("warning path %q: nothing at %q", w.Path, strings.TrimSuffix(w.Path, rest))
				}
				break
			}
			n = next
		}
		if !ok {
			t.Errorf("warning path %q does not start at $", w.Path)
		}
	}
}

// checkTODOs ties placeholders to warnings: a runbook with a TODO(import) must
// have said so, and vice versa a warning about a placeholder must have left
// a TODO to find.
func checkTODOs(t *testing.T, res chaostoolkit.Result) {
	t.Helper()
	todos := bytes.Count(res.YAML, []byte("TODO(import)"))
	placeholders := 0
	for _, w := range res.Warnings {
		if strings.Contains(w.Msg, "placeholder") {
			placeholders++
		}
	}
	if (todos == 0) != (placeholders == 0) {
		t.Errorf("%d TODO(import) comments but %d placeholder warnings", todos, placeholders)
	}
}

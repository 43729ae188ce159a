package targets

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
)

var _ runbook.Catalogue = (*Catalogue)(nil)

// minimal is the least each kind needs, and what Parse makes of it.
var minimal = map[string]struct {
	params, want map[string]string
}{
	"cpu":             {nil, map[string]string{"workers": "0", "load": "100%"}},
	"memory":          {map[string]string{"size": "80%"}, map[string]string{"size": "80%"}},
	"io":              {nil, map[string]string{"workers": "4", "path": "/tmp"}},
	"disk-fill":       {map[string]string{"path": "/var/log/", "size": "20GiB"}, map[string]string{"path": "/var/log", "size": "20GiB", "max_fill": "95%"}},
	"process-kill":    {map[string]string{"name": "checkout"}, map[string]string{"name": "checkout", "signal": "KILL"}},
	"process-pause":   {map[string]string{"pidfile": "/run/checkout.pid"}, map[string]string{"pidfile": "/run/checkout.pid"}},
	"service-stop":    {map[string]string{"unit": "nginx"}, map[string]string{"unit": "nginx.service"}},
	"network-latency": {map[string]string{"interface": "eth0", "delay": "200ms"}, map[string]string{"interface": "eth0", "delay": "200ms", "jitter": "0s", "spare_control": "true"}},
	"network-loss":    {map[string]string{"interface": "eth0", "percent": "5"}, map[string]string{"interface": "eth0", "percent": "5%", "spare_control": "true"}},
	"blackhole":       {map[string]string{"cidr": "10.0.0.5"}, map[string]string{"cidr": "10.0.0.5/32", "protocol": "all", "direction": "egress", "spare_control": "true"}},
	"dns-blackhole":   {map[string]string{"domain": "API.example.com"}, map[string]string{"domain": "api.example.com"}},
	"clock-skew":      {map[string]string{"offset": "-5m"}, map[string]string{"offset": "-5m"}},
	"reboot":          {nil, map[string]string{}},
	"shutdown":        {nil, map[string]string{}},
	"custom": {map[string]string{"inject": "touch /tmp/x", "rollback": "rm -f /tmp/x"},
		map[string]string{"inject": "touch /tmp/x", "rollback": "rm -f /tmp/x"}},

	"lab-latency":            {map[string]string{"delay": "300ms"}, map[string]string{"delay": "300ms", "jitter": "0s", "share": "100%"}},
	"lab-errors":             {map[string]string{"share": "0.1"}, map[string]string{"share": "10%", "status": "500"}},
	"lab-cpu":                {nil, map[string]string{"load": "90%"}},
	"lab-process-kill":       {nil, map[string]string{"restart_after": "30s"}},
	"lab-blackhole":          {nil, map[string]string{}},
	"lab-dependency-latency": {map[string]string{"delay": "1s"}, map[string]string{"delay": "1s"}},

	"ec2-stop":              {nil, map[string]string{"allow_asg": "false", "force": "false"}},
	"ec2-reboot":            {nil, map[string]string{}},
	"ec2-terminate":         {nil, map[string]string{}},
	"ssm-command":           {map[string]string{"attack": "cpu"}, map[string]string{"attack": "cpu", "max_concurrency": "10%", "max_errors": "0", "workers": "0", "load": "100%"}},
	"fis-experiment":        {nil, map[string]string{}},
	"lambda-throttle":       {nil, map[string]string{"concurrency": "0"}},
	"lambda-fault":          {map[string]string{"error_rate": "10%"}, map[string]string{"error_rate": "10%", "status_code": "500"}},
	"ecs-stop-task":         {nil, map[string]string{}},
	"rds-failover":          {nil, map[string]string{}},
	"asg-suspend-processes": {map[string]string{"processes": "launch, AZRebalance"}, map[string]string{"processes": "Launch,AZRebalance"}},
	"sg-blackhole":          {nil, map[string]string{"direction": "both", "protocol": "all", "shared": "false"}},
	"dynamodb-capacity":     {nil, map[string]string{"keep": "10%"}},
}

func TestEveryKindParsesMinimalParams(t *testing.T) {
	c := Default()
	if got, want := c.KindNames(), slices.Sorted(maps.Keys(minimal)); !slices.Equal(got, want) {
		t.Fatalf("kinds = %v\nwant %v", got, want)
	}
	for _, k := range c.Kinds() {
		m := minimal[k.Name]
		v, probs := k.Parse(m.params)
		if len(probs) > 0 {
			t.Errorf("%s: %+v", k.Name, probs)
			continue
		}
		if got := v.Canonical(); !maps.Equal(got, m.want) {
			t.Errorf("%s: Canonical() = %v, want %v", k.Name, got, m.want)
		}
		if probs := c.CheckParams(k.Name, m.params); len(probs) > 0 {
			t.Errorf("%s: CheckParams: %+v", k.Name, probs)
		}
	}
}

func TestKindsAreComplete(t *testing.T) {
	c := Default()
	resources := []string{"ec2:instance", "ec2:security-group", "lambda:function", "ecs:task", "rds:cluster",
		"rds:instance", "autoscaling:group", "fis:experiment-template", "dynamodb:table"} // runbook's list
	names := make([]string, 0)
	for _, k := range c.Kinds() {
		names = append(names, k.Name)
		info, ok := c.Kind(k.Name)
		if !ok || info.Name != k.Name || info.Family != k.Family || info.MaxDuration != k.MaxDuration || info.Irreversible != k.Irreversible {
			t.Errorf("%s: Kind() = %+v", k.Name, info)
		}
		if k.MaxDuration <= 0 || k.MaxDuration > 12*time.Hour {
			t.Errorf("%s: max duration %s", k.Name, k.MaxDuration)
		}
		for _, r := range k.Resources {
			if !slices.Contains(resources, r) {
				t.Errorf("%s: resource %s is not one runbook targets can select", k.Name, r)
			}
		}
		if (k.Family == FamilyAWS) != strings.Contains("ec2- ssm- fis- lambda- ecs- rds- asg- sg- dynamodb-", strings.SplitAfter(k.Name, "-")[0]) {
			t.Errorf("%s: family %s", k.Name, k.Family)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("Kinds() not sorted: %v", names)
	}
	var irreversible []string
	for _, k := range c.Kinds() {
		if k.Irreversible {
			irreversible = append(irreversible, k.Name)
		}
	}
	if want := []string{"ec2-reboot", "ec2-terminate", "ecs-stop-task", "rds-failover", "reboot", "shutdown"}; !slices.Equal(irreversible, want) {
		t.Errorf("irreversible kinds = %v, want %v", irreversible, want)
	}
	if _, ok := c.Kind("nope"); ok {
		t.Error("Kind(nope) found")
	}
	if k, _ := c.Spec("lab-cpu"); k.LabCommand() != "cpu" {
		t.Errorf("lab-cpu command = %q", k.LabCommand())
	}
	if k, _ := c.Spec("cpu"); k.LabCommand() != "" || len(k.Tools) == 0 {
		t.Errorf("cpu: lab command %q, tools %v", k.LabCommand(), k.Tools)
	}
}

func TestDefaultIsFresh(t *testing.T) {
	a, b := Default(), Default()
	ka, _ := a.Spec("cpu")
	kb, _ := b.Spec("cpu")
	ka.Params[0].Default = "7"
	ka.Summary = "changed"
	if kb.Params[0].Default == "7" || kb.Summary == "changed" {
		t.Error("two catalogues share a kind")
	}
	info, _ := b.Kind("sg-blackhole")
	info.Resources[0] = "changed"
	if again, _ := b.Kind("sg-blackhole"); again.Resources[0] == "changed" {
		t.Error("Kind() hands out the kind's own slice")
	}
}

// problem is a ParamProblem in one line, for comparing lists.
func problem(p runbook.ParamProblem) string {
	s := p.Param + ": " + p.Msg
	if p.Unknown {
		s = "unknown " + s
	}
	if p.Missing {
		s = "missing " + s
	}
	return s
}

func TestProblems(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		kind   string
		params map[string]string
		want   []string
	}{
		{"network-latency", map[string]string{"interface": "eth0", "dealy": "200ms"}, []string{
			`unknown dealy: unknown param "dealy" for network-latency (did you mean "delay"?); it takes: delay, destination, interface, jitter, port, spare_control`,
			`missing delay: missing param "delay" for network-latency: delay added to each packet`,
		}},
		{"network-latency", map[string]string{"interface": "eth0", "delay": "fast"}, []string{
			`delay: params.delay: expected a duration such as 200ms, found "fast"`,
		}},
		{"network-latency", map[string]string{"interface": "eth0;id", "delay": "100ms", "jitter": "200ms", "port": "0"}, []string{
			`interface: params.interface: expected a network interface name such as eth0 (1-15 letters, digits, '.', '_' or '-', not starting with '-'), found "eth0;id"`,
			`jitter: params.jitter: expected at most delay (100ms), found "200ms"`,
			`port: params.port: expected a port from 1 to 65535, found "0"`,
		}},
		{"process-kill", map[string]string{"signal": "TERM"}, []string{
			`missing name: process-kill needs one of name or pidfile, found neither`,
		}},
		{"process-kill", map[string]string{"name": "checkout", "pidfile": "/run/c.pid"}, []string{
			`pidfile: params.pidfile: process-kill takes one of name or pidfile, found both`,
		}},
		{"process-kill", map[string]string{"name": "-9", "signal": "SIGWHATEVER"}, []string{
			`name: params.name: expected a process name as ps -o comm shows it, such as nginx (1-15 letters, digits, '.', '_', '+' or '-', not starting with '-'), found "-9"`,
			`signal: params.signal: expected a signal name such as KILL, TERM or STOP (or one of the numbers 1, 2, 3, 6, 9, 14, 15), found "SIGWHATEVER"`,
		}},
		{"disk-fill", map[string]string{"path": "/", "size": "99%"}, []string{
			`size: params.size: expected at most max_fill (95%), found "99%"; raise max_fill to fill that far`,
		}},
		{"disk-fill", map[string]string{"path": "/", "size": "90%", "max_fill": "80"}, []string{
			`size: params.size: expected at most max_fill (80%), found "90%"; raise max_fill to fill that far`,
		}},
		{"blackhole", map[string]string{"cidr": "10.0.0.0/8", "port": "6379"}, []string{
			`port: params.port: a port needs protocol tcp or udp, found protocol all`,
		}},
		{"lambda-fault", map[string]string{"status_code": "503"}, []string{
			`missing error_rate: lambda-fault needs at least one of error_rate, latency, found none`,
		}},
		{"ec2-reboot", map[string]string{"force": "true"}, []string{
			`unknown force: unknown param "force" for ec2-reboot; it takes no params`,
		}},
		{"asg-suspend-processes", map[string]string{"processes": "Launch,Terminat"}, []string{
			`processes: params.processes: expected a comma-separated list such as Launch,Terminate; item 2: expected one of Launch, Terminate, HealthCheck, ReplaceUnhealthy, AZRebalance, AlarmNotification, ScheduledActions, AddToLoadBalancer, InstanceRefresh, found "Terminat" (did you mean "Terminate"?)`,
		}},
		{"custom", map[string]string{"inject": "echo hi"}, []string{
			`missing rollback: missing param "rollback" for custom: shell command that undoes inject, with the same placeholders; it must be safe to run twice`,
		}},
		{"cpu", map[string]string{"load\u202e": "1"}, []string{
			`unknown load` + "\u202e" + `: unknown param "load\u202e" for cpu (did you mean "load"?); it takes: load, workers`,
		}},
		{"no-such-kind", nil, []string{`: unknown attack kind "no-such-kind"`}},
	} {
		var got []string
		for _, p := range c.CheckParams(tc.kind, tc.params) {
			got = append(got, problem(p))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %v:\n got %q\nwant %q", tc.kind, tc.params, got, tc.want)
		}
	}
}

func TestProblemsAreSorted(t *testing.T) {
	k, _ := Default().Spec("network-latency")
	params := map[string]string{"zeta": "1", "alpha": "1", "interface": "-x", "delay": "x", "port": "x", "destination": "x"}
	for range 20 { // map order varies between runs; the report must not
		_, probs := k.Parse(params)
		var names []string
		for _, p := range probs {
			names = append(names, p.Param)
		}
		if want := []string{"alpha", "delay", "destination", "interface", "port", "zeta"}; !slices.Equal(names, want) {
			t.Fatalf("problem order %v, want %v", names, want)
		}
	}
}

func TestSSMCommandNesting(t *testing.T) {
	c := Default()
	k, _ := c.Spec("ssm-command")
	if slices.Contains(k.Nested(), "reboot") || slices.Contains(k.Nested(), "shutdown") || !slices.Contains(k.Nested(), "network-latency") {
		t.Errorf("ssm-command runs %v", k.Nested())
	}
	// The lab's instances take lab faults through Run Command.
	if !slices.Contains(k.Nested(), "lab-cpu") {
		t.Errorf("ssm-command does not run lab-cpu: %v", k.Nested())
	}

	v, probs := k.Parse(map[string]string{"attack": "Network-Latency", "interface": "ens5", "delay": "150ms", "max_concurrency": "25"})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	want := map[string]string{"attack": "network-latency", "interface": "ens5", "delay": "150ms", "jitter": "0s", "max_concurrency": "25", "max_errors": "0", "spare_control": "true"}
	if got := v.Canonical(); !maps.Equal(got, want) {
		t.Errorf("Canonical() = %v, want %v", got, want)
	}
	if v.Duration("delay") != 150*time.Millisecond || v.Int("max_concurrency") != 25 {
		t.Errorf("typed values: %v %v", v.Duration("delay"), v.Int("max_concurrency"))
	}

	for _, tc := range []struct {
		params map[string]string
		want   []string
	}{
		{map[string]string{"attack": "cpu", "lod": "80", "max_errors": "0%"}, []string{
			`unknown lod: unknown param "lod" for ssm-command with attack cpu (did you mean "load"?); it takes: attack, load, max_concurrency, max_errors, workers`,
		}},
		{map[string]string{"attack": "network-latency", "interface": "eth0"}, []string{
			`missing delay: missing param "delay" for ssm-command with attack network-latency: delay added to each packet`,
		}},
		{map[string]string{"attack": "memory", "size": "80", "max_concurrency": "0%"}, []string{
			`max_concurrency: params.max_concurrency: expected a percentage of the targeted instances greater than 0, found "0%"`,
			`size: params.size: expected a size of at least 1MiB, found "80"`,
		}},
		{map[string]string{"attack": "process-kill", "name": "java", "pidfile": "/run/j.pid"}, []string{
			`pidfile: params.pidfile: process-kill takes one of name or pidfile, found both`,
		}},
		// Without a valid attack the rest cannot be judged; one problem, not a pile.
		{map[string]string{"attack": "reboot", "delay": "1s"}, []string{
			`attack: params.attack: reboot cannot run through ssm-command, which cannot carry the irreversible opt-in; use ec2-reboot`,
		}},
		{map[string]string{"attack": "stress"}, []string{
			`attack: params.attack: expected one of ` + strings.Join(k.Nested(), ", ") + `, found "stress"`,
		}},
		{map[string]string{"load": "80"}, []string{
			`missing attack: missing param "attack" for ssm-command: Linux kind to run; its params go alongside this one`,
		}},
		// custom's templates declare their params through ssm-command too.
		{map[string]string{"attack": "custom", "inject": "touch {{file:path}}", "rollback": "rm -f {{file:path}}", "file": "/tmp/f"}, nil},
		{map[string]string{"attack": "custom", "inject": "touch {{file:path}}", "rollback": "rm -f {{file:path}}", "file": "tmp/f", "fiel": "x"}, []string{
			`unknown fiel: unknown param "fiel" for ssm-command with attack custom (did you mean "file"?); it takes: attack, file, inject, max_concurrency, max_errors, rollback`,
			`file: params.file: expected a clean absolute path such as /var/log (letters, digits and . _ - + , @ = : ~ /, no '..'), found "tmp/f"`,
		}},
	} {
		var got []string
		for _, p := range c.CheckParams("ssm-command", tc.params) {
			got = append(got, problem(p))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v:\n got %q\nwant %q", tc.params, got, tc.want)
		}
	}
}

func TestScenarioParams(t *testing.T) {
	// The params the built-in scenarios use, in the spelling they use.
	c := Default()
	for kind, params := range map[string]map[string]string{
		"network-latency": {"interface": "eth0", "delay": "200ms", "jitter": "50ms", "destination": "10.20.40.0/24"},
		"cpu":             {"workers": "0", "load": "90"},
		"blackhole":       {"cidr": "10.20.30.0/28", "port": "6379", "protocol": "tcp"},
		"disk-fill":       {"path": "/var/log", "size": "95%"},
		"lambda-fault":    {"error_rate": "10%", "status_code": "500"},
		"memory":          {"size": "80%"},
		"process-kill":    {"name": "checkout", "signal": "KILL"},
	} {
		if probs := c.CheckParams(kind, params); len(probs) > 0 {
			t.Errorf("%s %v: %+v", kind, params, probs)
		}
	}
}

func TestCatalogueRefusesBadSpecs(t *testing.T) {
	base := func(p ...ParamSpec) *Kind {
		return &Kind{Name: "k", Family: FamilySSH, Summary: "s", MaxDuration: time.Hour, Params: p}
	}
	for _, tc := range []struct {
		kinds []*Kind
		want  string
	}{
		{[]*Kind{base(), base()}, "kind k declared twice"},
		{[]*Kind{{Name: "K", Family: FamilySSH, Summary: "s", MaxDuration: time.Hour}}, `kind "K": name must be lower-case letters, digits and '-'`},
		{[]*Kind{{Name: "k", Family: "ftp", Summary: "s", MaxDuration: time.Hour}}, `kind k: family "ftp"`},
		{[]*Kind{{Name: "k", Family: FamilyAWS, Summary: "s", MaxDuration: time.Hour}}, "kind k: aws kinds, and only they, list resources"},
		{[]*Kind{{Name: "k", Family: FamilySSH, MaxDuration: time.Hour}}, "kind k: needs a summary and a max duration"},
		{[]*Kind{base(ParamSpec{Name: "a", Type: TypeInt, Help: "h"}, ParamSpec{Name: "a", Type: TypeInt, Help: "h"})}, "kind k: param a declared twice"},
		{[]*Kind{base(ParamSpec{Name: "a", Type: "colour", Help: "h"})}, `kind k: param a: unknown type "colour"`},
		{[]*Kind{base(ParamSpec{Name: "a", Type: TypeInt})}, "kind k: param a: needs help text"},
		{[]*Kind{base(ParamSpec{Name: "a", Type: TypeEnum, Help: "h"})}, "kind k: param a: enum choices belong to enum params and lists of enum, and those need them"},
		{[]*Kind{base(ParamSpec{Name: "a", Type: TypeInt, Min: "5", Max: "1", Help: "h"})}, "kind k: param a: min 5 is above max 1"},
		{[]*Kind{base(ParamSpec{Name: "a", Type: TypeInt, Min: "x", Help: "h"})}, `kind k: param a: bound "x": expected a whole number such as 4, found "x"`},
		{[]*Kind{base(ParamSpec{Name: "a", Type: TypeInt, Max: "3", Default: "4", Help: "h"})}, `kind k: param a: default: expected a whole number of at most 3, found "4"`},
		{[]*Kind{base(ParamSpec{Name: "a", Type: TypeInt, Required: true, Default: "4", Help: "h"})}, "kind k: param a: a required param has no default"},
		{[]*Kind{base(ParamSpec{Name: "a", Type: TypePath, Min: "/", Help: "h"})}, "kind k: param a: path params have no bounds"},
		{[]*Kind{base(ParamSpec{Name: "a", Type: TypePath, PercentOf: "disk", Help: "h"})}, "kind k: param a: only bytes and int params take percentages"},
		{[]*Kind{base(ParamSpec{Name: "a", Type: TypeList, Help: "h"})}, "kind k: param a: list needs an element type other than list or template"},
	} {
		_, err := newCatalogue(tc.kinds...)
		if err == nil || err.Error() != tc.want {
			t.Errorf("newCatalogue: %v, want %s", err, tc.want)
		}
	}
}

func TestRunbookUsesCatalogue(t *testing.T) {
	src := `version: 1
name: t
metrics:
  url: http://127.0.0.1:9090
  panels:
    p95: {query: 'up', unit: seconds}
baseline: {duration: 1m, steady_state: {p95: "< 300ms"}}
hypothesis: {statement: s, expect: {p95: "< 500ms"}}
guardrails: {p95: "> 2s for 30s", metrics_blind: 60s}
targets:
  web: {ssh: {hosts: [web-1], user: gameday}}
blast_radius:
  web: {count: 1}
attacks:
  - {name: slow, target: web, kind: network-latency, params: {interface: eth0, dealy: 200ms}, duration: 5m}
`
	_, err := runbook.Parse("t.yaml", []byte(src), Default())
	if err == nil || !strings.Contains(err.Error(), `unknown param "dealy" for network-latency (did you mean "delay"?)`) {
		t.Errorf("Parse: %v", err)
	}
}

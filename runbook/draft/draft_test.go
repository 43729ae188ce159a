package draft

import (
	"errors"
	"strings"
	"testing"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

func TestComposeCPUHog(t *testing.T) {
	sc, _ := runbook.LookupScenario("cpu-hog")
	d, err := Compose(Choices{
		Name: "shop", Scenario: sc, URL: "http://127.0.0.1:9090",
		Panels: []Panel{{Name: "p95", Query: "histogram_quantile(0.95, x)", Unit: "seconds", Title: "P95 latency", Comment: "P95 of x"}},
		Checks: []Check{{Panel: "p95", Steady: "< 120ms", Guard: "> 240ms for 30s", Why: "P95 was 80ms"}},
		Target: "shop", SSH: &SSH{Hosts: []string{"h1", "h2"}, Comment: "from ssh_config"}, Blast: Blast{Percent: 50},
		Header: []string{"Written by a test."},
	})
	if err != nil {
		t.Fatal(err)
	}
	src := d.Bytes()
	rb, err := runbook.Parse("shop.yaml", src, targets.Default())
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	if rb.Name != "shop" || rb.Metrics.URL != "http://127.0.0.1:9090" || len(rb.Metrics.Panels) != 1 || rb.Metrics.Panels[0].Query != "histogram_quantile(0.95, x)" {
		t.Errorf("metrics: %+v", rb.Metrics)
	}
	if len(rb.Targets) != 1 || rb.Targets[0].Name != "shop" || strings.Join(rb.Targets[0].SSH.Hosts, ",") != "h1,h2" || rb.Targets[0].SSH.Sudo || rb.Targets[0].SSH.User != "" {
		t.Errorf("target: %+v %+v", rb.Targets[0], rb.Targets[0].SSH)
	}
	if b := rb.BlastRadius["shop"]; b.Percent != 50 {
		t.Errorf("blast radius: %+v", rb.BlastRadius)
	}
	if rb.Attacks[0].Target != "shop" {
		t.Errorf("attack target %q", rb.Attacks[0].Target)
	}
	s := string(src)
	// error_rate and cpu were dropped, and every check on them with them.
	for _, gone := range []string{"error_rate:", "cpu:", "node_cpu_seconds_total", "checkout-1.internal", "user: gameday"} {
		if strings.Contains(s, gone) {
			t.Errorf("%q is still there:\n%s", gone, s)
		}
	}
	for _, kept := range []string{"# Written by a test.", "# P95 was 80ms", `p95: "< 120ms"`, `p95: "> 240ms for 30s"`, "# from ssh_config", "# P95 of x",
		"# Flying blind is not allowed", "left out", "\n\ntargets:"} {
		if !strings.Contains(s, kept) {
			t.Errorf("%q is missing:\n%s", kept, s)
		}
	}
	if sec := d.Section("blast_radius"); sec != "blast_radius:\n  # chosen in gameday new; widen it only after a run at this size passes\n  shop: {percent: 50}\n" {
		t.Errorf("section: %q", sec)
	}
}

func TestComposeRefusesOtherFamily(t *testing.T) {
	sc, _ := runbook.LookupScenario("ec2-instance-loss")
	_, err := Compose(Choices{Name: "x", Scenario: sc, SSH: &SSH{Hosts: []string{"h1"}}})
	var fe *FamilyError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "aws target") || !strings.Contains(err.Error(), "--hosts") {
		t.Fatalf("want a FamilyError naming both, got %v", err)
	}
}

func TestComposeAWSTags(t *testing.T) {
	sc, _ := runbook.LookupScenario("ec2-instance-loss")
	d, err := Compose(Choices{Name: "x", Scenario: sc, Target: "shop", AWS: &AWS{Region: "eu-west-1", Tags: map[string]string{"service": "shop"}, Accounts: []string{"000000000000"}}})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := runbook.Parse("x.yaml", d.Bytes(), targets.Default())
	if err != nil {
		t.Fatalf("%v\n%s", err, d.Bytes())
	}
	a := rb.Targets[0].AWS
	if rb.Targets[0].Name != "shop" || a.Region != "eu-west-1" || a.Tags["service"] != "shop" || len(a.Tags) != 1 || len(a.Filters) != 0 || strings.Join(a.Accounts, ",") != "000000000000" {
		t.Errorf("aws target: %+v", a)
	}
}

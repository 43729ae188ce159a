package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/lab/e2e"
)

// xmllint validates doc against the committed junit-4 schema with libxml2's
// own validator, as CI tools would read it.
func xmllint(t *testing.T, doc []byte) (string, error) {
	t.Helper()
	bin := e2e.Need(t, "xmllint")[0]
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--noout", "--schema", filepath.Join("testdata", "junit-4.xsd"), path).CombinedOutput()
	return string(out), err
}

// TestJUnitValidates checks each ending against the schema and against what
// CI must show: a held run passes, a refuted one fails with the measured
// value and the threshold, aborted and blocked runs are errors.
func TestJUnitValidates(t *testing.T) {
	type want struct {
		failures, errors int
		verdict          string // failure, error or "" (pass)
		texts            []string
	}
	cases := map[string]want{
		"held":    {0, 0, "", nil},
		"refuted": {3, 0, "failure", []string{`message="p95 expectation: measured 429ms, threshold &lt; baseline * 2 (limit 240ms)"`, `message="error_rate expectation: measured 3.72%, threshold &lt; 2% (limit 2%)"`}},
		"aborted": {1, 3, "error", []string{`message="p95 guardrail fired at T+2:10: measured 1.68s, threshold &gt; 1s for 10s (limit 1s)"`, `type="aborted"`, "not judged: the run was aborted"}},
		"blocked": {1, 1, "error", []string{`message="p95 steady state: measured 364ms, threshold &lt; 300ms (limit 300ms)"`, `message="run blocked: steady state does not hold`}},
		"crashed": {0, 3, "error", []string{`type="incomplete"`}},
	}
	for name, w := range cases {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := loadFixture(t, name).JUnit(&buf); err != nil {
				t.Fatal(err)
			}
			if out, err := xmllint(t, buf.Bytes()); err != nil {
				t.Fatalf("xmllint: %v\n%s\n%s", err, out, buf.String())
			}
			var doc struct {
				Suites []struct {
					Tests    int `xml:"tests,attr"`
					Failures int `xml:"failures,attr"`
					Errors   int `xml:"errors,attr"`
					Cases    []struct {
						Name    string    `xml:"name,attr"`
						Failure *struct{} `xml:"failure"`
						Error   *struct{} `xml:"error"`
					} `xml:"testcase"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil || len(doc.Suites) != 1 {
				t.Fatalf("parse: %v, %d suites\n%s", err, len(doc.Suites), buf.String())
			}
			s := doc.Suites[0]
			// Steady state (2), expectations (2 unless blocked), guardrails (3), verdict.
			tests := 8
			if name == "blocked" {
				tests = 6
			}
			if s.Tests != tests || len(s.Cases) != tests || s.Failures != w.failures || s.Errors != w.errors {
				t.Errorf("tests %d (%d cases), failures %d, errors %d; want %d, %d, %d\n%s", s.Tests, len(s.Cases), s.Failures, s.Errors, tests, w.failures, w.errors, buf.String())
			}
			last := s.Cases[len(s.Cases)-1]
			got := ""
			switch {
			case last.Error != nil:
				got = "error"
			case last.Failure != nil:
				got = "failure"
			}
			if last.Name != "verdict" || got != w.verdict {
				t.Errorf("last case %q is %q, want verdict %q", last.Name, got, w.verdict)
			}
			wantIn(t, "the JUnit XML", buf.String(), w.texts...)
		})
	}

	t.Run("the validator can fail", func(t *testing.T) {
		if _, err := xmllint(t, []byte(`<?xml version="1.0"?><testsuites><testsuite tests="1"><testcase/></testsuite></testsuites>`)); err == nil {
			t.Fatal("a suite without a name and a case without a name passed the schema")
		}
	})
}

// A held run whose fault something else ended still passes, and says so
// in the suite's output, where a CI log shows it.
func TestJUnitSaysWhatTheVerdictCouldNotCover(t *testing.T) {
	r := loadFixture(t, "held")
	if len(r.Attacks) == 0 {
		t.Fatal("the held fixture has no attacks")
	}
	r.Attacks[0].Gone = true
	var buf bytes.Buffer
	if err := r.JUnit(&buf); err != nil {
		t.Fatal(err)
	}
	if out, err := xmllint(t, buf.Bytes()); err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
	want := "warning: " + r.Attacks[0].Name + " on " + r.Attacks[0].Member + " was no longer in place when its rollback came"
	wantIn(t, "the JUnit XML", buf.String(), "<system-out>", want)
	if strings.Contains(buf.String(), "<failure") || strings.Contains(buf.String(), "<error") {
		t.Errorf("a held run failed in JUnit:\n%s", buf.String())
	}
}

// TestJUnitSeveralRuns is one document with a suite per run.
func TestJUnitSeveralRuns(t *testing.T) {
	var buf bytes.Buffer
	if err := JUnit(&buf, loadFixture(t, "held"), loadFixture(t, "aborted")); err != nil {
		t.Fatal(err)
	}
	if out, err := xmllint(t, buf.Bytes()); err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
	if n := strings.Count(buf.String(), "<testsuite "); n != 2 {
		t.Errorf("%d suites, want 2", n)
	}
	if !strings.Contains(buf.String(), `<testsuites name="gameday" tests="16" failures="1" errors="3"`) {
		t.Errorf("totals:\n%s", buf.String())
	}
}

// TestJUnitAlerts: each expected alert is a case that fails when it did not
// page in time; a forbidden alert is one that fails when it fired.
func TestJUnitAlerts(t *testing.T) {
	r := loadFixture(t, "held")
	r.Alerts = []gamedays.AlertResult{
		{Alert: "CheckoutSlow", Held: false, Text: "did not fire within 2m"},
		{Alert: "CheckoutDown", Forbid: true, Held: true, Text: "stayed silent"},
	}
	var buf bytes.Buffer
	if err := r.JUnit(&buf); err != nil {
		t.Fatal(err)
	}
	if out, err := xmllint(t, buf.Bytes()); err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
	wantIn(t, "the JUnit XML", buf.String(),
		`<testcase name="alert CheckoutSlow fires" classname="gameday.alert" time="0">`+"\n"+`      <failure message="did not fire within 2m" type="refuted">`,
		`<testcase name="alert CheckoutDown stays silent" classname="gameday.alert" time="0"></testcase>`,
		`tests="10" failures="1" errors="0"`,
	)
}

// A run refused before it began is one error case in a valid document, so
// CI shows the refusal instead of no result.
func TestRefusedJUnitValidates(t *testing.T) {
	var buf bytes.Buffer
	why := "shop.yaml:3:5: attacks[0].kind: unknown kind \"cpu-hogg\"\nshop.yaml: 1 problem(s); nothing was run"
	if err := RefusedJUnit(&buf, "shop.yaml", why, time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if out, err := xmllint(t, buf.Bytes()); err != nil {
		t.Fatalf("xmllint: %v\n%s\n%s", err, out, buf.String())
	}
	wantIn(t, "the refused run's JUnit", buf.String(), `tests="1" failures="0" errors="1"`, `<testsuite name="shop.yaml"`,
		`message="run refused before it began: shop.yaml:3:5: attacks[0].kind: unknown kind &#34;cpu-hogg&#34;`, `type="refused"`, "nothing was run")
}

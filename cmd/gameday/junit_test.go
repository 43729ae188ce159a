package main

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/lab/e2e"
)

// checkJUnit validates the --junit file at path against the junit-4 schema
// with xmllint, and checks how its verdict case ended: "" passed, refuted
// a failure, aborted or blocked an error of that type.
func checkJUnit(t *testing.T, path, verdict string) {
	t.Helper()
	xmllint := e2e.Need(t, "xmllint")[0]
	if out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("..", "..", "gamedays", "report", "testdata", "junit-4.xsd"), path).CombinedOutput(); err != nil {
		t.Fatalf("--junit %s does not validate: %v\n%s", path, err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Type string `xml:"type,attr"`
			} `xml:"failure"`
			Error *struct {
				Type string `xml:"type,attr"`
			} `xml:"error"`
		} `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil || len(doc.Cases) == 0 {
		t.Fatalf("--junit %s: %v\n%s", path, err, data)
	}
	last := doc.Cases[len(doc.Cases)-1]
	got := ""
	switch {
	case last.Error != nil:
		got = last.Error.Type
	case last.Failure != nil:
		got = last.Failure.Type
	}
	if last.Name != "verdict" || got != verdict {
		t.Errorf("--junit verdict case %q ended %q, want %q:\n%s", last.Name, got, verdict, data)
	}
}

// A run refused before it has a journal still leaves --junit a result: one
// error naming why, so CI shows the refusal rather than nothing.
func TestRunJUnitOfARefusedRun(t *testing.T) {
	dir := t.TempDir()
	rb := filepath.Join(dir, "shop.yaml")
	if err := os.WriteFile(rb, []byte("version: 1\nname: [unclosed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "junit.xml")
	c := start(t, "run", "--autopilot", "--junit", out, "--runs-dir", filepath.Join(dir, "runs"), rb)
	if code := c.wait(t, time.Minute); code != exitInvalid {
		t.Fatalf("exit %d, want %d\n%s", code, exitInvalid, c.stderr.String())
	}
	checkJUnit(t, out, "refused")
	doc, _ := os.ReadFile(out)
	if want := "run refused before it began: " + rb + ":2:"; !strings.Contains(string(doc), want) {
		t.Errorf("JUnit lacks %q:\n%s", want, doc)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); err == nil {
		t.Error("a refused run made its runs directory")
	}
}

// A time scale that is not a number above 0 and at most 10 is refused with
// the flag's name, 0 included (0 is not "as written").
func TestRunRefusesABadTimeScale(t *testing.T) {
	rb := filepath.Join("..", "..", "runbook", "testdata", "valid.yaml")
	for _, v := range []string{"0", "-2", "11"} {
		code, _, errs := gameday(t, "run", "--autopilot", "--time-scale", v, rb)
		if want := "--time-scale " + v + ": expected a number above 0, at most 10"; code != exitInvalid || !strings.Contains(errs, want) {
			t.Errorf("--time-scale %s: exit %d, %q; want exit %d and %q", v, code, errs, exitInvalid, want)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gameday(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// The README's first command: a runbook from the library, then validated.
func TestNewThenValidate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.yaml")
	code, out, errs := gameday(t, "new", "x", "--from", "cpu-hog", "-o", file)
	if code != 0 {
		t.Fatalf("new: exit %d\n%s%s", code, out, errs)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte("name: x")) && !bytes.Contains(src, []byte(`name: "x"`)) {
		t.Errorf("runbook does not carry the new name:\n%s", src)
	}
	code, out, errs = gameday(t, "validate", file)
	if code != 0 || !strings.Contains(out, ": ok: ") {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errs)
	}
	// A second new on the same file must not overwrite it.
	if err := os.WriteFile(file, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = gameday(t, "new", "x", "-o", file)
	if code != exitInvalid || !strings.Contains(errs, "already exists") {
		t.Errorf("new over an existing file: exit %d, %q", code, errs)
	}
	if got, _ := os.ReadFile(file); string(got) != "mine" {
		t.Errorf("existing file was changed to %q", got)
	}
}

func TestNewDefaultFileNameIsSlug(t *testing.T) {
	t.Chdir(t.TempDir())
	if code, _, errs := gameday(t, "new", "Checkout: CPU Hog!"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat("checkout-cpu-hog.yaml"); err != nil {
		t.Error(err)
	}
}

func TestValidateReportsEveryFileAndExits4(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if code, _, errs := gameday(t, "new", "good", "-o", good); code != 0 {
		t.Fatal(errs)
	}
	os.WriteFile(bad, []byte("version: 1\nnmae: x\n"), 0o644)
	code, out, errs := gameday(t, "validate", bad, good, filepath.Join(dir, "missing.yaml"))
	if code != exitInvalid {
		t.Errorf("exit %d, want %d", code, exitInvalid)
	}
	if !strings.Contains(errs, bad+`:2:1: runbook: unknown field "nmae" (did you mean "name"?)`) {
		t.Errorf("stderr lacks the positioned error:\n%s", errs)
	}
	if !strings.Contains(out, good+": ok") {
		t.Errorf("the valid file was not reported ok:\n%s", out)
	}
	if !strings.Contains(errs, "missing.yaml") || !strings.Contains(errs, "2 of 3 runbook(s) invalid") {
		t.Errorf("stderr:\n%s", errs)
	}
}

func TestUsageErrorsExit4(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"validate"}, {"new"}, {"new", "x", "--from", "cpu-hgo"}, {"version", "--nope"}} {
		code, _, errs := gameday(t, args...)
		if code != exitInvalid {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitInvalid, errs)
		}
	}
	_, _, errs := gameday(t, "new", "x", "--from", "cpu-hgo")
	if !strings.Contains(errs, `did you mean "cpu-hog"?`) {
		t.Errorf("no suggestion: %s", errs)
	}
}

func TestScenariosSchemaKindsVersion(t *testing.T) {
	code, out, _ := gameday(t, "scenarios")
	if code != 0 || strings.Count(out, "\n") < 9 || !strings.Contains(out, "cpu-hog") {
		t.Errorf("scenarios: exit %d\n%s", code, out)
	}
	code, out, _ = gameday(t, "schema")
	var s map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s["properties"] == nil {
		t.Errorf("schema: exit %d, not a JSON schema:\n%.200s", code, out)
	}
	code, out, _ = gameday(t, "kinds")
	if code != 0 || !strings.Contains(out, "network-latency") || !strings.Contains(out, "ec2-stop") {
		t.Errorf("kinds: exit %d\n%s", code, out)
	}
	code, out, _ = gameday(t, "version")
	if code != 0 || !strings.HasPrefix(out, "gameday ") {
		t.Errorf("version: exit %d %q", code, out)
	}
	code, out, _ = gameday(t, "--help")
	if code != 0 || !strings.Contains(out, "5  rollback incomplete") {
		t.Errorf("--help lacks exit codes: %s", out)
	}
}

// Package e2e decides whether tests that need real components (sshd,
// Prometheus, stress-ng, network namespaces) run, skip, or fail.
//
// GAMEDAY_E2E unset or "auto": run when the component is present, skip with
// the reason otherwise. "require": a missing component fails the test (CI).
// "off": skip them all.
package e2e

import (
	"os"
	"os/exec"
	"testing"
)

// Mode reads GAMEDAY_E2E.
func Mode() string {
	switch m := os.Getenv("GAMEDAY_E2E"); m {
	case "require", "off":
		return m
	default:
		return "auto"
	}
}

// Need skips or fails t unless every named program is on PATH (or an
// absolute path that exists). It returns the resolved paths in order.
func Need(t testing.TB, programs ...string) []string {
	t.Helper()
	if Mode() == "off" {
		t.Skip("GAMEDAY_E2E=off")
	}
	paths := make([]string, 0, len(programs))
	for _, p := range programs {
		path, err := exec.LookPath(p)
		if err != nil {
			Missing(t, p+" not found on PATH: "+err.Error())
		}
		paths = append(paths, path)
	}
	return paths
}

// Missing skips t with why, or fails it when GAMEDAY_E2E=require.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Mode() == "require" {
		t.Fatalf("required for GAMEDAY_E2E=require: %s", why)
	}
	t.Skip(why)
}

// NeedRoot skips or fails t unless the test runs as root (namespaces, iptables).
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root for network namespaces and iptables")
	}
}

package chaostoolkit

import (
	"strings"
	"testing"
)

func TestParseKill(t *testing.T) {
	for _, tc := range []struct {
		cmd          string
		name, signal string
		full         bool
	}{
		{"pkill gunicorn", "gunicorn", "", false},
		{"pkill -9 -f gunicorn", "gunicorn", "KILL", true},
		{"pkill --signal TERM -u app worker", "worker", "TERM", false},
		{"pkill --signal=HUP nginx", "nginx", "HUP", false},
		{"pkill -s 42 java", "java", "", false}, // pkill -s is a session id
		{"killall -s TERM celery-beat", "celery-beat", "TERM", false},
		{"killall -KILL redis-server", "redis-server", "KILL", false},
		{"killall -SIGSTOP postgres", "postgres", "STOP", false},
		{"kill -9 1234", "", "KILL", false},
		{"kill -s USR1 1234", "", "USR1", false},
		{"kill 1234", "", "", false},
	} {
		argv := strings.Fields(tc.cmd)
		name, signal, full := parseKill(argv[0], argv[1:])
		if name != tc.name || signal != tc.signal || full != tc.full {
			t.Errorf("%s: got (%q, %q, %v), want (%q, %q, %v)", tc.cmd, name, signal, full, tc.name, tc.signal, tc.full)
		}
	}
}

func TestSeconds(t *testing.T) {
	for in, want := range map[float64]string{1: "1s", 60: "1m", 90: "1m30s", 3600: "1h", 3660: "1h1m", 1.5: "1.5s", 300: "5m"} {
		if got := seconds(in); got != want {
			t.Errorf("seconds(%v) = %q, want %q", in, got, want)
		}
	}
}

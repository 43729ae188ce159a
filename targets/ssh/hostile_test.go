package ssh

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/targets"
)

// hostileValues tries to run "touch CANARY" (or worse) through a param.
func hostileValues(canary string) []string {
	c := canary
	return []string{
		"; touch " + c, "&& touch " + c, "|| touch " + c, "| touch " + c, "& touch " + c,
		"$(touch " + c + ")", "`touch " + c + "`", "${IFS}touch${IFS}" + c, "$((1+1))$(touch " + c + ")",
		"'; touch " + c + "; '", "\"; touch " + c + "; \"", "\\'; touch " + c + " #",
		"x\ntouch " + c, "x\rtouch " + c, "x\x00touch " + c, "eth0\ttouch " + c,
		"--help", "-rf", "--output=" + c, "-o" + c, "-- -x",
		"../../../../etc/passwd", "/tmp/../etc", "/tmp/$(touch " + c + ")", "~root",
		"*", "?", "[a-z]*", "{a,b}", "!!", "#comment",
		"eth0\u202e", "\u200beth0", "еth0", "ｅｔｈ０", "a\u0000b",
		"1; touch " + c, "10%; touch " + c, "200ms$(touch " + c + ")", "10.0.0.0/24 -j ACCEPT", "0x10",
		"9999999999999999999999", "-1", "NaN", "1e9", "KILL; touch " + c,
		"$HOME", "%s%s%n", "<(touch " + c + ")", "> " + c, "< /etc/shadow",
	}
}

// TestHostileParams feeds every hostile value to every string-like param
// slot of the Linux and lab kinds, through Preflight on a real sshd: each is
// refused by its type, or reaches the host only as one quoted word. A
// canary file proves no extra command ran. Then each value is sent through
// Quote and must come back byte for byte.
func TestHostileParams(t *testing.T) {
	s := startSSHD(t, "127.0.0.1", "")
	e := s.executor(t, func(o *Options) { o.Logf = func(string, ...any) {} })
	dir := t.TempDir()
	canary := filepath.Join(dir, "CANARY")
	values := hostileValues(canary)
	if len(values) < 30 {
		t.Fatalf("only %d hostile values", len(values))
	}
	slots := []struct {
		kind, param string
		base        map[string]string
	}{
		{"process-pause", "name", nil},
		{"process-kill", "pidfile", nil},
		{"process-kill", "signal", map[string]string{"name": "gdt-none"}},
		{"service-stop", "unit", nil},
		{"network-latency", "interface", map[string]string{"delay": "10ms"}},
		{"network-latency", "delay", map[string]string{"interface": "lo"}},
		{"network-loss", "destination", map[string]string{"interface": "lo", "percent": "1"}},
		{"disk-fill", "path", map[string]string{"size": "1MiB"}},
		{"disk-fill", "size", map[string]string{"path": dir}},
		{"blackhole", "cidr", nil},
		{"blackhole", "port", map[string]string{"cidr": "192.0.2.1", "protocol": "tcp"}},
		{"dns-blackhole", "domain", nil},
		{"cpu", "workers", nil},
		{"memory", "size", nil},
		{"io", "path", nil},
		{"lab-latency", "delay", nil},
		{"lab-errors", "share", nil},
	}
	accepted := 0
	ctx := ctxFor(t)
	for _, slot := range slots {
		for _, v := range values {
			params := map[string]string{slot.param: v}
			for k, x := range slot.base {
				params[k] = x
			}
			inj := targets.Injection{RunID: "hostile", Attack: "h", Kind: slot.kind, Member: s.member(), Params: params, Duration: 2 * time.Second}
			if _, _, err := e.build(inj); err != nil {
				continue // refused by its type: nothing was sent
			}
			accepted++
			// Accepted: it must appear only as one quoted word in what runs.
			_, in, _, _ := e.commands(inj)
			if strings.Contains(in, v) && Quote(v) != v && !strings.Contains(in, Quote(v)) {
				t.Errorf("%s %s=%q accepted and spliced unquoted", slot.kind, slot.param, v)
			}
			// Preflight only: it sends the value to the host but changes
			// nothing, and some accepted kinds would edit this machine's
			// /etc/hosts or firewall if injected.
			e.Preflight(ctx, inj)
		}
	}
	t.Logf("%d slots x %d values: %d accepted by their type", len(slots), len(values), accepted)

	// Delivered literally: Quote carries each value as one argument. One
	// session for all of them; printf repeats its format per argument.
	var words []string
	var want strings.Builder
	for _, v := range values {
		if strings.IndexByte(v, 0) >= 0 {
			continue // no argv can carry NUL; checkArg refuses it
		}
		words = append(words, Quote(v))
		want.WriteString("[" + v + "]\x1e")
	}
	out, err := e.Run(ctx, s.member(), "printf '[%s]\\036' "+strings.Join(words, " "))
	if err != nil {
		t.Fatal(err)
	}
	got, exp := strings.Split(out, "\x1e"), strings.Split(strings.TrimSpace(want.String()), "\x1e")
	if len(got) != len(exp) {
		t.Fatalf("host printed %d words for %d values: %q", len(got), len(exp), out)
	}
	for i := range exp {
		if got[i] != exp[i] {
			t.Errorf("sent %q, host printed %q", exp[i], got[i])
		}
	}
	if _, err := os.Stat(canary); !os.IsNotExist(err) {
		t.Fatalf("canary %s exists: a hostile value ran a command", canary)
	}
}

package ssh

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/targets"
)

// TestProbeFindsWrongHostKey: of two real sshd hosts, the one whose key
// known_hosts does not hold is reported, naming it and the host key; the
// other passes, and so does the good one alone.
func TestProbeFindsWrongHostKey(t *testing.T) {
	e2e.Need(t, "sshd")
	good := startSSHD(t, "127.0.0.1", "")
	bad := startSSHD(t, "127.0.0.1", "")
	other := writeKey(t, filepath.Join(t.TempDir(), "other"))
	kh := filepath.Join(t.TempDir(), "known_hosts")
	lines := knownhosts.Line([]string{knownhosts.Normalize(good.Addr)}, good.HostKey) + "\n" +
		knownhosts.Line([]string{knownhosts.Normalize(bad.Addr)}, other.PublicKey()) + "\n"
	if err := os.WriteFile(kh, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	// Both sshds trust their own user key only; the good one's key file
	// logs in to both because the bad one is never got past its host key.
	e := good.executor(t, func(o *Options) { o.KnownHosts = kh })
	gm := good.member()
	gm.ID = "good-host"
	bm := targets.Member{Target: "test", ID: "bad-host", Addr: bad.Addr, Labels: map[string]string{LabelUser: "root"}}

	errs := e.Probe(ctxFor(t), []targets.Member{gm, bm, gm})
	if len(errs) != 1 {
		t.Fatalf("want one error (bad-host), got %d: %v", len(errs), errs)
	}
	msg := errs[0].Error()
	for _, want := range []string{"host bad-host", "HOST KEY CHANGED", "(step: connect)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("probe error lacks %q: %s", want, msg)
		}
	}
	if errs := e.Probe(ctxFor(t), []targets.Member{gm}); len(errs) != 0 {
		t.Errorf("probe of the good host alone: %v", errs)
	}
	if e.Handshakes() != 1 {
		t.Errorf("probe should leave one pooled connection to reuse, made %d handshakes", e.Handshakes())
	}
}

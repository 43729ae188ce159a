package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHD is a real OpenSSH server a test started on loopback (or in a test
// network namespace), with its own host key and one authorised user key for
// root. It is stopped when the test ends.
type SSHD struct {
	Addr       string // host:port
	Dir        string // holds the config, keys and sshd.log
	HostKey    gossh.PublicKey
	UserKey    string // private key file that logs in as root
	KnownHosts string // a known_hosts that trusts HostKey at Addr
	Pid        int    // of the sshd (or ip netns exec) process
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	return freeTCP(t).Port
}

// StartSSHD runs sshd -D on listen (an IP) and a free port; netns, when set,
// runs it inside that network namespace on port 22. It needs sshd and root
// (sshd refuses to switch users otherwise), and skips or fails per Mode.
func StartSSHD(t testing.TB, listen, netns string) *SSHD {
	t.Helper()
	return startSSHD(t, listen, netns, false)
}

// StartHost is StartSSHD for a test with several hosts in namespaces: it
// also gives the sshd its own /run/gameday (a tmpfs in a mount namespace of
// its own), as separate machines have, so one host's rollback cannot touch
// another's state files.
func StartHost(t testing.TB, listen, netns string) *SSHD {
	t.Helper()
	Need(t, "unshare", "mount")
	return startSSHD(t, listen, netns, true)
}

func startSSHD(t testing.TB, listen, netns string, ownRun bool) *SSHD {
	t.Helper()
	paths := Need(t, "sshd")
	NeedRoot(t)
	dir := t.TempDir()
	host := WriteKey(t, filepath.Join(dir, "host_ed25519"))
	user := WriteKey(t, filepath.Join(dir, "user_ed25519"))
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), gossh.MarshalAuthorizedKey(user.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	port := 22
	if netns == "" {
		port = FreePort(t)
	}
	conf := fmt.Sprintf(`Port %d
ListenAddress %s
HostKey %s/host_ed25519
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
MaxStartups 200
MaxSessions 200
LogLevel ERROR
`, port, listen, dir, dir, dir)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// sshd refuses to start without its privilege separation directory,
	// which a host that never ran sshd as a service lacks.
	os.MkdirAll("/run/sshd", 0o755)
	sshdPath, _ := filepath.Abs(paths[0])
	args := []string{sshdPath, "-D", "-e", "-f", filepath.Join(dir, "sshd_config")}
	if ownRun {
		os.MkdirAll("/run/gameday", 0o755)
		args = append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount -t tmpfs -o mode=0755 gameday-test /run/gameday && exec "$@"`, "sh"}, args...)
	}
	if netns != "" {
		args = append([]string{"ip", "netns", "exec", netns}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	logf, _ := os.Create(filepath.Join(dir, "sshd.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	addr := net.JoinHostPort(listen, strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Fatalf("sshd did not listen on %s: %v\n%s", addr, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	kh := filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, host.PublicKey()) + "\n"
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return &SSHD{Addr: addr, Dir: dir, HostKey: host.PublicKey(), UserKey: filepath.Join(dir, "user_ed25519"), KnownHosts: kh, Pid: cmd.Process.Pid}
}

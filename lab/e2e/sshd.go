package e2e

import (
	"fmt"
	"io"
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
	// A free port is free only until someone else binds it: tests running
	// beside this one open servers of their own. An sshd that lost the port
	// exits, and whatever listens there is not it; then it is tried again
	// on another port (bounded).
	var d *daemon
	var addr string
	for attempt := 1; ; attempt++ {
		port := 22
		if netns == "" {
			port = FreePort(t)
		}
		var err error
		if d, err = runSSHD(dir, listen, netns, port, ownRun, paths[0]); err != nil {
			t.Fatalf("start sshd: %v", err)
		}
		addr = net.JoinHostPort(listen, strconv.Itoa(port))
		why := d.waitForSSH(addr, 10*time.Second)
		if why == nil {
			break
		}
		d.stop()
		if attempt == 5 || netns != "" {
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Fatalf("sshd did not listen on %s: %v\n%s", addr, why, log)
		}
	}
	t.Cleanup(d.stop)
	kh := filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, host.PublicKey()) + "\n"
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return &SSHD{Addr: addr, Dir: dir, HostKey: host.PublicKey(), UserKey: filepath.Join(dir, "user_ed25519"), KnownHosts: kh, Pid: d.cmd.Process.Pid}
}

// runSSHD writes dir's sshd_config for port and starts sshd -D on it,
// logging to dir/sshd.log; in netns and with a /run/gameday of its own
// when asked.
func runSSHD(dir, listen, netns string, port int, ownRun bool, sshd string) (*daemon, error) {
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
		return nil, err
	}
	// sshd refuses to start without its privilege separation directory,
	// which a host that never ran sshd as a service lacks.
	os.MkdirAll("/run/sshd", 0o755)
	sshdPath, _ := filepath.Abs(sshd)
	args := []string{sshdPath, "-D", "-e", "-f", filepath.Join(dir, "sshd_config")}
	if ownRun {
		os.MkdirAll("/run/gameday", 0o755)
		args = append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount -t tmpfs -o mode=0755 gameday-test /run/gameday && exec "$@"`, "sh"}, args...)
	}
	if netns != "" {
		args = append([]string{"ip", "netns", "exec", netns}, args...)
	}
	logf, err := os.OpenFile(filepath.Join(dir, "sshd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	return startProcess(cmd)
}

// waitForSSH waits until an SSH server greets at addr while d still
// runs: a listener there after d exited (it lost the port) is someone
// else's.
func (d *daemon) waitForSSH(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			return fmt.Errorf("sshd exited (was port %s taken?)", addr)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			last = err
			time.Sleep(20 * time.Millisecond)
			continue
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		banner := make([]byte, len("SSH-2.0-"))
		_, err = io.ReadFull(c, banner)
		c.Close()
		select {
		case <-d.exited:
			return fmt.Errorf("sshd exited and something else answers at %s", addr)
		default:
		}
		if err != nil || string(banner) != "SSH-2.0-" {
			return fmt.Errorf("something other than an SSH server answers at %s", addr)
		}
		return nil
	}
	return fmt.Errorf("nothing listens at %s after %s: %v", addr, within, last)
}

package e2e

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A port someone else took is told apart from sshd's own: a listener that
// does not greet as SSH, or any listener once the process has exited, is
// not the server the test started, so startSSHD tries another port.
func TestWaitForSSHTellsATakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	}()
	running, err := startProcess(exec.Command("sleep", "30"))
	if err != nil {
		t.Fatal(err)
	}
	defer running.stop()
	if err := running.waitForSSH(l.Addr().String(), 5*time.Second); err == nil || !strings.Contains(err.Error(), "other than an SSH server") {
		t.Errorf("a listener that is not SSH: %v", err)
	}
	gone, err := startProcess(exec.Command("true"))
	if err != nil {
		t.Fatal(err)
	}
	<-gone.exited
	if err := gone.waitForSSH(l.Addr().String(), 5*time.Second); err == nil || !strings.Contains(err.Error(), "sshd exited") {
		t.Errorf("a server that exited: %v", err)
	}
}

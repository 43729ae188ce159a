package serve

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/gameday/gameday/lab/e2e"
)

// A participant joins with the system's ssh client under tmux and gets a
// full-screen console; when the server closes with the game day, their
// terminal leaves the alternate screen, shows its cursor again, and says
// the game day ended, before ssh exits.
func TestCloseRestoresParticipantsTerminals(t *testing.T) {
	sshBin := e2e.Need(t, "tmux", "ssh")[1]
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "carol")
	pub := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(e2e.WriteKey(t, keyFile).PublicKey())))
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, []byte(pub+" carol\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fullScreen := func(s *Session) (*tea.Program, func(), error) {
		p, done, err := echoConsole(s)
		if err != nil {
			return nil, nil, err
		}
		// The same program as echoConsole's, on the alternate screen, as
		// participants' consoles run.
		p = tea.NewProgram(&echo{hello: "hello " + s.Who.Name}, tea.WithInput(s.In), tea.WithOutput(s.Out),
			tea.WithAltScreen(), tea.WithoutSignalHandler())
		return p, done, nil
	}
	srv := startWith(t, Options{AuthorizedKeys: authorized, Console: fullScreen})
	_, port, _ := net.SplitHostPort(srv.Addr())

	ssh := strings.Join([]string{sshBin, "-F", "/dev/null", "-p", port, "-i", keyFile, "-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile=" + filepath.Join(dir, "known_hosts"),
		"-o", "BatchMode=yes", "-tt", "carol@127.0.0.1"}, " ")
	// The shell stays after ssh, so the pane can still be read.
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LANG=C.UTF-8", "TERM=xterm-256color"}
	term := e2e.StartTmux(t, 80, 24, env, "/bin/sh", "-c", ssh+"; echo ssh exited $?; sleep 120")
	term.WaitText(20*time.Second, "hello carol")
	if alt, cursor := term.Format("#{alternate_on}"), term.Format("#{cursor_flag}"); alt != "1" || cursor != "0" {
		t.Fatalf("the console is not full screen with a hidden cursor: alternate_on=%s cursor_flag=%s", alt, cursor)
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	screen := term.WaitText(20*time.Second, "game day ended", "ssh exited 0")
	if alt, cursor := term.Format("#{alternate_on}"), term.Format("#{cursor_flag}"); alt != "0" || cursor != "1" {
		t.Errorf("after the server closed: alternate_on=%s cursor_flag=%s, want the terminal restored; screen:\n%s", alt, cursor, screen)
	}
}

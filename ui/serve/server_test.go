package serve

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/gameday/gameday/lab/e2e"
	"github.com/gameday/gameday/runbook"
	"go.uber.org/goleak"
	gossh "golang.org/x/crypto/ssh"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type person struct {
	signer gossh.Signer
	line   string
}

func newPerson(t *testing.T, comment string) person {
	t.Helper()
	s := e2e.Key(t)
	return person{s, e2e.AuthorizedKey(s.PublicKey()) + " " + comment}
}

// echo is a console that shows what the server knows of the participant,
// then reports every size it is sent and echoes every line typed.
type echo struct {
	hello string
	lines []string
	typed string
}

func echoConsole(s *Session) (*tea.Program, func(), error) {
	m := &echo{hello: fmt.Sprintf("hello %s %s abort=%v %s %dx%d", s.Who.Name, s.Who.Role, s.Who.Abort, s.Term, s.Width, s.Height)}
	return tea.NewProgram(m, tea.WithInput(s.In), tea.WithOutput(s.Out), tea.WithoutSignalHandler()), func() {}, nil
}

func (e *echo) Init() tea.Cmd { return nil }

func (e *echo) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		e.lines = append(e.lines, fmt.Sprintf("resized %dx%d", msg.Width, msg.Height))
	case tea.KeyMsg:
		switch msg.Type {
		case tea.KeyEnter:
			if e.typed == "bye" {
				return e, tea.Quit
			}
			e.lines = append(e.lines, "typed "+e.typed)
			e.typed = ""
		case tea.KeySpace:
			e.typed += " "
		case tea.KeyRunes:
			e.typed += string(msg.Runes)
		}
	}
	return e, nil
}

func (e *echo) View() string { return e.hello + "\n" + strings.Join(e.lines, "\n") + "\n" }

func startServer(t *testing.T, roles runbook.Roles, authorized string) *Server {
	t.Helper()
	return startWith(t, Options{Roles: roles, AuthorizedKeys: authorized, Console: echoConsole})
}

func startWith(t *testing.T, o Options) *Server {
	t.Helper()
	o.Addr, o.HostKey = "127.0.0.1:0", filepath.Join(t.TempDir(), "host_key")
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dial(s *Server, who person) (*gossh.Client, error) {
	return gossh.Dial("tcp", s.Addr(), e2e.Participant("anyone", who.signer))
}

func TestParticipantsJoinWithTheirRole(t *testing.T) {
	ana, dee, zed := newPerson(t, "ana"), newPerson(t, "dee"), newPerson(t, "zed")
	roles := runbook.Roles{
		Facilitator: &runbook.Person{Name: "Ana", Key: ana.line},
		Observers:   []runbook.Person{{Name: "Dee", Key: dee.line}},
	}
	s := startServer(t, roles, "")

	for _, tc := range []struct {
		who  person
		want string
	}{
		{ana, "hello Ana facilitator abort=true xterm-256color 120x40"},
		{dee, "hello Dee observer abort=false xterm-256color 120x40"},
	} {
		c, err := dial(s, tc.who)
		if err != nil {
			t.Fatal(err)
		}
		sess, in, scr := e2e.ShellSession(t, c, "xterm-256color")
		scr.WaitText(t, 5*time.Second, "the session", tc.want)
		if err := sess.WindowChange(50, 200); err != nil {
			t.Fatal(err)
		}
		scr.WaitText(t, 5*time.Second, "the session", "resized 200x50")
		io.WriteString(in, "note this\r")
		scr.WaitText(t, 5*time.Second, "the session", "typed note this")
		io.WriteString(in, "bye\r")
		if err := sess.Wait(); err != nil {
			t.Errorf("session ended with %v, want exit status 0", err)
		}
		c.Close()
	}

	if _, err := dial(s, zed); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("an unknown key joined: err = %v", err)
	}
}

func TestAuthorizedKeysAdmitObservers(t *testing.T) {
	ana, bob := newPerson(t, "ana"), newPerson(t, "bob@laptop")
	file := filepath.Join(t.TempDir(), "authorized_keys")
	os.WriteFile(file, []byte("# the team\n"+bob.line+"\n"+ana.line+"\n"), 0o600)
	roles := runbook.Roles{Facilitator: &runbook.Person{Name: "Ana", Key: ana.line}}
	keys, err := admitted(roles, file, runbook.RoleObserver)
	if err != nil {
		t.Fatal(err)
	}
	if w := keys[gossh.FingerprintSHA256(bob.signer.PublicKey())]; w != (Who{Name: "bob@laptop", Role: runbook.RoleObserver}) {
		t.Errorf("bob = %+v", w)
	}
	if w := keys[gossh.FingerprintSHA256(ana.signer.PublicKey())]; w.Role != runbook.RoleFacilitator || !w.Abort {
		t.Errorf("ana kept her runbook role? %+v", w)
	}

	os.WriteFile(file, []byte(bob.line+"\nssh-ed25519 garbage\n"), 0o600)
	if _, err := admitted(roles, file, runbook.RoleObserver); err == nil || !strings.Contains(err.Error(), file+":2: expected an authorized_keys line") {
		t.Errorf("a bad line: err = %v", err)
	}
}

func TestHostKeyPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "host_key")
	a, err := hostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key file: %v %v", fi, err)
	}
	b, err := hostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.PublicKey().Marshal(), b.PublicKey().Marshal()) {
		t.Error("the host key changed between starts; participants' known_hosts would break")
	}
}

func TestNoKeysNoServer(t *testing.T) {
	_, err := Start(Options{Addr: "127.0.0.1:0", HostKey: filepath.Join(t.TempDir(), "k"), Roles: runbook.Roles{Facilitator: &runbook.Person{Name: "Ana"}}, Console: echoConsole})
	if err == nil || !strings.Contains(err.Error(), "no participant has a key") {
		t.Errorf("err = %v", err)
	}
}

func TestDroppedSessionAndCloseLeaveNothing(t *testing.T) {
	ana := newPerson(t, "ana")
	s := startServer(t, runbook.Roles{Facilitator: &runbook.Person{Name: "Ana", Key: ana.line}}, "")
	c, err := dial(s, ana)
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := c.NewSession()
	scr := &e2e.Screen{}
	sess.Stdout = scr
	sess.Shell()
	scr.WaitText(t, 5*time.Second, "the session", "hello Ana")
	// The participant's laptop goes away mid-session.
	c.Close()
	addr := s.Addr()
	if err := s.Close(); err != nil && !strings.Contains(err.Error(), "closed") {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Close", addr)
	}
	// goleak in TestMain checks that no session goroutine is left.
}

// anaJoins starts a server with o where Ana facilitates, and opens her
// session with a pty.
func anaJoins(t *testing.T, o Options) (*Server, *gossh.Session, *e2e.Screen, io.Writer) {
	t.Helper()
	ana := newPerson(t, "ana")
	o.Roles = runbook.Roles{Facilitator: &runbook.Person{Name: "Ana", Key: ana.line}}
	s := startWith(t, o)
	c, err := dial(s, ana)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sess, in, scr := e2e.ShellSession(t, c, "xterm-256color")
	scr.WaitText(t, 5*time.Second, "the session", "hello Ana")
	return s, sess, scr, in
}

// A client that closes its session but keeps the connection (as a
// multiplexing ssh does) ends that participant's console.
func TestClosedSessionEndsItsConsole(t *testing.T) {
	ended := make(chan struct{})
	_, sess, _, _ := anaJoins(t, Options{Console: func(s *Session) (*tea.Program, func(), error) {
		p, _, err := echoConsole(s)
		return p, func() { close(ended) }, err
	}})
	sess.Close()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the console still runs after its session closed")
	}
}

// A client that connects and says nothing is dropped after OpenTimeout; a
// participant whose session is open stays past it.
func TestSilentClientIsDropped(t *testing.T) {
	s, _, scr, in := anaJoins(t, Options{Console: echoConsole, OpenTimeout: 300 * time.Millisecond})

	silent, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	// The server speaks first (its version line), then closes.
	if _, err := io.Copy(io.Discard, silent); err != nil {
		t.Fatalf("a silent client was not dropped: %v", err)
	}
	// By now Ana's connection is older than OpenTimeout too.
	io.WriteString(in, "still here\r")
	scr.WaitText(t, 5*time.Second, "the session", "typed still here")
}

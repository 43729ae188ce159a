package sshhost

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"

	"github.com/gameday/gameday/lab/e2e"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fixture struct {
	srv       *Server
	host, key ssh.Signer
	cmds      chan string
}

func start(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{host: e2e.Key(t), key: e2e.Key(t), cmds: make(chan string, 16)}
	srv, err := Start(Options{
		Name: "h1", HostKey: f.host, User: "gameday", UserKey: f.key.PublicKey(),
		ShellMessage: "not a shell\n",
		Handler: func(ctx context.Context, cmd string) (string, string, int) {
			f.cmds <- cmd
			switch cmd {
			case "fail":
				return "some output\n", "it failed\n", 3
			case "block":
				<-ctx.Done()
				return "", "", 1
			}
			return "ran " + cmd + "\n", "", 0
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	t.Cleanup(func() { srv.Close() })
	return f
}

func (f *fixture) dial(user string, key ssh.Signer) (*ssh.Client, error) {
	return ssh.Dial("tcp", f.srv.Addr(), &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(key), ssh.Password("secret")},
		HostKeyCallback: ssh.FixedHostKey(f.host.PublicKey()),
		Timeout:         5 * time.Second,
	})
}

// login connects as the lab user with its key, until the test ends.
func (f *fixture) login(t *testing.T) *ssh.Client {
	t.Helper()
	c, err := f.dial("gameday", f.key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func run(t *testing.T, c *ssh.Client, cmd string) (string, string, error) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out, errOut bytes.Buffer
	s.Stdout, s.Stderr = &out, &errOut
	err = s.Run(cmd)
	return out.String(), errOut.String(), err
}

func TestExecAndExitStatus(t *testing.T) {
	f := start(t)
	c := f.login(t)
	out, errOut, err := run(t, c, "status --x='y z'")
	if err != nil || out != "ran status --x='y z'\n" || errOut != "" {
		t.Fatalf("exec: %q %q %v", out, errOut, err)
	}
	out, errOut, err = run(t, c, "fail")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 3 || out != "some output\n" || errOut != "it failed\n" {
		t.Fatalf("failing exec: %q %q %v", out, errOut, err)
	}
	// A shell is refused with a message and a non-zero status.
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var msg bytes.Buffer
	s.Stderr = &msg
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(); !errors.As(err, &ee) || ee.ExitStatus() != 1 || msg.String() != "not a shell\n" {
		t.Fatalf("shell: %v, %q", err, msg.String())
	}
	// No port forwarding.
	if _, err := c.Dial("tcp", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "sessions only") {
		t.Fatalf("forwarding: %v", err)
	}
}

func TestAuthIsPublicKeyForTheLabUserOnly(t *testing.T) {
	f := start(t)
	if c, err := f.dial("gameday", e2e.Key(t)); err == nil {
		c.Close()
		t.Fatal("an unknown key got in")
	}
	if c, err := f.dial("root", f.key); err == nil {
		c.Close()
		t.Fatal("another user got in with the lab key")
	}
	if len(f.cmds) != 0 {
		t.Fatal("a refused login ran a command")
	}
}

func TestCloseEndsRunningCommandsAndConnections(t *testing.T) {
	f := start(t)
	c := f.login(t)
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("block"); err != nil {
		t.Fatal(err)
	}
	<-f.cmds
	addr := f.srv.Addr()
	f.srv.Close()
	if err := s.Wait(); err == nil {
		t.Fatal("a command cut off by Close reported success")
	}
	e2e.Closed(t, "Close", addr)
}

// A server many clients reach (bench/sshsink): several keys, any user,
// commands that stream stdin to stdout, and Drop ending connections while
// the server keeps listening.
func TestStreamingExecForManyKeysAndDrop(t *testing.T) {
	host, a, b := e2e.Key(t), e2e.Key(t), e2e.Key(t)
	srv, err := Start(Options{Name: "sink", HostKey: host, User: AnyUser, UserKeys: []ssh.PublicKey{a.PublicKey(), b.PublicKey()},
		Exec: func(_ context.Context, cmd string, ch ssh.Channel) int {
			io.Copy(ch, ch)
			io.WriteString(ch.Stderr(), cmd)
			return 5
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dial := func(user string, key ssh.Signer) *ssh.Client {
		c, err := ssh.Dial("tcp", srv.Addr(), &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
			HostKeyCallback: ssh.FixedHostKey(host.PublicKey()), Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		return c
	}
	for user, key := range map[string]ssh.Signer{"bench": a, "deploy": b} {
		c := dial(user, key)
		defer c.Close()
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		s.Stdin, s.Stdout, s.Stderr = strings.NewReader("typed by "+user), &out, &errOut
		var ee *ssh.ExitError
		if err := s.Run("cat"); !errors.As(err, &ee) || ee.ExitStatus() != 5 || out.String() != "typed by "+user || errOut.String() != "cat" {
			t.Fatalf("%s: %v, out %q, err %q", user, err, out.String(), errOut.String())
		}
	}
	c := dial("again", a)
	srv.Drop()
	if err := c.Wait(); err == nil {
		t.Fatal("a dropped connection ended cleanly")
	}
	dial("after", b).Close()
}

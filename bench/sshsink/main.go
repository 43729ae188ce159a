// Command sshsink is a lightweight SSH server for benchmarks of SSH clients:
// it listens on one port of many loopback addresses (127.0.0.1 to
// 127.0.0.N), accepts one user key, and answers every exec request with exit
// status 0 at once, so the host side costs almost nothing and a fan-out
// benchmark measures the client. With -exec it runs each command with
// /bin/sh -c instead, to check that a client's commands really work.
//
// It writes a known_hosts file that trusts its host key on every address,
// so clients verify the host key as they would in production.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func main() {
	n := flag.Int("hosts", 100, "listen on 127.0.0.1 to 127.0.0.N")
	port := flag.Int("port", 2222, "port on every address")
	authKeys := flag.String("authorized-keys", "", "authorized_keys file: the client keys accepted (required)")
	khOut := flag.String("known-hosts", "", "write a known_hosts file trusting this server on every address (required)")
	execMode := flag.Bool("exec", false, "run each command with /bin/sh -c instead of answering exit 0 at once")
	flag.Parse()
	if err := run(*n, *port, *authKeys, *khOut, *execMode); err != nil {
		log.Fatalf("sshsink: %v", err)
	}
}

func run(n, port int, authKeys, khOut string, execMode bool) error {
	if authKeys == "" || khOut == "" {
		return errors.New("-authorized-keys and -known-hosts are required")
	}
	if n < 1 || n > 254 {
		return fmt.Errorf("-hosts %d: expected 1 to 254", n)
	}
	allowed, err := readAuthorizedKeys(authKeys)
	if err != nil {
		return err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	host, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return err
	}
	cfg := &gossh.ServerConfig{PublicKeyCallback: func(c gossh.ConnMetadata, k gossh.PublicKey) (*gossh.Permissions, error) {
		if allowed[string(k.Marshal())] {
			return nil, nil
		}
		return nil, fmt.Errorf("key %s not authorized for %s", gossh.FingerprintSHA256(k), c.User())
	}}
	cfg.AddHostKey(host)

	var kh []byte
	for i := 1; i <= n; i++ {
		addr := net.JoinHostPort(fmt.Sprintf("127.0.0.%d", i), strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
		kh = append(kh, knownhosts.Line([]string{knownhosts.Normalize(addr)}, host.PublicKey())+"\n"...)
		go serve(l, cfg, execMode)
	}
	if err := os.WriteFile(khOut, kh, 0o600); err != nil {
		return err
	}
	log.Printf("sshsink: listening on 127.0.0.1-127.0.0.%d port %d (exec=%v)", n, port, execMode)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	return nil
}

func readAuthorizedKeys(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	allowed := map[string]bool{}
	for len(b) > 0 {
		k, _, _, rest, err := gossh.ParseAuthorizedKey(b)
		if err != nil {
			break
		}
		allowed[string(k.Marshal())] = true
		b = rest
	}
	if len(allowed) == 0 {
		return nil, fmt.Errorf("%s: no public key found", path)
	}
	return allowed, nil
}

func serve(l net.Listener, cfg *gossh.ServerConfig, execMode bool) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			sc, chans, reqs, err := gossh.NewServerConn(c, cfg)
			if err != nil {
				c.Close()
				return
			}
			defer sc.Close()
			go gossh.DiscardRequests(reqs)
			for nc := range chans {
				if nc.ChannelType() != "session" {
					nc.Reject(gossh.UnknownChannelType, "only sessions")
					continue
				}
				ch, rs, err := nc.Accept()
				if err != nil {
					continue
				}
				go session(ch, rs, execMode)
			}
		}()
	}
}

// session serves one channel: env and pty requests are accepted and
// ignored (OpenSSH clients send them), the first exec ends the channel.
func session(ch gossh.Channel, rs <-chan *gossh.Request, execMode bool) {
	defer ch.Close()
	for r := range rs {
		switch r.Type {
		case "env", "pty-req":
			r.Reply(true, nil)
		case "exec":
			r.Reply(true, nil)
			status := 0
			if execMode {
				status = shell(ch, r.Payload)
			}
			b := make([]byte, 4)
			binary.BigEndian.PutUint32(b, uint32(status))
			ch.SendRequest("exit-status", false, b)
			return
		default:
			r.Reply(false, nil)
		}
	}
}

func shell(ch gossh.Channel, payload []byte) int {
	var req struct{ Command string }
	if err := gossh.Unmarshal(payload, &req); err != nil {
		fmt.Fprintln(ch.Stderr(), "sshsink: bad exec request:", err)
		return 255
	}
	cmd := exec.Command("/bin/sh", "-c", req.Command)
	cmd.Stdin = io.LimitReader(ch, 0)
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	default:
		fmt.Fprintln(ch.Stderr(), err)
		return 255
	}
}

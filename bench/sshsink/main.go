// Command sshsink is a lightweight SSH server for benchmarks of SSH clients
// (bench/ssh-compare.sh): it listens on one port of many loopback addresses
// (N consecutive ones from 127.0.0.1: 1,000 hosts end at 127.0.3.232),
// accepts the keys of an authorized_keys file,
// and answers every command at once, so the host side costs almost nothing
// and a fan-out benchmark measures the client. With -exec it runs each
// command with /bin/sh -c instead, to check that a client's commands work.
//
// It writes a known_hosts file that trusts its host key on every address,
// so clients verify the host key as they would in production.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gameday/gameday/bench/sshsink/sink"
)

func main() {
	n := flag.Int("hosts", 100, "listen on N consecutive loopback addresses from 127.0.0.1")
	port := flag.Int("port", 2222, "port on every address")
	authKeys := flag.String("authorized-keys", "", "authorized_keys file: the client keys accepted (required)")
	khOut := flag.String("known-hosts", "", "write a known_hosts file trusting this server on every address (required)")
	execMode := flag.Bool("exec", false, "run each command with /bin/sh -c instead of answering at once")
	flag.Parse()
	if err := run(*n, *port, *authKeys, *khOut, *execMode); err != nil {
		log.Fatalf("sshsink: %v", err)
	}
}

func run(n, port int, authKeys, khOut string, execMode bool) error {
	if authKeys == "" || khOut == "" {
		return errors.New("-authorized-keys and -known-hosts are required")
	}
	if n < 1 || n > 60000 {
		return fmt.Errorf("-hosts %d: expected 1 to 60000 (each address holds a listener and its connections' file descriptors)", n)
	}
	allowed, err := readAuthorizedKeys(authKeys)
	if err != nil {
		return err
	}
	_, host, err := sink.NewKey()
	if err != nil {
		return err
	}
	var env []string
	if execMode {
		env = os.Environ()
	}
	listen := sink.Loopback(n, port)
	s, err := sink.Start(listen, host, allowed, env)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := os.WriteFile(khOut, s.KnownHosts(), 0o600); err != nil {
		return err
	}
	log.Printf("sshsink: listening on %s to %s (exec=%v)", listen[0], listen[n-1], execMode)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	log.Printf("sshsink: %d sessions served", s.Sessions())
	return nil
}

func readAuthorizedKeys(path string) ([]gossh.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []gossh.PublicKey
	for len(b) > 0 {
		k, _, _, rest, err := gossh.ParseAuthorizedKey(b)
		if err != nil {
			break
		}
		keys = append(keys, k)
		b = rest
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no public key found", path)
	}
	return keys, nil
}

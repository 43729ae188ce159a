package ssh

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestFindHosts(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ssh_config")
	os.WriteFile(cfg, []byte(`Host web-1 web-2
  HostName 127.0.0.1
  Port 2201
  User deploy
Host web-* !web-3
  User ops
Host db-1
  HostName 127.0.0.2
Host *
  ConnectTimeout 5
`), 0o600)
	kh := filepath.Join(dir, "known_hosts")
	os.WriteFile(kh, []byte(`web-9,10.0.0.9 ssh-ed25519 AAAA
[web-8]:2222 ssh-ed25519 AAAA
[web-7]:22 ssh-ed25519 AAAA
|1|abc|def ssh-ed25519 AAAA
@cert-authority *.example ssh-ed25519 AAAA
# a comment
`), 0o600)

	hosts, _, err := FindHosts(cfg, "", []string{"web-*"})
	if err != nil {
		t.Fatal(err)
	}
	want := []KnownHost{
		{Alias: "web-1", Addr: "127.0.0.1:2201", User: "deploy", From: cfg},
		{Alias: "web-2", Addr: "127.0.0.1:2201", User: "deploy", From: cfg},
	}
	if !reflect.DeepEqual(hosts, want) {
		t.Fatalf("got %+v\nwant %+v", hosts, want)
	}

	hosts, search, err := FindHosts(cfg, kh, []string{"web-*", "!web-2"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hosts {
		got = append(got, h.Alias+"@"+h.User)
	}
	if strings.Join(got, " ") != "web-1@deploy web-7@ops web-9@ops" {
		t.Errorf("with known_hosts and an exclusion: %v", got)
	}
	if search.Hashed != 1 {
		t.Errorf("hashed = %d, want 1", search.Hashed)
	}

	_, _, err = FindHosts(cfg, kh, []string{"api-*"})
	var none *NoHostsError
	if !errors.As(err, &none) {
		t.Fatalf("want NoHostsError, got %v", err)
	}
	for _, s := range []string{`"api-*"`, cfg, kh, "db-1", "web-1", "10.0.0.9", "1 known_hosts line(s) are hashed"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
}

func TestFindHostsExplicitConfigMissing(t *testing.T) {
	_, _, err := FindHosts(filepath.Join(t.TempDir(), "nope"), "", []string{"*"})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("want an error naming the file, got %v", err)
	}
}

package ssh

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/runbook"
)

// fixtureConfig copies testdata/ssh_config into a temporary directory with
// its Include pointing at the copy, and returns the main file.
func fixtureConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", "ssh_config")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, []byte(strings.ReplaceAll(string(b), "@DIR@", dir)), 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "config")
}

func TestSSHConfig(t *testing.T) {
	path := fixtureConfig(t)
	home, _ := os.UserHomeDir()
	c := &configs{defaultPath: path}

	cases := []struct {
		alias string
		o     override
		want  hostSpec
	}{
		{"web-1", override{}, hostSpec{Addr: "10.0.1.11:2202", User: "deploy", ConnectTimeout: 7 * time.Second,
			Identities: []string{home + "/.ssh/web_10.0.1.11_deploy", home + "/.ssh/shared"}}},
		// No HostName: the alias is dialled; %h is then the alias.
		{"web-2", override{}, hostSpec{Addr: "web-2:2202", User: "deploy", ConnectTimeout: 7 * time.Second,
			Identities: []string{home + "/.ssh/web_web-2_deploy", home + "/.ssh/shared"}}},
		// The runbook wins over ssh_config, as ssh's command line does.
		{"web-1", override{User: "ops", Port: 22}, hostSpec{Addr: "10.0.1.11:22", User: "ops", ConnectTimeout: 7 * time.Second,
			Identities: []string{home + "/.ssh/web_10.0.1.11_ops", home + "/.ssh/shared"}}},
		{"db", override{}, hostSpec{Addr: "db.internal:22", User: "postgres", Jump: []string{"bastion-outer", "ops@bastion-inner:2200"}}},
		{"db", override{Jump: "none"}, hostSpec{Addr: "db.internal:22", User: "postgres"}},
		{"direct", override{}, hostSpec{Addr: "10.0.3.3:22", User: "fallback"}},
		// From the Include, by glob.
		{"cache", override{}, hostSpec{Addr: "10.0.2.20:6022", User: "redis", Jump: []string{"bastion-outer"}}},
		{"unlisted.example.com", override{}, hostSpec{Addr: "unlisted.example.com:22", User: "fallback"}},
	}
	for _, tc := range cases {
		got, err := c.resolve(tc.alias, tc.o)
		if err != nil {
			t.Errorf("%s %+v: %v", tc.alias, tc.o, err)
			continue
		}
		tc.want.Alias = tc.alias
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %+v:\n got %+v\nwant %+v", tc.alias, tc.o, got, tc.want)
		}
	}
}

// TestProxyJumpChain follows db's two bastions from the host outwards: the
// hop next to the host carries the user and port its ProxyJump entry gives,
// and is itself reached through the hop before it.
func TestProxyJumpChain(t *testing.T) {
	c := &configs{defaultPath: fixtureConfig(t)}
	db, err := c.resolve("db", override{})
	if err != nil {
		t.Fatal(err)
	}
	hops, err := c.route(db)
	if err != nil {
		t.Fatal(err)
	}
	want := []hostSpec{
		{Alias: "bastion-inner", Addr: "10.0.0.5:2200", User: "ops", Jump: []string{"bastion-outer"}},
		{Alias: "bastion-outer", Addr: "198.51.100.7:22", User: "jump", Identities: []string{"/keys/outer"}},
	}
	if !reflect.DeepEqual(hops, want) {
		t.Fatalf("route of db:\n got %+v\nwant %+v", hops, want)
	}

	// A jump given by the runbook, as [user@]host[:port] or ssh://.
	for _, jump := range []string{"root@10.9.9.9:2022", "ssh://root@10.9.9.9:2022"} {
		spec, err := c.resolve("web-1", override{Jump: jump})
		if err != nil {
			t.Fatal(err)
		}
		hops, err := c.route(spec)
		if err != nil {
			t.Fatal(err)
		}
		if len(hops) != 1 || hops[0].Addr != "10.9.9.9:2022" || hops[0].User != "root" {
			t.Errorf("jump %q: %+v", jump, hops)
		}
	}
}

// TestSSHConfigErrors: each bad input is refused with the file and line it
// came from, or the host it concerns, and what was expected.
func TestSSHConfigErrors(t *testing.T) {
	path := fixtureConfig(t)
	c := &configs{defaultPath: path}
	for alias, want := range map[string]string{
		"bad-port":    path + `:41: host bad-port: Port "seventy" is not a port number (1-65535)`,
		"bad-timeout": path + `:44: host bad-timeout: ConnectTimeout "soon" is not a whole number of seconds`,
	} {
		_, err := c.resolve(alias, override{})
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v\nwant %s", alias, err, want)
		}
	}

	loop, err := c.resolve("loop-a", override{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.route(loop); err == nil || !strings.Contains(err.Error(), "host loop-a: ProxyJump loops (loop-a via loop-b via loop-a via loop-b)") {
		t.Errorf("loop: got %v", err)
	}
	if _, err := c.resolve("web-1", override{Jump: "root@bastion:99999"}); err != nil {
		t.Fatal(err) // the hop is parsed when the route is followed
	}
	spec, _ := c.resolve("web-1", override{Jump: "root@bastion:99999"})
	if _, err := c.route(spec); err == nil || !strings.Contains(err.Error(), `jump host "bastion:99999": port "99999" is not a port number`) {
		t.Errorf("bad hop port: got %v", err)
	}

	// A config named explicitly must exist; the default one need not.
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := c.resolve("web-1", override{Config: missing}); err == nil || !strings.Contains(err.Error(), "read ssh_config "+missing) {
		t.Errorf("missing explicit config: got %v", err)
	}
	quiet := &configs{defaultPath: missing}
	if spec, err := quiet.resolve("web-1", override{}); err != nil || spec.Addr != "web-1:22" {
		t.Errorf("missing default config: %+v %v", spec, err)
	}

	// Resolve refuses the loop before anything is dialled, naming the target.
	e := New(Options{SSHConfig: path})
	_, err = e.Resolve(t.Context(), runbook.Target{Name: "fleet", SSH: &runbook.SSHTarget{Hosts: []string{"web-1", "loop-a"}}})
	if err == nil || !strings.HasPrefix(err.Error(), "target fleet: host loop-a: ProxyJump loops") {
		t.Errorf("Resolve with a loop: got %v", err)
	}
}

// TestResolveTargetConfig: a target's own ssh_config (the config label) is
// used for its hosts and their jump hosts, and travels in the member so a
// rollback from the journal reaches the host the same way.
func TestResolveTargetConfig(t *testing.T) {
	path := fixtureConfig(t)
	e := New(Options{SSHConfig: filepath.Join(t.TempDir(), "default-config")})
	ms, err := e.Resolve(t.Context(), runbook.Target{Name: "data", SSH: &runbook.SSHTarget{Hosts: []string{"db", "cache"}, Config: path, Sudo: true}})
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].Addr != "db.internal:22" || ms[0].Labels[LabelUser] != "postgres" || ms[0].Labels[LabelJump] != "bastion-outer,ops@bastion-inner:2200" ||
		ms[0].Labels[LabelConfig] != path || ms[0].Labels[LabelSudo] != "true" {
		t.Errorf("db member: %+v", ms[0])
	}
	spec, err := e.spec(ms[0])
	if err != nil {
		t.Fatal(err)
	}
	hops, err := e.cfg.route(spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(hops) != 2 || hops[1].Addr != "198.51.100.7:22" {
		t.Errorf("jump hosts not taken from the target's config: %+v", hops)
	}
	// A member journalled without jump hops is reached directly, whatever
	// ssh_config says today.
	direct := ms[1]
	delete(direct.Labels, LabelJump)
	if spec, err := e.spec(direct); err != nil || len(spec.Jump) != 0 {
		t.Errorf("member without jump label: %+v %v", spec, err)
	}
}

// TestSSHConfigHostKeys: known-hosts files from ssh_config are expanded
// and kept per host; what would turn checking off is refused, saying where
// and why.
func TestSSHConfigHostKeys(t *testing.T) {
	path := fixtureConfig(t)
	home, _ := os.UserHomeDir()
	c := &configs{defaultPath: path}
	spec, err := c.resolve("kh-own", override{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	if want := []string{home + "/.ssh/fleet_known_hosts", dir + "/known_hosts_10.0.4.4"}; !reflect.DeepEqual(spec.KnownHosts, want) {
		t.Errorf("UserKnownHostsFile: %q, want %q", spec.KnownHosts, want)
	}
	if want := []string{"/etc/ssh/fleet_known_hosts"}; !reflect.DeepEqual(spec.GlobalKnownHosts, want) || !spec.AcceptNew {
		t.Errorf("GlobalKnownHostsFile %q, accept-new %v", spec.GlobalKnownHosts, spec.AcceptNew)
	}
	for alias, want := range map[string]string{
		"kh-devnull": path + ":56: host kh-devnull: UserKnownHostsFile /dev/null is refused: it would forget every host key",
		"kh-off":     path + ":59: host kh-off: StrictHostKeyChecking no is refused: gameday always checks host keys",
	} {
		if _, err := c.resolve(alias, override{}); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: got %v\nwant %s...", alias, err, want)
		}
	}

	ks := &keyStore{}
	if got := ks.forHost(spec); !reflect.DeepEqual(got.files, append(spec.KnownHosts, spec.GlobalKnownHosts...)) || !got.acceptNew {
		t.Errorf("database for kh-own: %q accept-new %v", got.files, got.acceptNew)
	}
	plain, _ := c.resolve("web-1", override{})
	if got := ks.forHost(plain).files; !reflect.DeepEqual(got, []string{home + "/.ssh/known_hosts", home + "/.ssh/known_hosts2", "/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}) {
		t.Errorf("OpenSSH's defaults: %q", got)
	}
	// --known-hosts wins over ssh_config.
	ks = &keyStore{explicit: "/tmp/kh"}
	if got := ks.forHost(spec).files; !reflect.DeepEqual(got, []string{"/tmp/kh"}) {
		t.Errorf("explicit file: %q", got)
	}
}

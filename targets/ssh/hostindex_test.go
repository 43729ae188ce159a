package ssh

import (
	"strings"
	"testing"

	"github.com/kevinburke/ssh_config"
)

// The index narrows the blocks tried, never the answer: every setting
// reads the same through it as through the whole file.
func TestHostIndexAnswersAsTheWholeFile(t *testing.T) {
	src := `Port 2000
Host web-1 WEB-2
  User alice
Host web-*
  Port 2201
  User bob
Host web-3 !web-3
  User never
Host *.example.com !db.example.com
  ProxyJump bastion
Host web-1
  User shadowed
  IdentityFile ~/.ssh/web1
Host *
  IdentityFile ~/.ssh/all
  ConnectTimeout 7
`
	cfg, err := ssh_config.Decode(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	idx := indexHosts(cfg)
	for _, alias := range []string{"web-1", "web-2", "WEB-2", "web-3", "a.example.com", "db.example.com", "other", "Web-1"} {
		only := idx.only(cfg, alias)
		for _, key := range []string{"User", "Port", "ProxyJump", "ConnectTimeout", "IdentityFile"} {
			want, _ := cfg.Get(alias, key)
			got, _ := only.Get(alias, key)
			if got != want {
				t.Errorf("%s %s: %q through the index, %q in the file", alias, key, got, want)
			}
			wantAll, _ := cfg.GetAll(alias, key)
			gotAll, _ := only.GetAll(alias, key)
			if strings.Join(gotAll, "|") != strings.Join(wantAll, "|") {
				t.Errorf("%s %s (all): %q through the index, %q in the file", alias, key, gotAll, wantAll)
			}
		}
	}
	if n := len(idx.only(cfg, "web-1").Hosts); n >= len(cfg.Hosts) {
		t.Errorf("web-1 tries %d of %d blocks: the index narrowed nothing", n, len(cfg.Hosts))
	}
}

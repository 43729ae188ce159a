package ssh

import (
	"slices"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// hostIndex finds the Host blocks of one ssh_config file that may match a
// host without trying every block: a file with a block per host would
// otherwise make resolving a fleet cost the square of its size.
type hostIndex struct {
	literal map[string][]int // lower-cased literal pattern: the blocks that name it
	other   []int            // blocks with a wildcard or a negation: tried for every host
}

func indexHosts(cfg *ssh_config.Config) *hostIndex {
	idx := &hostIndex{literal: map[string][]int{}}
	for i, h := range cfg.Hosts {
		literal := len(h.Patterns) > 0
		for _, p := range h.Patterns {
			if s := p.String(); strings.ContainsAny(s, "*?!") {
				literal = false
			}
		}
		if !literal {
			idx.other = append(idx.other, i)
			continue
		}
		for _, p := range h.Patterns {
			k := strings.ToLower(p.String())
			if l := idx.literal[k]; len(l) == 0 || l[len(l)-1] != i {
				idx.literal[k] = append(l, i)
			}
		}
	}
	return idx
}

// only returns cfg reduced to the blocks that match alias, in file order;
// settings are then looked up as in cfg.
func (idx *hostIndex) only(cfg *ssh_config.Config, alias string) *ssh_config.Config {
	cand := append(slices.Clone(idx.other), idx.literal[strings.ToLower(alias)]...)
	slices.Sort(cand)
	cand = slices.Compact(cand)
	out := &ssh_config.Config{}
	for _, i := range cand {
		// The index only narrows; the library's own match decides.
		if h := cfg.Hosts[i]; h.Matches(alias) {
			out.Hosts = append(out.Hosts, h)
		}
	}
	return out
}

package gamedays

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/targets"
)

// Select narrows a target's members to its blast radius. The choice is random
// but repeatable: the same seed and members give the same selection, and the
// seed is returned so the journal can record it. Members keep their resolved
// order in the result.
func Select(members []targets.Member, br runbook.BlastRadius, seed int64) ([]targets.Member, error) {
	if len(members) == 0 {
		return nil, fmt.Errorf("resolved to no members; nothing to attack")
	}
	n, err := blastSize(br, len(members))
	if err != nil {
		return nil, err
	}
	idx := make([]int, len(members))
	for i := range idx {
		idx[i] = i
	}
	r := rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
	r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	chosen := idx[:n]
	sort.Ints(chosen)
	out := make([]targets.Member, n)
	for i, k := range chosen {
		out[i] = members[k]
	}
	return out, nil
}

// blastSize is how many of total members the blast radius selects.
func blastSize(br runbook.BlastRadius, total int) (int, error) {
	var n int
	switch {
	case br.All:
		n = total
	case br.Percent > 0:
		n = int(math.Ceil(br.Percent / 100 * float64(total)))
	default:
		n = br.Count
		if n > total {
			return 0, fmt.Errorf("blast radius count %d exceeds the %d member(s) resolved", n, total)
		}
	}
	if br.Max > 0 && n > br.Max {
		n = br.Max
	}
	if n <= 0 {
		return 0, fmt.Errorf("blast radius selects nothing")
	}
	return n, nil
}

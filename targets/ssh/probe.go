package ssh

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/gameday/gameday/targets"
)

var _ targets.Prober = (*Executor)(nil)

// Probe connects once to every member, before anything else happens, so a
// changed host key, a refused login or a sudo that wants a password stops
// the game day at its start rather than after a baseline. It checks the
// host key and authentication (the handshake), and with sudo: true starts
// the host's shell through sudo -n, which later steps then reuse. Members
// are probed at once, within the fan-out bound; each error names the host
// and the step that failed. A member listed twice is probed once.
func (e *Executor) Probe(ctx context.Context, members []targets.Member) []error {
	type job struct {
		m   targets.Member
		err error
	}
	var jobs []*job
	seen := map[string]bool{}
	for _, m := range members {
		k := m.ID + "|" + m.Addr + "|" + m.Labels[LabelUser] + "|" + m.Labels[LabelJump] + "|" + m.Labels[LabelConfig] + "|" + m.Labels[LabelSudo]
		if !seen[k] {
			seen[k] = true
			jobs = append(jobs, &job{m: m})
		}
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() {
			j.err = e.probe(ctx, j.m)
		})
	}
	wg.Wait()
	var errs []error
	for _, j := range jobs {
		if j.err != nil {
			errs = append(errs, j.err)
		}
	}
	return errs
}

func (e *Executor) probe(ctx context.Context, m targets.Member) error {
	if _, err := e.exec(ctx, m, "", "probe", nil); err != nil {
		return named(m, "connect", err)
	}
	if !sudo(m) {
		return nil
	}
	out, err := e.exec(ctx, m, "echo gameday-probe", "probe", &steps{})
	switch {
	case err == nil:
		return nil
	case ctx.Err() == nil && !strings.Contains(out, "gameday-probe"):
		return fmt.Errorf("%w (step: sudo -n)", sudoFailure(m, out))
	}
	return named(m, "sudo -n", err)
}

// named makes sure err names the host and says which step failed.
func named(m targets.Member, step string, err error) error {
	msg := err.Error()
	if !strings.Contains(msg, "host "+m.ID) {
		return fmt.Errorf("host %s: %s: %w", m.ID, step, err)
	}
	return fmt.Errorf("%w (step: %s)", err, step)
}

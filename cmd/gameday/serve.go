package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/gameday/gameday/gamedays"
	"github.com/gameday/gameday/runbook"
	"github.com/gameday/gameday/ui"
	"github.com/gameday/gameday/ui/serve"
)

// serveFlags are the options of gameday serve and gameday drill.
type serveFlags struct {
	Listen         string
	HostKey        string
	AuthorizedKeys string
	// Drill runs the game day as a drill: responders' view, marks, hints.
	Drill bool
	// Ready, when set, is told where the server listens (tests).
	Ready func(addr, fingerprint string)
}

func addServeFlags(cmd *cobra.Command, sf *serveFlags) {
	fs := cmd.Flags()
	fs.StringVar(&sf.Listen, "listen", "127.0.0.1:2222", "address participants join at (ssh -p PORT host); loopback unless told otherwise")
	fs.StringVar(&sf.HostKey, "host-key", "", "the server's host key, created on first use and kept so known_hosts stay valid (default ~/.config/gameday/serve_host_key)")
	fs.StringVar(&sf.AuthorizedKeys, "authorized-keys", "", "authorized_keys file admitting more participants, named by each key's comment: observers, or responders in a drill")
}

func newServeCmd() *cobra.Command {
	f := &runFlags{}
	sf := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve FILE",
		Short: "Run a game day in the console and let participants join it over SSH",
		Long: `gameday serve runs the game day as gameday run does, in the facilitator's
console, and serves the same live game day over SSH: participants join with
a plain ssh -p PORT host from their own terminals, each sized to its own
window, with the key the runbook's roles give them (or one in
--authorized-keys, as an observer).

What each role may do is enforced by the server: observers watch, the scribe
adds notes, only the facilitator moves the game day on and confirms the
blast radius, and ABORT is the facilitator's and the safety officers'. A
slow or vanished participant never slows the facilitator or the engine.

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return serveFile(cmd, args[0], f, sf)
		},
	}
	cmd.Flags().StringVar(&f.Prometheus, "prometheus", "", "Prometheus-compatible base URL (overrides the environment and the runbook)")
	addTargetFlags(cmd, f)
	addServeFlags(cmd, sf)
	addConfirmEachFlag(cmd, f)
	addListenFlags(cmd, f)
	return cmd
}

// serveFile prepares the runbook at path and serves its game day.
func serveFile(cmd *cobra.Command, path string, f *runFlags, sf *serveFlags) error {
	return withSession(cmd, path, f, func(s *session) error {
		if sf.Drill && !s.rb.Drill.Allowed {
			return invalid(fmt.Errorf("%s: this runbook is not a drill; set drill: {allowed: true} to run it as one", path))
		}
		if err := needTerminal(s); err != nil {
			return err
		}
		return serveSession(cmd, s, sf, nil, nil)
	})
}

// serveSession runs the prepared game day in the facilitator's console on
// in/out (nil: this terminal) while serving it to participants.
func serveSession(cmd *cobra.Command, s *session, sf *serveFlags, in io.Reader, out io.Writer) error {
	ctx := cmdContext(cmd)
	hostKey := sf.HostKey
	if hostKey == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return invalid(fmt.Errorf("--host-key: no home directory to keep the host key in: %w", err))
		}
		hostKey = filepath.Join(home, ".config", "gameday", "serve_host_key")
	}
	// The server starts first: a runbook nobody can join is refused before
	// a run directory is made. Sessions wait for the console.
	var c *ui.Console
	var eng *gamedays.Engine
	ready := make(chan struct{})
	role := runbook.RoleObserver
	if sf.Drill {
		role = runbook.RoleResponder
	}
	srv, err := serve.Start(serve.Options{Addr: sf.Listen, HostKey: hostKey, Roles: s.rb.Roles,
		AuthorizedKeys: sf.AuthorizedKeys, AuthorizedRole: role,
		Console: func(sess *serve.Session) (*tea.Program, func(), error) {
			select {
			case <-ready:
			case <-sess.Ctx.Done():
				return nil, nil, sess.Ctx.Err()
			}
			return c.Sessions(eng)(sess)
		}})
	if err != nil {
		return invalid(err)
	}
	defer srv.Close()
	dir, journal, opts, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer journal.Close()
	author := "" // the console names the local user
	if s.rb.Roles.Facilitator != nil {
		author = s.rb.Roles.Facilitator.Name
	}
	c = ui.New(ui.Config{Runbook: s.rb, File: s.rb.File, RunDir: dir, Metrics: s.observer, Version: opts.Version,
		Input: in, Output: out, Author: author, Shared: true, Drill: sf.Drill, Remaining: remainingFor(s),
		Join: joinCommand(srv), HostKey: srv.HostKeyFingerprint()})
	opts.Drill = sf.Drill
	opts.OnEvent = s.tee(c.OnEvent)
	eng = gamedays.New(s.rb, opts)
	s.eng.Store(eng)
	defer eng.Flush()
	close(ready)
	printServing(cmd.ErrOrStderr(), srv, s.rb.Roles)
	if sf.Ready != nil {
		sf.Ready(srv.Addr(), srv.HostKeyFingerprint())
	}
	outcome, runErr := c.Run(ctx, eng)
	// Participants' consoles close with the server; their leaving is
	// journalled before the journal closes.
	srv.Close()
	return outcomeError(cmd.ErrOrStderr(), dir, outcome, runErr, "")
}

// joinCommand is what a participant types to join.
func joinCommand(srv *serve.Server) string {
	host, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		host, port = srv.Addr(), "22"
	}
	return "ssh -p " + port + " " + host
}

// printServing says how to join, before the console takes the screen; the
// console shows it too.
func printServing(w io.Writer, srv *serve.Server, roles runbook.Roles) {
	fmt.Fprintf(w, "gameday serve: participants join with  %s\n", joinCommand(srv))
	fmt.Fprintf(w, "host key %s (participants should see this on first connect)\n", srv.HostKeyFingerprint())
	for _, m := range roles.Members() {
		if m.Key != "" {
			fmt.Fprintf(w, "  %-12s %s\n", m.Role, m.Name)
		}
	}
}

// remainingFor evaluates the SLO's remaining_query, for the blast-radius
// screen; nil when there is none, so the whole budget is assumed left.
func remainingFor(s *session) func(context.Context) (float64, error) {
	if s.rb.SLO == nil || s.rb.SLO.RemainingQuery == "" || s.query == nil {
		return nil
	}
	q, api := s.rb.SLO.RemainingQuery, s.query
	return func(ctx context.Context) (float64, error) {
		v, _, _, err := api.Query(ctx, q, time.Now())
		if err != nil {
			return 1, fmt.Errorf("slo.remaining_query: %w", err)
		}
		switch v := v.(type) {
		case *model.Scalar:
			return float64(v.Value), nil
		case model.Vector:
			if len(v) == 1 {
				return float64(v[0].Value), nil
			}
			return 1, fmt.Errorf("slo.remaining_query: expected one series, got %d", len(v))
		}
		return 1, fmt.Errorf("slo.remaining_query: expected a number, got a %s", v.Type())
	}
}

package serve

import (
	"context"
	"io"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
)

// Session is one participant's terminal, as Options.Console gets it.
type Session struct {
	Who    Who
	Term   string // TERM from the pty request; "" without a pty
	Width  int
	Height int
	// In is what the participant types; Out is their screen. Out never
	// blocks the writer: see FrameWriter.
	In  io.Reader
	Out *FrameWriter
	// Ctx ends when the participant disconnects, their terminal stops
	// taking output, or the server closes.
	Ctx context.Context
}

// session is an ssh.Session as the Bubble Tea middleware sees it: its
// context ends with the session, and its window changes come through a
// channel that is never closed (the middleware would spin on a closed one).
type session struct {
	ssh.Session
	ctx   sessionContext
	winch chan ssh.Window
	part  *Session
	done  func()
}

func (s *session) Context() ssh.Context { return s.ctx }

func (s *session) Pty() (ssh.Pty, <-chan ssh.Window, bool) {
	p, _, ok := s.Session.Pty()
	return p, s.winch, ok
}

// participant is the outer middleware: it names the participant, gives the
// session its frame writer and context, and after the console has ended
// (the inner middleware runs it) calls its done and flushes the screen.
func (s *Server) participant(next ssh.Handler) ssh.Handler {
	return func(ss ssh.Session) {
		who, ok := s.who(ss.PublicKey())
		if !ok || !s.enter() {
			return
		}
		defer s.wg.Done()
		start := time.Now()
		s.logf("%s (%s) joined from %s", who.Name, who.Role, ss.RemoteAddr())
		defer func() { s.logf("%s (%s) left after %s", who.Name, who.Role, time.Since(start).Round(time.Second)) }()
		ctx, cancel := context.WithCancel(ss.Context())
		defer cancel()
		pty, winch, hasPty := ss.Pty()
		out := NewFrameWriter(&endOnError{w: ss, end: cancel}, s.opts.OutputLimit)
		sess := &session{Session: ss, ctx: sessionContext{ss.Context(), ctx}, winch: make(chan ssh.Window, 1),
			part: &Session{Who: who, Term: pty.Term, Width: pty.Window.Width, Height: pty.Window.Height, In: ss, Out: out, Ctx: ctx}}
		closing := s.hold(sess, cancel)
		if closing == nil {
			// The server closed while this session opened.
			_, _ = io.WriteString(out, gameDayEnded)
			out.Close()
			return
		}
		defer s.release(sess)
		if hasPty {
			go latest(winch, sess.winch, cancel)
		}
		next(sess)
		if sess.done != nil {
			sess.done()
		}
		// Whatever ended the console, the terminal is handed back as it
		// was found: a console that was cut short leaves the alternate
		// screen on and the cursor hidden.
		_, _ = io.WriteString(out, restoreTerminal)
		if closing() {
			_, _ = io.WriteString(out, gameDayEnded)
		}
		out.Close()
	}
}

// gameDayEnded is the last line a participant reads when the server
// closes with the game day.
const gameDayEnded = "game day ended: the facilitator's console has closed.\r\n"

// restoreTerminal leaves the alternate screen and shows the cursor, on a
// line of its own.
const restoreTerminal = "\x1b[?1049l\x1b[?25h\x1b[0m\r\n"

// hold registers a live session so that Close can end its console; the
// returned func says whether the server is closing. Nil: it has closed.
func (s *Server) hold(sess *session, end context.CancelFunc) (closing func() bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.ending[sess] = end
	s.live.Add(1)
	return func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.closed
	}
}

func (s *Server) release(sess *session) {
	s.mu.Lock()
	delete(s.ending, sess)
	s.mu.Unlock()
	s.live.Done()
}

// program is the Bubble Tea middleware's program handler.
func (s *Server) program(ss ssh.Session) *tea.Program {
	sess := ss.(*session)
	p, done, err := s.opts.Console(sess.part)
	if err != nil || p == nil {
		if err != nil && sess.part.Ctx.Err() == nil {
			s.logf("%s: no console: %v", sess.part.Who.Name, err)
		}
		return nil
	}
	sess.done = done
	return p
}

// latest forwards window changes until the session's requests end, keeping
// only the newest size when the console is behind or gone, so the ssh
// server's request loop never waits on it. The requests end when the
// channel closes: a client that closes its session but keeps the
// connection ends the console too.
func latest(from <-chan ssh.Window, to chan ssh.Window, end func()) {
	defer end()
	for w := range from {
		select {
		case <-to:
		default:
		}
		to <- w
	}
}

// endOnError ends the session when its terminal stops taking output: the
// client closed its session but not the connection, and had no pty whose
// requests would have said so.
type endOnError struct {
	w   io.Writer
	end func()
}

func (e *endOnError) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		e.end()
	}
	return n, err
}

// Package keys is the console's keymap and the pure mapping from a key press
// to what the console should do. Nothing here touches the screen or the
// engine, so every key in every situation is table-tested, and the key
// reference in docs/console.md is generated from the same bindings.
package keys

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/gameday/gameday/gamedays"
)

// KeyMap holds every binding the console knows.
type KeyMap struct {
	Abort      key.Binding
	AbortQuit  key.Binding
	Next       key.Binding
	Confirm    key.Binding
	Note       key.Binding
	Predict    key.Binding
	Finding    key.Binding
	ActionItem key.Binding
	Submit     key.Binding
	Cancel     key.Binding
	Timeline   key.Binding
	Up         key.Binding
	Down       key.Binding
	PageUp     key.Binding
	PageDown   key.Binding
	Filter     key.Binding
	Series     key.Binding
	Help       key.Binding
	Leave      key.Binding
	Export     key.Binding
	// Drill keys: responders mark detected and mitigated, the facilitator
	// releases the next hint.
	Detected  key.Binding
	Mitigated key.Binding
	Hint      key.Binding

	// ConfirmEach switches asking before each escalation of a staged run.
	ConfirmEach key.Binding
}

// Default returns the standard keymap. Abort is ctrl+x rather than a letter
// so that no note being typed can ever swallow it, and rather than esc,
// which people press to close things.
func Default() KeyMap {
	return KeyMap{
		Abort:      press("ctrl+x", "ABORT"),
		AbortQuit:  press("ctrl+c", "abort, roll back, quit"),
		Next:       press("enter", "continue"),
		Confirm:    press("Y", "confirm blast radius"),
		Note:       press("n", "note"),
		Predict:    press("p", "prediction"),
		Finding:    press("f", "finding"),
		ActionItem: press("a", "action item"),
		Submit:     press("enter", "save"),
		Cancel:     press("esc", "close"),
		Timeline:   press("t", "timeline"),
		Up:         key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
		Down:       key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
		PageUp:     key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup", "page up")),
		PageDown:   key.NewBinding(key.WithKeys("pgdown", " "), key.WithHelp("pgdn", "page down")),
		Filter:     press("/", "members with a problem only"),
		Series:     key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("1-9", "show/hide series")),
		Help:       press("?", "all keys"),
		Leave:      press("q", "finish and leave"),
		Export:     press("e", "write the report"),
		Detected:   press("d", "detected"),
		Mitigated:  press("m", "mitigated"),
		Hint:       press("h", "release a hint"),

		ConfirmEach: press("s", "ask before each stage"),
	}
}

// press is a binding of one key, shown in the help as itself.
func press(k, help string) key.Binding {
	return key.NewBinding(key.WithKeys(k), key.WithHelp(k, help))
}

// Modal is what has the keyboard besides the phase screen.
type Modal int

// Modals. Abort works in all of them.
const (
	ModalNone Modal = iota
	ModalNote
	ModalTimeline
	ModalHelp
)

var modalNames = [...]string{"none", "note", "timeline", "help"}

func (m Modal) String() string {
	if m < 0 || int(m) >= len(modalNames) {
		return "unknown"
	}
	return modalNames[m]
}

// Context is what the mapping depends on.
type Context struct {
	Phase gamedays.Phase
	Modal Modal
	// Ended: the engine has returned; nothing can be sent to it any more.
	Ended bool
	// CanConfirm: every preflight has passed and confirmation is awaited.
	CanConfirm bool
	// Charts: the screen shows charts whose series can be toggled.
	Charts bool
	// CanExport: the game day is over, its journal complete, and the run
	// directory known, so the report can be written.
	CanExport bool
	// Drill: the game day is a drill, so the drill keys apply.
	Drill bool
	// Staged: the run escalates in stages; ConfirmEach: the engine asks
	// before each escalation; StageAsk: a stage waits to be confirmed.
	Staged, ConfirmEach, StageAsk bool
	// Members: the screen shows a member table (blast radius, attacks)
	// that scrolls and filters.
	Members bool
}

// Action is what a key press asks the console to do.
type Action int

// Actions.
const (
	None Action = iota
	Abort
	AbortQuit
	Next
	Confirm
	OpenNote
	Submit
	Cancel
	Input // the key belongs to the text being typed
	ToggleTimeline
	ScrollUp
	ScrollDown
	PageUp
	PageDown
	ToggleSeries
	ToggleHelp
	Leave
	Export
	ReleaseHint
	ConfirmEach // Kind is "on" or "off": what the switch is turned to
	FilterMembers
)

var actionNames = [...]string{"none", "abort", "abort and quit", "next", "confirm", "open note", "submit", "cancel",
	"input", "toggle timeline", "scroll up", "scroll down", "page up", "page down", "toggle series", "toggle help", "leave", "export", "release hint", "confirm each stage", "filter members"}

func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return "unknown"
	}
	return actionNames[a]
}

// Result is an action with its argument: the note kind for OpenNote, the
// series number (0-based) for ToggleSeries.
type Result struct {
	Action Action
	Kind   string
	Series int
}

// Resolve maps a key press to an action. Abort is checked first, before any
// modal or phase, so it can never be shadowed; then the open modal has the
// keyboard; then the keys of every screen, those of a game day that has
// ended, the drill's, and last the phase's own.
func Resolve(km KeyMap, c Context, k tea.KeyMsg) Result {
	switch {
	case key.Matches(k, km.Abort):
		return Result{Action: Abort}
	case key.Matches(k, km.AbortQuit):
		return Result{Action: AbortQuit}
	}
	switch c.Modal {
	case ModalNote:
		return resolveNote(km, k)
	case ModalTimeline:
		return resolveTimeline(km, k)
	case ModalHelp:
		if key.Matches(k, km.Help) || key.Matches(k, km.Cancel) {
			return Result{Action: ToggleHelp}
		}
		return Result{}
	}
	switch {
	case key.Matches(k, km.Help):
		return Result{Action: ToggleHelp}
	case key.Matches(k, km.Timeline):
		return Result{Action: ToggleTimeline}
	case key.Matches(k, km.Series) && c.Charts:
		return Result{Action: ToggleSeries, Series: int(k.String()[0] - '1')}
	}
	if r := resolveMembers(km, c, k); r.Action != None {
		return r
	}
	if c.Ended {
		return resolveEnded(km, c, k)
	}
	if r := resolveDrill(km, c, k); r.Action != None {
		return r
	}
	return resolvePhase(km, c, k)
}

// resolveNote: while a note is typed, every key but enter and esc is text.
func resolveNote(km KeyMap, k tea.KeyMsg) Result {
	// Letters typed fast arrive as one key named by them all: "enter"
	// or "esc" written in a note is text, not a key.
	if k.Type == tea.KeyRunes {
		return Result{Action: Input}
	}
	switch {
	case key.Matches(k, km.Submit):
		return Result{Action: Submit}
	case key.Matches(k, km.Cancel):
		return Result{Action: Cancel}
	}
	return Result{Action: Input}
}

func resolveTimeline(km KeyMap, k tea.KeyMsg) Result {
	switch {
	case key.Matches(k, km.Timeline), key.Matches(k, km.Cancel):
		return Result{Action: ToggleTimeline}
	case key.Matches(k, km.Up):
		return Result{Action: ScrollUp}
	case key.Matches(k, km.Down):
		return Result{Action: ScrollDown}
	case key.Matches(k, km.PageUp):
		return Result{Action: PageUp}
	case key.Matches(k, km.PageDown):
		return Result{Action: PageDown}
	}
	return Result{}
}

// resolveEnded: findings and action items are written up after the end,
// above all after an abort; the journal stays open until the console
// closes.
func resolveEnded(km KeyMap, c Context, k tea.KeyMsg) Result {
	switch {
	case key.Matches(k, km.Leave):
		return Result{Action: Leave}
	case key.Matches(k, km.Export) && c.CanExport:
		return Result{Action: Export}
	case key.Matches(k, km.Note):
		return Result{Action: OpenNote, Kind: "note"}
	case key.Matches(k, km.Finding):
		return Result{Action: OpenNote, Kind: "finding"}
	case key.Matches(k, km.ActionItem):
		return Result{Action: OpenNote, Kind: "action"}
	}
	return Result{}
}

func resolveDrill(km KeyMap, c Context, k tea.KeyMsg) Result {
	if !c.Drill {
		return Result{}
	}
	switch {
	case key.Matches(k, km.Detected):
		return Result{Action: OpenNote, Kind: gamedays.NoteDetected}
	case key.Matches(k, km.Mitigated):
		return Result{Action: OpenNote, Kind: gamedays.NoteMitigated}
	case key.Matches(k, km.Hint):
		return Result{Action: ReleaseHint}
	}
	return Result{}
}

// resolveMembers: a member table scrolls with the timeline's keys, and /
// shows only the members with a problem; after the end too, when the
// failed rollbacks are what the room reads.
func resolveMembers(km KeyMap, c Context, k tea.KeyMsg) Result {
	if !c.Members {
		return Result{}
	}
	if r := resolveTimeline(km, k); r.Action != None && r.Action != ToggleTimeline {
		return r
	}
	if key.Matches(k, km.Filter) {
		return Result{Action: FilterMembers}
	}
	return Result{}
}

func resolvePhase(km KeyMap, c Context, k tea.KeyMsg) Result {
	switch {
	case key.Matches(k, km.Note):
		return Result{Action: OpenNote, Kind: "note"}
	case key.Matches(k, km.Predict) && c.Phase == gamedays.PhaseHypothesis:
		return Result{Action: OpenNote, Kind: "prediction"}
	case key.Matches(k, km.Finding) && findings(c.Phase):
		return Result{Action: OpenNote, Kind: "finding"}
	case key.Matches(k, km.ActionItem) && findings(c.Phase):
		return Result{Action: OpenNote, Kind: "action"}
	case key.Matches(k, km.Next) && (c.Phase == gamedays.PhaseHypothesis || c.Phase == gamedays.PhaseConclude):
		return Result{Action: Next}
	case key.Matches(k, km.Confirm) && c.Phase == gamedays.PhaseBlastRadius && c.CanConfirm:
		return Result{Action: Confirm}
	case key.Matches(k, km.Confirm) && c.Phase == gamedays.PhaseRun && c.StageAsk:
		return Result{Action: Confirm}
	case key.Matches(k, km.ConfirmEach) && c.Staged && (c.Phase == gamedays.PhaseBlastRadius || c.Phase == gamedays.PhaseRun):
		to := "on"
		if c.ConfirmEach {
			to = "off"
		}
		return Result{Action: ConfirmEach, Kind: to}
	case key.Matches(k, km.Leave) && c.Phase == gamedays.PhaseConclude:
		return Result{Action: Leave}
	}
	return Result{}
}

func findings(p gamedays.Phase) bool {
	return p == gamedays.PhaseObserve || p == gamedays.PhaseConclude || p == gamedays.PhaseAborted
}

// Intent is the engine intent an action sends, if any. Notes carry the
// text typed and the kind chosen when the note was opened.
func Intent(r Result, text, author string) (gamedays.Intent, bool) {
	switch r.Action {
	case Abort:
		return gamedays.Intent{Type: gamedays.IntentAbort, Source: "key", Author: author}, true
	case AbortQuit:
		return gamedays.Intent{Type: gamedays.IntentAbort, Source: "ctrl+c", Author: author}, true
	case Next, Leave:
		return gamedays.Intent{Type: gamedays.IntentNext, Source: "key", Author: author}, true
	case Confirm:
		return gamedays.Intent{Type: gamedays.IntentConfirm, Source: "key", Author: author}, true
	case ConfirmEach:
		return gamedays.Intent{Type: gamedays.IntentConfirmEach, Text: r.Kind, Source: "key", Author: author}, true
	case Submit:
		text = strings.TrimSpace(text)
		if text == "" {
			return gamedays.Intent{}, false
		}
		kind := r.Kind
		if kind == "" {
			kind = "note"
		}
		return gamedays.Intent{Type: gamedays.IntentNote, Text: text, Kind: kind, Author: author, Source: "key"}, true
	}
	return gamedays.Intent{}, false
}

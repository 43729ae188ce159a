package keys

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
)

// Markdown is the key reference, generated from the keymap so that the
// documentation cannot drift from the keys.
func Markdown(km KeyMap) string {
	return table([]row{
		{km.Abort, "Abort: stop injecting and roll back everything, newest first, in parallel per host", "everywhere, including while typing a note; always shown in the footer"},
		{km.AbortQuit, "Abort, wait for the rollback to finish, then quit; pressing it again does not skip the rollback", "everywhere"},
		{km.Next, "Continue to the blast radius; on the conclude screen, finish the game day", "hypothesis, conclude"},
		{km.Confirm, "Confirm the blast radius exactly as shown; nothing is injected before this. In a staged run that asks before each stage, confirm the next stage", "blast radius, once every preflight has passed; run, while a stage waits to be confirmed"},
		{km.ConfirmEach, "Ask (or stop asking) before each escalation of a staged run; it can be turned on until the plan is confirmed, and off at any time", "blast radius, run (staged runs)"},
		{km.Note, "Add a note to the journal", "every phase, and after the end until the console closes"},
		{km.Predict, "Add a prediction", "hypothesis"},
		{km.Finding, "Add a finding", "observe, conclude, aborted, and after the end"},
		{km.ActionItem, "Add an action item", "observe, conclude, aborted, and after the end"},
		{km.Submit, "Save the note being typed", "note input"},
		{km.Cancel, "Close the note input, the timeline or the key help", "note input, timeline, help"},
		{km.Timeline, "Show or hide the timeline of every event and note", "everywhere"},
		{km.Up, "Scroll the timeline", "timeline"},
		{km.Down, "Scroll the timeline", "timeline"},
		{km.PageUp, "Scroll the timeline a page", "timeline"},
		{km.PageDown, "Scroll the timeline a page", "timeline"},
		{km.Series, "Show or hide the n-th series (instance) on every chart", "screens with charts"},
		{km.Help, "Show all keys", "everywhere"},
		{km.Leave, "On the conclude screen: finish, and leave once the game day has ended", "conclude, and after the end"},
		{km.Export, "Write the report (Markdown, HTML, JSON, action items, and PDF when Chromium is installed) into the run directory", "after the end"},
	})
}

// DrillMarkdown is the reference of the keys a drill adds, for
// docs/facilitation.md.
func DrillMarkdown(km KeyMap) string {
	return table([]row{
		{km.Detected, "Mark the problem detected, with what you saw; the first mark after the inject is the time to detect", "a drill, until it ends (responders, facilitator)"},
		{km.Mitigated, "Mark it mitigated, with what you did; the first mark is the time to mitigate", "a drill, until it ends (responders, facilitator)"},
		{km.Hint, "Release the next hint to responders", "a drill, until it ends (facilitator)"},
	})
}

type row struct {
	b     key.Binding
	what  string
	where string
}

func table(rows []row) string {
	var b strings.Builder
	b.WriteString("| key | what it does | where |\n|---|---|---|\n")
	for _, r := range rows {
		ks := make([]string, len(r.b.Keys()))
		for i, k := range r.b.Keys() {
			if k == " " {
				k = "space"
			}
			ks[i] = "`" + k + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", strings.Join(ks, ", "), r.what, r.where)
	}
	return b.String()
}

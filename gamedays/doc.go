// Package gamedays runs a game day and keeps its record: the phase engine,
// abort and rollback, the crash-proof journal, recovery after a kill, and the
// report built from the journal alone. It knows nothing of the console: it
// publishes events and takes intents, so the console, the autopilot and tests
// drive it alike.
package gamedays

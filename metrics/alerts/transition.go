package alerts

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// States an alert goes through, in order.
const (
	Pending  = "pending"  // the rule's condition holds; its for: has not passed
	Firing   = "firing"   // Prometheus fires it
	Received = "received" // Alertmanager lists it
	Notified = "notified" // a notification reached gameday's webhook
	Resolved = "resolved" // no longer firing
)

// Transition is one alert reaching one state, at the time its source says.
type Transition struct {
	Labels map[string]string // the alert's labels, alertname included
	State  string
	At     time.Time
}

// Name is the alert's name.
func (t Transition) Name() string { return t.Labels["alertname"] }

// Key identifies an alert instance across sources: its sorted labels.
func Key(labels map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if k == "alertstate" || k == "__name__" {
			continue
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(labels[k])
		b.WriteByte(',')
	}
	return b.String()
}

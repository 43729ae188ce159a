// Package alerts watches what the team's monitoring says during a game day:
// Prometheus's alerting rules and the ALERTS series (through client_golang's
// v1 API), Alertmanager's v2 API, and a webhook receiver Alertmanager pages.
// It reports each alert's transitions (pending, firing, notified, resolved)
// with the time the source itself gives, so a game day can judge whether an
// expected alert fired in time and whether a forbidden one fired at all.
package alerts

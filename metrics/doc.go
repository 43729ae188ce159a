// Package metrics is the game day's view of the truth: it talks to a
// Prometheus-compatible server (Prometheus, Thanos, Mimir, VictoriaMetrics,
// Amazon Managed Prometheus), polls each panel's query incrementally into
// bounded per-series rings, summarises windows into statistics, and turns
// runbook checks into verdicts with evidence: steady state and expectations
// held or broken, guardrails fired after their `for` window, and
// metrics-blind when the console can no longer see.
//
// Missing data is never zero here. A step the server did not return is a gap;
// a NaN the server did return (0/0 with no traffic) is kept as NaN; both are
// excluded from statistics and counted, so a verdict can say it had no data
// rather than pretend the system was healthy.
package metrics

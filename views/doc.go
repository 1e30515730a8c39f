// Package views renders what a person or a program sees of diffuser's
// work: plans as text (Terraform's + ~ - with counts) and as versioned
// JSON, live progress (one line per host on a terminal, timestamped lines
// or JSON lines elsewhere), apply summaries and the timeline page, the
// table of past runs, a past run and a saved plan.
//
// views imports engine and state for the values it renders; it never
// imports workspace or cmd, and it decides nothing: cmd hands it what to
// draw and where.
package views

// Package views renders what a person or a program sees of diffuser's
// work: plans as text (Terraform's + ~ - with counts) and as versioned
// JSON, live progress (one line per host on a terminal, timestamped lines
// or JSON lines elsewhere), apply summaries and the timeline page, the
// table of past runs, a past run and a saved plan.
//
// The plan JSON (PlanJSON, ChangeJSON) carries format_version
// (PlanFormatVersion): the minor number grows when fields are added, the
// major when a field changes meaning or goes away. 1.1 added "remembered":
// what the plan took from the inputs the workspace's last apply ran with
// (workspace, variables by name with their JSON values, and provider and
// site when those came from memory); it is absent when nothing did. 1.2
// added "moves" (step instances that moved blocks rename in state, from
// and to) and summary.move (both absent when nothing moves),
// "restart" ("restart" or "reload": a service step restarting
// because a step in its restart_on or reload_on changes) and
// "gathers_facts" (a launch that only records the host's facts). 1.3 added
// "replace_note" (on a launch replacing a recorded machine: its group's
// replace_note, what happens to the data). 1.4 added "moved_by" on moves:
// the moved blocks behind a move (block: FILE:LINE, and history_of and
// source for a module's history). 1.5 added "left_out" (the changes a
// plan with -target leaves out) and "likely_renames" (module calls that
// look renamed, from and to); both absent when none. 1.6: a step instance
// may be "replace"d (its mount moves, or its kind changes from one that
// undoes itself; or, when its step has a destroy command, a file's path
// or a service's unit changes), with "before" when its kind stays. 1.7
// added "handed_to" on the destroy of a step instance whose file, mount
// target or service another instance of the recipe has now (not undone).
//
// views imports engine and state for the values it renders; it never
// imports workspace or cmd, and it decides nothing: cmd hands it what to
// draw and where.
package views

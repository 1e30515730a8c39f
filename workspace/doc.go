// Package workspace is the application: it opens a workspace (data-dir
// layout, site file, provider), remembers the inputs it was applied with
// (remember.go: variables, provider, site; sensitive values only as
// digests) and uses them when a later command does not give them, makes
// and checks saved plans, applies the crash-safety rules (state exists
// before the first launch), records every apply and destroy as a run
// (record, step logs, timeline; the last N kept) and finds past runs and
// their logs, owns the connection policy (one pooled SSH connection per
// host, host keys pinned in state), edits state by hand (state rm, state
// mv, forget-hostkey), imports what exists without diffuser (hosts through
// cloud.Importer, step instances through their kind's check), wires
// simulated runs and runs comparisons (compare.go: each recipe deployed in
// its own workspace, timed to a verified mount, measured through probe,
// destroyed; the report kept in package compare's shape). Every command that writes state takes the workspace
// lock, waiting up to Env.LockTimeout.
//
// A command's meaning lives here, so it can be tested without a CLI: cmd
// parses flags into Inputs and requests and renders what comes back
// through the views package.
//
// workspace imports engine, lang, state, steps, cloud, remote, recipes,
// probe (compare's measurements) and compare (its report).
// It never prints to a terminal (only cmd and views do) and never imports
// cmd or views.
package workspace

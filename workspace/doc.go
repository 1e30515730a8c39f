// Package workspace is the application: it opens a workspace (data-dir
// layout, site file, provider), makes and checks saved plans, applies the
// crash-safety rules (state exists before the first launch), records every
// apply and destroy as a run (record, step logs, timeline; the last N
// kept) and finds past runs and their logs, owns the
// connection policy (one pooled SSH connection per host, host keys pinned
// in state) and wires simulated runs.
//
// A command's meaning lives here, so it can be tested without a CLI: cmd
// parses flags into Inputs and requests and renders what comes back
// through the views package.
//
// workspace imports engine, lang, state, steps, cloud, remote and recipes.
// It never prints to a terminal (only cmd and views do) and never imports
// cmd or views.
package workspace

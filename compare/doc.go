// Package compare is `diffuser compare`: it deploys several filesystem
// recipes one after the other on the same shape of hosts (each in its own
// workspace, compare-LABEL), times each from nothing to a verified mount,
// runs the same measurements on each (probe.Bench's sequential write and
// read, probe.SmallFiles' create, stat and delete), destroys each, and
// keeps the results in a Report: compare.json in the report directory,
// rewritten after every recipe, so a failure of one filesystem or of the
// whole run loses nothing measured, and a re-run with the same parameters
// skips what is already measured.
//
// compare sits beside workspace, the application layer: it drives
// workspace.Env (plan, apply, destroy) and probe, and never prints; cmd
// passes it flags and renders the report through views. It must not
// import cmd or views.
package compare

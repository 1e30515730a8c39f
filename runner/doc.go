// Package runner is the one contract for running commands on a host: a
// Runner runs a shell command and reports its exit status and output
// (Result), and uploads files. remote's SSH client satisfies it, the step
// kinds (steps, steps/distribute) and the engine drive it, and the
// simulator (cloud/sim) and the test fakes (steps/steptest) implement it.
//
// runner is a leaf: it must not import any other diffuser package, so that
// remote, steps and cloud can all depend on it without depending on each
// other.
package runner

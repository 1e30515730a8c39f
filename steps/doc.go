// Package steps holds one file per step kind. A kind reads facts from the
// host through a runner.Runner, emits only the commands still needed and
// says when there is nothing to do. It takes cty values and must not import
// engine or lang.
//
// Each kind declares its arguments once, in a Schema (schema.go): types,
// defaults, the rule each value follows and the rules between arguments.
// Its hcldec spec is derived from it, the engine checks every known value
// with Schema.Validate at validate, plan and apply, and the kind's own
// Check and Apply start with the same call.
//
// steps also owns what every kind shares: the Kind interface and its
// optional abilities (Destroyer, HostLocker, GroupKind), the Registry type,
// Clock, and the exported helpers kinds in other packages use (argument
// readers such as OptString, Spec helpers, Probe/MustRun, ExitError,
// ShellQuote). Kinds big enough for their own package live below it
// (steps/distribute) and import steps, so steps never imports them: the
// registry of every built-in kind is assembled in steps/builtin.
package steps

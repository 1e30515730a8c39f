// Package lang loads recipes and site files written in HCL, checks them and
// evaluates their expressions with go-cty. It keeps hcl.Expression and
// hcl.Body values in the parsed structures so that the engine can evaluate
// them again as values become known during apply.
//
// lang never imports steps, engine or cloud: the engine hands it each step
// kind's hcldec.Spec (Kinds). Every problem is an hcl.Diagnostic with a
// Subject range, so cmd can print it with the offending source underlined.
// Besides errors, analysis warns of a value a user sets, a capture or a
// host fact pasted into a command unquoted (shellflow.go, shellsafe.go).
package lang

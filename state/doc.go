// Package state owns the workspace state file: what was applied, per host
// and per step instance, its schema, the exclusive lock and atomic writes.
// It is a leaf: it imports nothing else from diffuser.
package state

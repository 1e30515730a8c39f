// Package engine turns a loaded recipe into a plan and applies it: it
// builds the step graph (github.com/dominikbraun/graph, for cycles and DOT)
// and the instance graph (compact arrays, Kahn's algorithm), diffs desired
// step instances against state, walks ready vertices concurrently and
// records every finished vertex.
//
// Edge direction, everywhere in this package: an edge goes from a
// prerequisite to the vertex that waits for it (A → B means B runs after A).
//
// engine imports lang, steps, state and cloud; it never prints (only cmd
// does) and never imports cmd.
package engine

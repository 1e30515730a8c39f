// Package builtin assembles the registry of every built-in step kind: the
// kinds of package steps and distribute (steps/distribute), which steps
// cannot list itself since distribute imports steps. It is what engine's
// callers (cmd, the simulator's callers, tests) hand to engine.Load.
//
// builtin imports steps and its kind packages only; it must not import
// engine, lang or cmd, and holds no kind logic of its own.
package builtin

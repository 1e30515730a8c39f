package views

import "time"

// RecipeJSON is one element of `diffuser recipes list -json`.
type RecipeJSON struct {
	// Kind is "recipe", or "module" for a module of the standard library
	// (named builtin/NAME, used as source = "builtin/NAME") or of a
	// built-in recipe (named RECIPE/modules/NAME, used in that recipe as
	// source = "./modules/NAME").
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Valid       bool   `json:"valid"`
	Error       string `json:"error,omitempty"` // why it does not load (diffuser validate NAME shows where)
}

// LogJSON is one element of `diffuser logs -json`: one host's log of a
// step, as text. The log holds, per command, a line
// "=== <RFC 3339 start> $ <command>" (later lines of the command indented
// four spaces), its output, and a line "=== exit <status> after
// <duration>" (or "=== error: <why> after <duration>").
type LogJSON struct {
	Step     string    `json:"step"`
	Host     string    `json:"host"`
	Path     string    `json:"path"`
	Run      string    `json:"run"`
	Modified time.Time `json:"modified"`
	Log      string    `json:"log"`
}

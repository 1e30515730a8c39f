package views

import (
	"encoding/json"
	"time"
)

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

// VariableJSON is one element of `diffuser recipes vars NAME -json`: a
// variable of a built-in recipe or module.
type VariableJSON struct {
	Name string `json:"name"`
	Type string `json:"type"` // as written in HCL: "number", "list(string)", "any"
	// Default is the default as JSON; absent when the variable is
	// required (Required) or sensitive.
	Default     json.RawMessage  `json:"default,omitempty"`
	Required    bool             `json:"required,omitempty"`
	Sensitive   bool             `json:"sensitive,omitempty"`
	Description string           `json:"description,omitempty"`
	Constraints *ConstraintsJSON `json:"constraints,omitempty"`
	// Allowed says what the constraints accept, as their errors say it
	// ("a whole number, from 1 to 65535").
	Allowed string `json:"allowed,omitempty"`
	// Validations counts the validation blocks: rules in the recipe's own
	// words, which `recipes show` prints.
	Validations int `json:"validations,omitempty"`
}

// ConstraintsJSON are a variable's constraint attributes as written.
type ConstraintsJSON struct {
	Min        json.RawMessage `json:"min,omitempty"`
	Max        json.RawMessage `json:"max,omitempty"`
	Integer    bool            `json:"integer,omitempty"`
	OneOf      json.RawMessage `json:"one_of,omitempty"`
	Format     string          `json:"format,omitempty"`
	Pattern    string          `json:"pattern,omitempty"`
	AllowEmpty bool            `json:"allow_empty,omitempty"`
}

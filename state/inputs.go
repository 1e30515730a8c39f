package state

import (
	"encoding/json"
	"time"
)

// Inputs are what a workspace's last apply ran with, for later commands to
// reuse ("remembered inputs"): the provider, the site file, and every
// variable set on the command line (-var) or in a -var-file, including
// those the apply itself took from the previous Inputs. Values of sensitive
// variables are never kept: a sensitive Var has only a salted digest.
type Inputs struct {
	Provider string `json:"provider,omitempty"`
	// Recipe is the recipe as the apply was given it: a built-in's name,
	// or a path made absolute, so that destroy --expired finds it from
	// any directory.
	Recipe   string         `json:"recipe,omitempty"`
	Site     string         `json:"site,omitempty"`     // the site file's path as given ("" = none)
	SiteAbs  string         `json:"site_abs,omitempty"` // the same, absolute: what later commands open
	Vars     map[string]Var `json:"vars,omitempty"`
	Recorded time.Time      `json:"recorded"` // when the apply that recorded them started
}

// Var is one remembered variable: its value as typed JSON (go-cty's JSON
// encoding of the value under Type, and Type in go-cty's type JSON), so
// that lists, maps and objects come back as they were given. A sensitive
// Var has no Value; Digest is "sha256:" and the hex SHA-256 of Salt's
// bytes followed by the value's JSON, so that a guessable secret cannot be
// looked up in a table of digests.
type Var struct {
	Type      json.RawMessage `json:"type"`
	Value     json.RawMessage `json:"value,omitempty"`
	Sensitive bool            `json:"sensitive,omitempty"`
	Digest    string          `json:"digest,omitempty"`
	Salt      string          `json:"salt,omitempty"` // hex
}

package views

import (
	"encoding/json"
	"io"
	"time"
)

// ExpiredJSON is the line destroy --expired -json prints for a workspace
// before its plan, events and summary (type "expired"), or, once its lock
// is held, in their place when an apply moved or removed the deadline
// since the workspace was listed (type "not_expired"; Expires is the
// deadline now, absent when there is none).
type ExpiredJSON struct {
	Type      string     `json:"type"`
	Workspace string     `json:"workspace"`
	Expires   *time.Time `json:"expires,omitempty"`
}

// WriteExpiredJSON writes one ExpiredJSON line: expired says which type.
func WriteExpiredJSON(w io.Writer, expired bool, workspace string, deadline time.Time) {
	e := ExpiredJSON{Type: "not_expired", Workspace: workspace}
	if expired {
		e.Type = "expired"
	}
	if !deadline.IsZero() {
		d := deadline.UTC()
		e.Expires = &d
	}
	_ = json.NewEncoder(w).Encode(e)
}

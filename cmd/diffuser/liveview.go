package main

import (
	"fmt"
	"io"
	"time"

	"diffuser/engine"
)

// liveView is the terminal view: for now it prints plain lines with the
// done/total count; a per-host live view replaces it in a later change.
type liveView struct {
	w     io.Writer
	start time.Time
}

func newLiveView(w io.Writer) *liveView { return &liveView{w: w, start: time.Now()} }

func (l *liveView) event(e engine.Event) {
	if line := plainLine(e); line != "" {
		fmt.Fprintln(l.w, line)
	}
}

func (l *liveView) close() {}

package engine

import "time"

// EventType says what happened to a vertex.
type EventType string

const (
	EvStart EventType = "start"
	EvDone  EventType = "done"
	EvFail  EventType = "fail"
	EvSkip  EventType = "skip" // a prerequisite failed, or apply was stopped
	EvWarn  EventType = "warn"
)

// Event is one thing a person (or a machine reading -json) may want to see.
// Events are delivered from many goroutines; the receiver serializes.
type Event struct {
	Time     time.Time     `json:"time"`
	Type     EventType     `json:"type"`
	Addr     string        `json:"address"`
	Step     string        `json:"step,omitempty"`
	Host     string        `json:"host,omitempty"`
	Kind     string        `json:"kind,omitempty"`
	Action   string        `json:"action,omitempty"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	Exit     int           `json:"exit_status,omitempty"`
	Message  string        `json:"message,omitempty"`
	Done     int           `json:"done"`
	Total    int           `json:"total"`
}

// Span is one vertex's run on the timeline.
type Span struct {
	Addr   string    `json:"address"`
	Step   string    `json:"step"`
	Host   string    `json:"host"`
	Kind   string    `json:"kind"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Status string    `json:"status"`
	V      int32     `json:"-"`
}

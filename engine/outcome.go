package engine

import (
	"strings"
	"time"
)

// Outcome is what is kept of an apply's Result once it is over: counts,
// failures, times and the summed step time, without the spans (a run's
// timeline page has those). It is what a run record stores and what the
// end-of-apply summary renders, then and later.
type Outcome struct {
	Start    time.Time       `json:"start"`
	End      time.Time       `json:"end"`
	StepTime time.Duration   `json:"step_time_ns"`
	Done     int             `json:"done"`
	Failed   int             `json:"failed"`
	Skipped  int             `json:"skipped"`
	Total    int             `json:"total"`
	Failures []FailureRecord `json:"failures,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
}

// FailureRecord is a Failure as kept: its error as text.
type FailureRecord struct {
	Address string `json:"address"`
	Step    string `json:"step,omitempty"`
	// Declared is where the step is written (Failure.Declared).
	Declared string `json:"declared,omitempty"`
	Host     string `json:"host,omitempty"`
	Exit     int    `json:"exit"` // -1 when the command did not run to an exit status
	Error    string `json:"error"`
	Tail     string `json:"tail,omitempty"`
	Log      string `json:"log,omitempty"`
}

// Message is the failure's error without the output tail that ends it (a
// command's error carries its output, and so does Tail): what a summary
// prints above "last output", so that the output is printed once.
func (f FailureRecord) Message() string { return TrimTail(f.Error, f.Tail) }

// TrimTail returns msg without tail when msg ends with it (after the
// separator runner.ExitError puts before it: a colon and a newline), else
// msg as it is. Run records written before Tail was kept apart end with it.
func TrimTail(msg, tail string) string {
	t := strings.TrimRight(tail, "\n")
	m := strings.TrimRight(msg, "\n")
	if t == "" || !strings.HasSuffix(m, "\n"+t) {
		return msg
	}
	return strings.TrimSuffix(strings.TrimSuffix(m, "\n"+t), ":")
}

// Outcome returns what is kept of r.
func (r *Result) Outcome() Outcome {
	o := Outcome{Start: r.Start, End: r.End, Done: r.Ran, Failed: len(r.Failures), Skipped: r.Skipped, Total: r.Total,
		Warnings: r.Warnings}
	for _, s := range r.Spans {
		o.StepTime += s.End.Sub(s.Start)
	}
	for _, f := range r.Failures {
		msg := ""
		if f.Err != nil {
			msg = f.Err.Error()
		}
		o.Failures = append(o.Failures, FailureRecord{Address: f.Addr, Step: f.Step, Declared: f.Declared, Host: f.Host, Exit: f.Exit,
			Error: msg, Tail: f.Tail, Log: f.Log})
	}
	return o
}

// ActionRecord is one planned action as kept in a run record or read
// from a saved plan: its address, its action (Action.String()) and the
// host group it belongs to ("" when unknown).
type ActionRecord struct {
	Address string `json:"address"`
	Action  string `json:"action"`
	Group   string `json:"group,omitempty"`
}

// ActionRecords lists the plan's actions in plan order: changes in
// topological order, then destroys.
func (p *Plan) ActionRecords() []ActionRecord {
	out := make([]ActionRecord, 0, len(p.Changes)+len(p.Destroys))
	for _, c := range p.Changes {
		out = append(out, ActionRecord{Address: c.Addr, Action: c.Action.String(), Group: c.Group})
	}
	for _, c := range p.Destroys {
		out = append(out, ActionRecord{Address: c.Addr, Action: c.Action.String(), Group: c.Group})
	}
	return out
}

// ParseLaunchAddr splits `launch["HOST"]`.
func ParseLaunchAddr(addr string) (host string, ok bool) {
	q, ok := strings.CutPrefix(addr, "launch[")
	if !ok || !strings.HasSuffix(q, "]") {
		return "", false
	}
	h := strings.TrimSuffix(q, "]")
	if len(h) < 2 || h[0] != '"' || h[len(h)-1] != '"' {
		return "", false
	}
	return h[1 : len(h)-1], true
}

// HostOfAddr is the host a launch or step instance address names, or "".
func HostOfAddr(addr string) string {
	if h, ok := ParseLaunchAddr(addr); ok {
		return h
	}
	if _, h, ok := ParseInstanceAddr(addr); ok {
		return h
	}
	return ""
}

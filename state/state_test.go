package state

import (
	"encoding/json"
	"testing"
)

// TestEverSucceeded covers every record an instance can have, those of
// files written before succeeded_on existed included.
func TestEverSucceeded(t *testing.T) {
	cases := []struct {
		name       string
		in         Instance
		id         string
		yes, known bool
	}{
		{"applied, old file", Instance{Status: StatusApplied}, "docker:a", true, true},
		{"applied, recorded", Instance{Status: StatusApplied, SucceededOn: "docker:a"}, "docker:a", true, true},
		{"failed after a success", Instance{Status: StatusFailed, SucceededOn: "docker:a"}, "docker:a", true, true},
		{"failed, success on a replaced host", Instance{Status: StatusFailed, SucceededOn: "docker:a"}, "docker:b", false, true},
		{"applied on a replaced host", Instance{Status: StatusApplied, SucceededOn: "docker:a"}, "docker:b", false, true},
		{"failed, old file", Instance{Status: StatusFailed}, "docker:a", false, false},
		{"unknown status", Instance{Status: "bogus"}, "docker:a", false, true},
	}
	for _, c := range cases {
		yes, known := c.in.EverSucceeded(c.id)
		if yes != c.yes || known != c.known {
			t.Errorf("%s: EverSucceeded = %v, %v; want %v, %v", c.name, yes, known, c.yes, c.known)
		}
	}
}

// TestSucceededOnRoundTrip: the field survives state.json, and a file
// without it still reads.
func TestSucceededOnRoundTrip(t *testing.T) {
	var in Instance
	if err := json.Unmarshal([]byte(`{"step":"s","host":"h","kind":"run","digest":"d","status":"failed","started":"2026-01-01T00:00:00Z","finished":"2026-01-01T00:00:00Z"}`), &in); err != nil {
		t.Fatal(err)
	}
	if in.SucceededOn != "" {
		t.Fatalf("old record read as succeeded on %q", in.SucceededOn)
	}
	in.SucceededOn = "static:root@10.0.0.1:22"
	b, err := json.Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	var back Instance
	if err := json.Unmarshal(b, &back); err != nil || back.SucceededOn != in.SucceededOn {
		t.Fatalf("round trip: %v, %q", err, back.SucceededOn)
	}
}

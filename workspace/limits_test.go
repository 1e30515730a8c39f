package workspace

import (
	"strings"
	"testing"

	"diffuser/engine"
	"diffuser/lang"
)

// TestApplyLimits: each limit comes from its flag, else the site file,
// else engine's default, on its own; 0 is no limit; negative is refused.
func TestApplyLimits(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		name string
		site *lang.Site
		opt  ApplyOptions
		want engine.Limits
		err  string
	}{
		{"defaults", nil, ApplyOptions{}, engine.DefaultLimits(), ""},
		{"site without limits", &lang.Site{}, ApplyOptions{}, engine.DefaultLimits(), ""},
		{"site", &lang.Site{MaxConnects: n(8), MaxSessionsPerHost: n(4)}, ApplyOptions{},
			engine.Limits{Connects: 8, Uploads: engine.DefaultUploads, SessionsPerHost: 4}, ""},
		{"flag beats site", &lang.Site{MaxConnects: n(8), MaxUploads: n(2)}, ApplyOptions{MaxConnects: n(3), MaxUploads: n(0)},
			engine.Limits{Connects: 3, Uploads: 0, SessionsPerHost: engine.DefaultSessionsPerHost}, ""},
		{"no limits", nil, ApplyOptions{MaxConnects: n(0), MaxUploads: n(0), MaxSessionsPerHost: n(0)}, engine.Limits{}, ""},
		{"negative flag", nil, ApplyOptions{MaxSessionsPerHost: n(-2)}, engine.Limits{}, "sessions per host is -2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := &Workspace{Site: tc.site}
			got, err := ws.limits(tc.opt)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("limits %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

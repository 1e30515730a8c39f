package sim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadProfileHostile: a --sim-profile with a value that cannot
// describe work is refused naming the file and the field (negative and
// overflowing durations, probabilities past 1, unknown fields used to be
// taken, a typo silently meaning "no cost"); a named pipe or a device is
// refused without being read.
func TestLoadProfileHostile(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.json")
	if err := os.WriteFile(ok, []byte(`{"scale": 0.01, "seed": 3, "kinds": {"run": {"mean": "2s", "spread": 0.5, "fail_prob": 0.1, "outlier_prob": 0.05, "outlier_factor": 4}},
		"connect": {"handshake": "0.1s", "cpu": "3ms", "cores": 2, "timeout": "15s", "max_sessions": 10}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadProfile(ok)
	if err != nil || p.Kinds["run"].Mean != Duration(2*time.Second) || p.Kinds["run"].Spread != Duration(500*time.Millisecond) || p.Connect.MaxSessions != 10 {
		t.Fatalf("ok.json: %+v, %v", p, err)
	}
	for src, want := range map[string]string{
		`nope`:                                              "invalid character",
		`{"kinds": {"run": {"mean": "-5s"}}}`:               "kinds.run.mean is -5s: give a duration from 0 to 24h0m0s",
		`{"kinds": {"run": {"mean": 1e300}}}`:               "a duration of 1e+300 seconds: give at most 24h0m0s",
		`{"kinds": {"run": {"mean": "1000h"}}}`:             "kinds.run.mean is 1000h0m0s",
		`{"kinds": {"run": {"fail_prob": 2}}}`:              "kinds.run.fail_prob is 2: give a probability from 0 to 1",
		`{"kinds": {"run": {"outlier_prob": -0.5}}}`:        "kinds.run.outlier_prob is -0.5",
		`{"kinds": {"run": {"outlier_factor": 1e300}}}`:     "kinds.run.outlier_factor is 1e+300: give a factor from 1 to 1000",
		`{"kinds": {"run": {"meen": "1s"}}}`:                `unknown field "meen"`,
		`{"scael": 0.1}`:                                    `unknown field "scael"`,
		`{"scale": -1}`:                                     "scale is -1: give a factor from 0 to 1000",
		`{"scale": 1e308}`:                                  "scale is 1e+308",
		`{"connect": {"cores": -1}}`:                        "connect.cores is -1",
		`{"connect": {"max_sessions": -1}}`:                 "connect.max_sessions is -1",
		`{"connect": {"timeout": "-1s"}}`:                   "connect.timeout is -1s",
		`{"kinds": {"run": {"mean": "soon"}}}`:              `time: invalid duration "soon"`,
		`{"kinds": {"run": {"mean": true}}}`:                `a duration is "30s" or a number of seconds`,
		`{"kinds": {"run": {"mean": "1s"}}} trailing`:       "more after the profile's JSON object",
		`{"scale": 1} {"scale": 2}`:                         "more after the profile's JSON object",
		`{"kinds": {"$(reboot)": {"mean": "1s"}}}`:          "", // a kind nobody has: never drawn
		`{"kinds": {"run": {"spread": "25h"}}}`:             "kinds.run.spread is 25h0m0s",
		`{"kinds": {"run": {"per_line": -1}}}`:              "kinds.run.per_line is -1s",
		`{"kinds": {"launch": {"mean": "1s"}}, "seed": -1}`: "cannot unmarshal number -1",
	} {
		f := filepath.Join(dir, "p.json")
		if err := os.WriteFile(f, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadProfile(f)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", src, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), f+": ")):
			t.Errorf("%s: %v, want %q after the file name", src, err, want)
		}
	}
	for _, f := range []string{os.DevNull, dir} {
		if _, err := LoadProfile(f); err == nil || !strings.Contains(err.Error(), "a profile is a JSON file of at most") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

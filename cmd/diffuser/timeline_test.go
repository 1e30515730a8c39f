package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// timelineProfile makes simulated steps take visible, different times.
const timelineProfile = `{
  "kinds": {
    "launch":  {"mean": "3s", "spread": "1s"},
    "package": {"mean": "4s", "spread": "1s"},
    "file":    {"mean": "1s", "spread": "0.3s"},
    "format":  {"mean": "2s", "spread": "0.5s"},
    "run":     {"mean": "2s", "spread": "0.8s"}
  },
  "scale": 0.05
}`

// applyForTimeline applies testdata/plan/recipe.hcl with 4 workers on
// simulated hosts and returns the path of its timeline page.
func applyForTimeline(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	prof := filepath.Join(dir, "profile.json")
	if err := os.WriteFile(prof, []byte(timelineProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	var out bytes.Buffer
	args := []string{"apply", filepath.Join("testdata", "plan", "recipe.hcl"), "-auto-approve", "--progress", "plain",
		"-var", "workers=4", "--simulate", "--sim-seed", "7", "--sim-profile", prof, "--data-dir", data}
	if code := run(context.Background(), nil, args, strings.NewReader(""), &out, &out); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out.String())
	}
	run := latestRun(t, data, "golden")
	page := filepath.Join(data, "golden", "runs", run.ID, "timeline.html")
	want := "Timeline: " + page
	if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "Run: "+run.ID) {
		t.Fatalf("apply does not print %q and its run id:\n%s", want, out.String())
	}
	return page
}

var timelineHosts = []string{"head[0]", "worker[0]", "worker[1]", "worker[2]", "worker[3]"}

// TestTimelineFile checks the page without a browser: self-contained,
// one row per host, a critical path that ends at the last finish.
func TestTimelineFile(t *testing.T) {
	b, err := os.ReadFile(applyForTimeline(t))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, bad := range []string{"<link", "src=", "@import", "url(", "https://", "http://cdn"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page refers to something outside it (%q)", bad)
		}
	}
	for _, h := range timelineHosts {
		if !strings.Contains(page, `<g class="row`) || !strings.Contains(page, `data-host="`+h+`"`) {
			t.Errorf("no row for %s", h)
		}
	}
	// The last step to finish is announce (after every register); the
	// critical path ends there and starts with a launch.
	crit := regexp.MustCompile(`data-address="([^"]+)" data-critical="true"`).FindAllStringSubmatch(page, -1)
	if len(crit) < 3 {
		t.Fatalf("critical path has %d steps: %v", len(crit), crit)
	}
	var addrs []string
	for _, m := range crit {
		addrs = append(addrs, strings.ReplaceAll(m[1], "&#34;", `"`))
	}
	joined := strings.Join(addrs, " ")
	if !strings.Contains(joined, `step.announce[`) || !strings.Contains(joined, `launch[`) || !strings.Contains(joined, `step.register[`) {
		t.Errorf("critical path %v: want a launch, a register and announce", addrs)
	}
}

// TestTimelineBrowser renders the page in headless Chromium and checks
// the DOM it builds: every host row, the critical path marked, the
// summary filled in. The screenshot is kept when DIFFUSER_TIMELINE_PNG
// names a file, for a person to look at.
func TestTimelineBrowser(t *testing.T) {
	browser := ""
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(b); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no chromium: scripts/setup.sh installs it (unless DIFFUSER_SETUP_BROWSER=0)")
	}
	page := applyForTimeline(t)
	abs, _ := filepath.Abs(page)
	url := "file://" + abs
	profile := t.TempDir()
	chrome := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile, "--no-first-run"}
		cmd := exec.CommandContext(ctx, browser, append(append(base, args...), url)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", browser, args, err, stderr.String())
		}
		return out
	}
	dom := string(chrome("--dump-dom", "--virtual-time-budget=2000"))
	for _, h := range timelineHosts {
		if !strings.Contains(dom, `data-host="`+h+`"`) {
			t.Errorf("the DOM has no row for %s", h)
		}
	}
	if n := strings.Count(dom, `data-critical="true"`); n < 3 {
		t.Errorf("the DOM marks %d critical steps", n)
	}
	if !regexp.MustCompile(`class="bar[^"]*critical`).MatchString(dom) {
		t.Errorf("no bar has the critical class")
	}
	for _, id := range []string{`id="wall"`, `id="parallelism"`, `id="critical-time"`, `id="critical"`} {
		if !strings.Contains(dom, id) {
			t.Errorf("the DOM lacks %s", id)
		}
	}
	shot := os.Getenv("DIFFUSER_TIMELINE_PNG")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "timeline.png")
	}
	shot, _ = filepath.Abs(shot)
	chrome("--screenshot="+shot, "--window-size=1300,700", "--hide-scrollbars")
	st, err := os.Stat(shot)
	if err != nil || st.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v (%d bytes)", shot, err, sizeOf(st))
	}
	t.Logf("screenshot: %s", shot)
}

func sizeOf(fi os.FileInfo) int64 {
	if fi == nil {
		return 0
	}
	return fi.Size()
}

// TestTimelineJSONSummary: a JSON-lines apply names the timeline in its
// summary line.
func TestTimelineJSONSummary(t *testing.T) {
	data := t.TempDir()
	var out bytes.Buffer
	args := []string{"apply", filepath.Join("testdata", "plan", "recipe.hcl"), "-auto-approve", "-json", "--simulate", "--data-dir", data}
	if code := run(context.Background(), nil, args, strings.NewReader(""), &out, &out); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var first, last map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first["type"] != "plan" {
		t.Fatalf("first line is not the plan: %v %s", err, lines[0])
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last["type"] != "summary" {
		t.Fatalf("last line is not the summary: %v %s", err, lines[len(lines)-1])
	}
	run := latestRun(t, data, "golden")
	if last["timeline"] != run.TimelinePath() || last["run"] != run.ID || last["failed"] != 0.0 {
		t.Errorf("summary: %v", last)
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("line %d is not JSON: %s", i+1, l)
		}
	}
}

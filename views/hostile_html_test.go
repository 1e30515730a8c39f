package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"diffuser/compare"
	"diffuser/engine"
)

// hostileHTML is text a host, an error, a path or a variable could hold:
// markup that ends the element it is in, quotes that end an attribute, a
// javascript: URL and a right-to-left override.
const hostileHTML = `</pre></style></script><script>alert(1)</script>"' onmouseover=alert(1) javascript:alert(1) ` + "\u202e" + `reversed`

// TestHTMLHostileText: the compare report and the run timeline make
// neither markup nor reversed text of what hosts, errors, paths and
// variables say: html/template escapes the markup, and control and bidi
// characters are shown as escapes (an RLO reversed the text after it).
func TestHTMLHostileText(t *testing.T) {
	h := hostileHTML
	rep := &compare.Report{Params: compare.Params{Provider: h}, Machine: compare.Machine{Hostname: h, Kernel: h}, Results: []compare.Result{{
		Label: "gl", Source: h, Workspace: "compare-gl", Vars: []string{"v=" + h}, Notes: []string{h}, Status: compare.Failed, DestroyError: h,
		Hosts: map[string]int{h: 1}, Failure: &compare.Failure{Phase: h, Step: h, Host: h, Error: h, Tail: h, Log: h},
		Clients: []compare.Client{{Host: h, FSType: h, Tool: h, Error: h, Note: h, ReadMode: h}},
	}}}
	var cmp bytes.Buffer
	if err := WriteCompareHTML(&cmp, rep); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	res := &engine.Result{Start: t0, End: t0.Add(time.Minute), Spans: []engine.Span{
		{Addr: `step.x["` + h + `"]`, Step: "x", Host: h, Kind: "run", Start: t0, End: t0.Add(30 * time.Second), Status: "done"},
		{Addr: "step.y", Step: "y", Host: "server[0]", Kind: "run", Start: t0.Add(30 * time.Second), End: t0.Add(time.Minute), Status: "failed"},
	}}
	var tl bytes.Buffer
	if err := renderTimeline(&tl, "apply", "t", nil, res, map[string]string{h: h}); err != nil {
		t.Fatal(err)
	}
	for name, page := range map[string]string{"compare": cmp.String(), "timeline": tl.String()} {
		if n := strings.Count(page, "<script"); n != 1 {
			t.Errorf("%s: %d <script elements, want the page's own one", name, n)
		}
		for _, bad := range []string{"<script>alert", "</pre></style>", `" onmouseover`, "' onmouseover", "\u202e"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s page holds %q raw", name, bad)
			}
		}
		if !strings.Contains(page, `\u202ereversed`) {
			t.Errorf("%s page does not show the RLO as an escape", name)
		}
	}
}

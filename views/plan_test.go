package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"diffuser/engine"
	"diffuser/lang"

	"github.com/zclconf/go-cty/cty"
)

func TestLineDiff(t *testing.T) {
	for _, c := range []struct {
		a, b, want string
	}{
		{"a\nb\nc", "a\nx\nc", "  a\n- b\n+ x\n  c\n"},
		{"", "a\nb", "+ a\n+ b\n"},
		{"a\nb", "", "- a\n- b\n"},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10", "1\n2\n3\n4\n5\nfive\n7\n8\n9\n10",
			"  # (2 unchanged lines hidden)\n  3\n  4\n  5\n- 6\n+ five\n  7\n  8\n  9\n  # (1 unchanged line hidden)\n"},
	} {
		var b bytes.Buffer
		writeLineDiff(&b, c.a, c.b, "")
		if b.String() != c.want {
			t.Errorf("diff of %q and %q:\n%s\nwant:\n%s", c.a, c.b, b.String(), c.want)
		}
	}
}

func TestRenderArgsDiffSensitive(t *testing.T) {
	prev := cty.ObjectVal(map[string]cty.Value{"command": cty.StringVal("old secret"), "unless": cty.NullVal(cty.String)})
	cur := cty.ObjectVal(map[string]cty.Value{"command": cty.StringVal("new secret").Mark("sensitive"), "unless": cty.NullVal(cty.String)})
	var b bytes.Buffer
	renderArgsDiff(&b, prev, cur, "    ")
	if got := b.String(); got != "  ~ command = (sensitive)\n" {
		t.Errorf("got %q", got)
	}
	b.Reset()
	renderArgsDiff(&b, prev, cur.Mark("sensitive"), "    ")
	if got := b.String(); got != "    (sensitive arguments)\n" {
		t.Errorf("got %q", got)
	}
}

// A targeted plan warns about what -target leaves out, naming the first
// three, and says the cluster does not match the recipe until an apply
// without -target; a left-out restart or reload is named as one, with
// when it happens; nothing left out, nothing said.
func TestWriteLeftOut(t *testing.T) {
	var b bytes.Buffer
	none := func(string) string { return "" }
	owed := func(string) string { return "targets" }
	writeLeftOut(&b, []string{`step.a["h[0]"]`, `step.b["h[0]"]`, `step.c["h[0]"]`, `step.d["h[0]"]`, `step.e["h[0]"]`}, none, owed)
	want := "\nWarning: -target leaves out 5 changes the recipe also needs: step.a[\"h[0]\"], step.b[\"h[0]\"], step.c[\"h[0]\"] and 2 more.\n" +
		"The cluster matches the recipe only after an apply without -target.\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	restarts := map[string]string{`step.daemon["h[0]"]`: "restart", `step.web["h[0]"]`: "reload"}
	writeLeftOut(&b, []string{`step.daemon["h[0]"]`, `step.web["h[0]"]`, `step.other["h[0]"]`}, func(a string) string { return restarts[a] }, owed)
	want = "\nWarning: -target leaves out 3 changes the recipe also needs: step.daemon[\"h[0]\"] (restart), step.web[\"h[0]\"] (reload), step.other[\"h[0]\"].\n" +
		"The cluster matches the recipe only after an apply without -target.\n" +
		"The restarts left out are recorded as owed when the targets change: the next apply without -target does them (its plan says \"still pending\").\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	// A restart state owes already is said to be owed, not to be recorded
	// when the targets change; one whose cause is left out too is not
	// recorded at all: the general warning covers it.
	b.Reset()
	how := map[string]string{`step.daemon["h[0]"]`: "pending", `step.web["h[0]"]`: ""}
	writeLeftOut(&b, []string{`step.daemon["h[0]"]`, `step.web["h[0]"]`}, func(a string) string { return restarts[a] }, func(a string) string { return how[a] })
	want = "\nWarning: -target leaves out 2 changes the recipe also needs: step.daemon[\"h[0]\"] (restart), step.web[\"h[0]\"] (reload).\n" +
		"The cluster matches the recipe only after an apply without -target.\n" +
		"The restart left out is owed already (state recorded it in an earlier apply): the next apply without -target does it (its plan says \"still pending\").\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	writeLeftOut(&b, nil, none, owed)
	if b.Len() != 0 {
		t.Errorf("nothing left out printed %q", b.String())
	}
}

// A call that looks renamed gets the moved block to write.
func TestWriteRenames(t *testing.T) {
	var b bytes.Buffer
	writeRenames(&b, []engine.Rename{{From: "module.chunk", To: "module.chunkserver"}}, "")
	for _, want := range []string{"module.chunk's steps go and module.chunkserver's come", "  moved {\n    from = module.chunk\n    to   = module.chunkserver\n  }\n",
		"diffuser state mv WORKSPACE module.chunk module.chunkserver"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("lacks %q:\n%s", want, b.String())
		}
	}
	// With the workspace known, the command is ready to paste (quoted
	// where a shell needs it).
	for ws, want := range map[string]string{"moosefs": "diffuser state mv moosefs module.chunk module.chunkserver",
		"lab b": "diffuser state mv 'lab b' module.chunk module.chunkserver"} {
		b.Reset()
		writeRenames(&b, []engine.Rename{{From: "module.chunk", To: "module.chunkserver"}}, ws)
		if !strings.Contains(b.String(), want) {
			t.Errorf("workspace %q: lacks %q:\n%s", ws, want, b.String())
		}
	}
}

// TestPlanJSONLeftOutAndRenames: plan -json carries what the text plan
// warns about: the changes -target leaves out and the calls that look
// renamed; both absent from a plan without them.
func TestPlanJSONLeftOutAndRenames(t *testing.T) {
	p := &engine.Plan{Loaded: &engine.Loaded{Recipe: &lang.Recipe{Name: "t"}},
		LeftOut:  []string{`step.daemon["server[1]"]`},
		Destroys: []*engine.Change{{Addr: `module.chunk.step.pkg["s[0]"]`, Action: engine.Destroy, Kind: "run", Reason: engine.ReasonGone}},
		Changes:  []*engine.Change{{Addr: `module.chunkserver.step.pkg["s[0]"]`, Action: engine.Create, Kind: "run"}}}
	var b bytes.Buffer
	if err := WritePlanJSON(&b, p, Remembered{}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		LeftOut       []string `json:"left_out"`
		LikelyRenames []struct {
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"likely_renames"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.LeftOut) != 1 || got.LeftOut[0] != `step.daemon["server[1]"]` ||
		len(got.LikelyRenames) != 1 || got.LikelyRenames[0].From != "module.chunk" || got.LikelyRenames[0].To != "module.chunkserver" {
		t.Errorf("plan JSON:\n%s", b.String())
	}
	p.LeftOut, p.Destroys = nil, nil
	b.Reset()
	if err := WritePlanJSON(&b, p, Remembered{}); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.Contains(s, "left_out") || strings.Contains(s, "likely_renames") {
		t.Errorf("a plan without them:\n%s", s)
	}
}

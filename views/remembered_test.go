package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"diffuser/state"
)

func rememberedFixture() *state.Inputs {
	return &state.Inputs{Provider: "docker", Site: "lab.hcl", SiteAbs: "/srv/lab.hcl",
		Recorded: time.Date(2025, 6, 1, 11, 2, 13, 0, time.UTC),
		Vars: map[string]state.Var{
			"servers":  {Type: json.RawMessage(`"number"`), Value: json.RawMessage(`6`)},
			"zones":    {Type: json.RawMessage(`["list","string"]`), Value: json.RawMessage("[\n  \"a\",\n  \"b\"\n]")},
			"opts":     {Type: json.RawMessage(`["map","string"]`), Value: json.RawMessage(`{"k":"v"}`)},
			"password": {Type: json.RawMessage(`"string"`), Sensitive: true, Digest: "sha256:0123456789abcdef0123", Salt: "00"},
		}}
}

// TestWriteRemembered: values as plan output shows them, sorted, provider
// and site last; a sensitive one never shows more than (sensitive).
func TestWriteRemembered(t *testing.T) {
	var b bytes.Buffer
	WriteRemembered(&b, Remembered{Workspace: "gfs", Used: rememberedFixture()})
	want := `Using remembered inputs from the last apply (diffuser vars gfs): opts = { k = "v" }, password = (sensitive), servers = 6, zones = ["a", "b"], provider = docker, site = lab.hcl` + "\n\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	WriteRemembered(&b, Remembered{Workspace: "gfs"})
	if b.Len() != 0 {
		t.Errorf("nothing used, yet: %q", b.String())
	}
	js, err := json.Marshal(rememberedJSON(Remembered{Workspace: "gfs", Used: rememberedFixture()}))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(js); got != `{"workspace":"gfs","variables":{"opts":{"k":"v"},"password":"(sensitive)","servers":6,"zones":["a","b"]},"provider":"docker","site":"lab.hcl"}` {
		t.Errorf("JSON: %s", got)
	}
}

// TestWriteVars: the table shows a sensitive variable's digest, shortened,
// and -json its full digest but neither its salt nor a value.
func TestWriteVars(t *testing.T) {
	var b bytes.Buffer
	WriteVars(&b, "gfs", rememberedFixture())
	for _, want := range []string{"  provider  docker\n", "  site      lab.hcl (/srv/lab.hcl)\n", "VARIABLE  VALUE\n",
		"password  (sensitive, sha256:0123456789ab…)\n", "zones     [\"a\", \"b\"]\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("vars lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	WriteVars(&b, "gfs", nil)
	if !strings.Contains(b.String(), "remembers no inputs") {
		t.Errorf("no inputs: %s", b.String())
	}
	b.Reset()
	if err := WriteVarsJSON(&b, "gfs", rememberedFixture()); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); !strings.Contains(s, `"digest": "sha256:0123456789abcdef0123"`) || strings.Contains(s, "salt") ||
		!strings.Contains(s, `"value": 6`) {
		t.Errorf("vars -json:\n%s", s)
	}
}

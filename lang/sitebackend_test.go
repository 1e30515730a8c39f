package lang_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/lang"
)

func writeSite(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "diffuser.hcl")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSiteBackend(t *testing.T) {
	p := writeSite(t, `
default_provider = "docker"
backend "s3" {
  bucket     = "team-state"
  key        = "diffuser/prod"
  endpoint   = "http://rgw.lab:7480"
  region     = "lab"
  profile    = "ops"
  path_style = true
}
`)
	site, diags := lang.LoadSite(p)
	if diags.HasErrors() {
		t.Fatalf("LoadSite:%s", diagString(diags))
	}
	b := site.Backend
	if b == nil || b.Type != "s3" || b.Bucket != "team-state" || b.Key != "diffuser/prod" || b.Endpoint != "http://rgw.lab:7480" ||
		b.Region != "lab" || b.Profile != "ops" || !b.PathStyle {
		t.Fatalf("backend = %+v", b)
	}
	if r := b.Range("bucket"); r.Start.Line != 4 || r.Filename != p {
		t.Errorf("bucket's range is %s, want line 4 of %s", r, p)
	}
	if r := b.Range("nope"); r.Start.Line != 3 {
		t.Errorf("an unset attribute's range is %s, want the block's header (line 3)", r)
	}
	none, diags := lang.LoadSite(writeSite(t, `default_provider = "docker"`))
	if diags.HasErrors() || none.Backend != nil {
		t.Fatalf("a site without a backend block has backend %+v (%s)", none.Backend, diagString(diags))
	}
}

func TestSiteBackendInvalid(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"missing bucket", "backend \"s3\" {\n  key = \"x\"\n}\n", `Missing required argument`},
		{"unknown type", "backend \"gcs\" {\n  bucket = \"b\"\n}\n", `Unknown backend type "gcs"`},
		{"local", "backend \"local\" {}\n", `default: remove the backend block`},
		{"unknown attribute", "backend \"s3\" {\n  bucket = \"b\"\n  access_key = \"AKIA\"\n}\n", `Unsupported argument`},
		{"variable", "backend \"s3\" {\n  bucket = var.bucket\n}\n", `Backend settings are literal`},
		{"not a string", "backend \"s3\" {\n  bucket = [\"a\"]\n}\n", `Expected a string`},
		{"path_style not bool", "backend \"s3\" {\n  bucket = \"b\"\n  path_style = \"maybe\"\n}\n", `Expected true or false`},
		{"duplicate", "backend \"s3\" {\n  bucket = \"a\"\n}\nbackend \"s3\" {\n  bucket = \"b\"\n}\n", `Duplicate backend block`},
		{"no label", "backend {\n  bucket = \"a\"\n}\n", `Missing type for backend`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeSite(t, c.text)
			_, diags := lang.LoadSite(p)
			if !diags.HasErrors() {
				t.Fatalf("accepted:\n%s", c.text)
			}
			got := diagString(diags)
			if !strings.Contains(got, c.want) {
				t.Fatalf("diagnostics %s do not say %q", got, c.want)
			}
			if diags[0].Subject == nil || diags[0].Subject.Filename != p || diags[0].Subject.Start.Line == 0 {
				t.Fatalf("the diagnostic has no file:line: %+v", diags[0])
			}
		})
	}
}
